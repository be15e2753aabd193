// validate.js: the offline check of deploy/ (run by tests/cli/deploy.sh, so by `make test`).
//   node validate.js [--deploy DIR] [--out DIR]
// 1. Lints every YAML file under deploy/ (yamlfile.js).
// 2. Builds each overlay of deploy/k8s/overlays as kustomize would (kustomize.js), in a
//    temporary copy where the never-committed secret files get placeholder contents.
// 3. Validates every object against its schema: Kubernetes' (kubernetes-models, generated
//    from the Kubernetes OpenAPI) and KEDA's ScaledObject (@kubernetes-models/keda, from
//    KEDA's CRD). These schemas check types, enums and required fields, not unknown field
//    names, so step 4 also checks that the fields this deployment relies on are where
//    Kubernetes looks for them.
// 4. Checks what no schema can: references between objects (volumes, Secrets and their keys,
//    Service selectors and ports, probes' ports, $(VAR) in args, the autoscaler's target),
//    the agreement of maxReplicaCount, the per-pod Services and nginx's upstream list, and
//    what each overlay promises (the drain, probes, resources, the GPU).
// With --out, writes each overlay's build to DIR/<overlay>.yaml. Exit 1 on any problem.
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { build, podTemplate } from "./kustomize.js";
import { parseYamlFile } from "./yamlfile.js";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const deployDir = resolve(opt("--deploy", join(here, "..")));
const outDir = opt("--out", null);

const problems = [];
const problem = (where, msg) => problems.push(`${where}: ${msg}`);

// What the overlays must hold beyond the schemas, per overlay.
const OVERLAY_EXPECT = {
  cpu: { encoder: "libx264", gpu: false },
  gpu: { encoder: "h264_nvenc", gpu: true },
};
// Secret files that are never committed (deploy/k8s/base/secrets/README.md).
const PLACEHOLDER_SECRETS = {
  "k8s/base/secrets/keys": "# placeholder for the offline check, not a key file\n",
  "k8s/base/secrets/db.env": "CIAK_DB=postgresql://ciak@db.invalid:5432/ciak?sslmode=verify-full\nPGPASSWORD=placeholder\n",
};

function yamlFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    if (e === "node_modules" || e.startsWith(".")) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(e)) out.push(p);
  }
  return out;
}

async function modelFor(obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  if (!/^[A-Za-z0-9.]*$/.test(group) || !/^[A-Za-z0-9]+$/.test(version) || !/^[A-Za-z]+$/.test(obj.kind))
    return null;
  const spec = group === "keda.sh"
    ? `@kubernetes-models/keda/keda.sh/${version}/${obj.kind}`
    : `kubernetes-models/${group ? `${group}/` : ""}${version}/${obj.kind}`;
  try {
    const m = await import(spec);
    return m[obj.kind];
  } catch {
    return null;
  }
}

async function validateSchemas(name, objs) {
  for (const obj of objs) {
    const where = `${name}: ${obj.kind}/${obj.metadata?.name}`;
    const Model = await modelFor(obj);
    if (!Model) {
      problem(where, `no schema for ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (e) {
      problem(where, e.message);
    }
  }
}

const find = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);

function checkPods(name, objs) {
  for (const w of objs) {
    const t = podTemplate(w);
    if (!t) continue;
    const where = `${name}: ${w.kind}/${w.metadata.name}`;
    const sel = w.spec.selector?.matchLabels ?? {};
    for (const [k, v] of Object.entries(sel))
      if (t.metadata?.labels?.[k] !== v) problem(where, `selector ${k}=${v} does not match the pod template's labels`);
    const vols = new Map((t.spec.volumes ?? []).map((v) => [v.name, v]));
    for (const v of vols.values()) {
      if (v.secret && !find(objs, "Secret", v.secret.secretName)) problem(where, `volume ${v.name}: no Secret ${v.secret.secretName}`);
      if (v.configMap && !find(objs, "ConfigMap", v.configMap.name)) problem(where, `volume ${v.name}: no ConfigMap ${v.configMap.name}`);
    }
    for (const list of ["initContainers", "containers"]) {
      for (const c of t.spec[list] ?? []) {
        const cw = `${where} container ${c.name}`;
        for (const m of c.volumeMounts ?? []) if (!vols.has(m.name)) problem(cw, `mount ${m.mountPath}: no volume ${m.name}`);
        const env = new Set((c.env ?? []).map((e) => e.name));
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
          if (!ref) continue;
          const kind = e.valueFrom.secretKeyRef ? "Secret" : "ConfigMap";
          const o = find(objs, kind, ref.name);
          if (!o) problem(cw, `env ${e.name}: no ${kind} ${ref.name}`);
          else if (!(ref.key in (o.data ?? {}))) problem(cw, `env ${e.name}: ${kind} ${ref.name} has no key ${ref.key}`);
        }
        for (const a of [...(c.command ?? []), ...(c.args ?? [])])
          for (const [, v] of String(a).matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g))
            if (!env.has(v)) problem(cw, `$(${v}) in its command line is not one of its env variables`);
        const ports = new Set((c.ports ?? []).map((p) => p.name));
        for (const pr of ["readinessProbe", "livenessProbe", "startupProbe"]) {
          const port = c[pr]?.httpGet?.port ?? c[pr]?.tcpSocket?.port;
          if (typeof port === "string" && !ports.has(port)) problem(cw, `${pr}: no port named ${port}`);
        }
        if (list === "containers") {
          for (const pr of ["readinessProbe", "livenessProbe"]) if (!c[pr]) problem(cw, `no ${pr}`);
          if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) problem(cw, "no cpu and memory requests");
          if (!c.resources?.limits?.memory) problem(cw, "no memory limit");
          if (!c.lifecycle?.preStop) problem(cw, "no preStop hook (drain)");
        }
      }
    }
  }
}

function podsSelected(objs, sel) {
  const out = [];
  for (const w of objs) {
    const t = podTemplate(w);
    if (!t) continue;
    const labels = { ...(t.metadata?.labels ?? {}) };
    // A StatefulSet's pods also carry their own name (ciak-0, ...) in this label.
    const podName = sel["statefulset.kubernetes.io/pod-name"];
    if (w.kind === "StatefulSet" && podName && podName.startsWith(`${w.metadata.name}-`)) labels["statefulset.kubernetes.io/pod-name"] = podName;
    if (Object.entries(sel).every(([k, v]) => labels[k] === v)) out.push(w);
  }
  return out;
}

function checkServices(name, objs) {
  for (const s of objs.filter((o) => o.kind === "Service")) {
    const where = `${name}: Service/${s.metadata.name}`;
    const ws = podsSelected(objs, s.spec?.selector ?? {});
    if (!ws.length) {
      problem(where, "its selector matches no pod template");
      continue;
    }
    for (const p of s.spec.ports ?? []) {
      if (typeof p.targetPort !== "string") continue;
      const ok = ws.some((w) => podTemplate(w).spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === p.targetPort)));
      if (!ok) problem(where, `targetPort ${p.targetPort} is no container's port`);
    }
  }
}

// The one ciak-specific agreement: nodes the autoscaler may start == per-pod Services ==
// nginx's upstream servers, and every upstream names a Service port.
function checkFleet(name, objs, expect) {
  const so = objs.find((o) => o.kind === "ScaledObject");
  const sts = find(objs, "StatefulSet", "ciak");
  if (!so || !sts) return problem(name, "no ScaledObject or no StatefulSet ciak");
  const where = `${name}: ScaledObject/${so.metadata.name}`;
  const ref = so.spec.scaleTargetRef;
  if (!find(objs, ref.kind ?? "Deployment", ref.name)) problem(where, `scaleTargetRef ${ref.kind ?? "Deployment"}/${ref.name} is not in the build`);
  const min = so.spec.minReplicaCount ?? 0, max = so.spec.maxReplicaCount ?? 100;
  if (min > max) problem(where, `minReplicaCount ${min} > maxReplicaCount ${max}`);
  if (!(so.spec.triggers ?? []).length) problem(where, "no triggers");
  for (const t of so.spec.triggers ?? []) {
    if (t.type === "prometheus") {
      for (const f of ["serverAddress", "query", "threshold"]) if (!t.metadata?.[f]) problem(where, `prometheus trigger without ${f}`);
      for (const [, ns] of String(t.metadata?.query ?? "").matchAll(/namespace="([^"]*)"/g))
        if (ns !== sts.metadata.namespace) problem(where, `the query reads namespace "${ns}", the nodes run in "${sts.metadata.namespace}"`);
    }
  }
  const perPod = objs.filter((o) => o.kind === "Service" && o.spec?.selector?.["statefulset.kubernetes.io/pod-name"]);
  const cm = objs.find((o) => o.kind === "ConfigMap" && o.data?.["upstreams.conf"]);
  if (!cm) return problem(name, "no ConfigMap with nginx's upstreams.conf");
  for (const f of ["nginx.conf", "listen.conf"]) if (!cm.data[f]) problem(`${name}: ConfigMap/${cm.metadata.name}`, `no ${f}`);
  const servers = [...cm.data["upstreams.conf"].matchAll(/^\s*server\s+([^\s:;]+):(\d+)/gm)].map((m) => [m[1], Number(m[2])]);
  if (servers.length !== max || perPod.length !== max)
    problem(where, `maxReplicaCount ${max}, per-pod Services ${perPod.length}, nginx upstream servers ${servers.length}: they must agree`);
  for (const [host, port] of servers) {
    const s = find(objs, "Service", host);
    if (!s) problem(`${name}: upstreams.conf`, `server ${host}: no Service of that name`);
    else if (!(s.spec.ports ?? []).some((p) => p.port === port)) problem(`${name}: upstreams.conf`, `server ${host}:${port}: the Service has no port ${port}`);
  }
  for (let i = 0; i < max; i++)
    if (!perPod.some((s) => s.spec.selector["statefulset.kubernetes.io/pod-name"] === `${sts.metadata.name}-${i}`))
      problem(name, `no per-pod Service for ${sts.metadata.name}-${i}`);

  const t = podTemplate(sts).spec;
  const c = t.containers.find((x) => x.name === "ciak");
  if (!c) return problem(name, "StatefulSet ciak has no container ciak");
  if ((t.terminationGracePeriodSeconds ?? 30) < 60) problem(name, "terminationGracePeriodSeconds under 60 s: a node cannot finish what it holds");
  if (c.readinessProbe?.httpGet?.path !== "/healthz") problem(name, "ciak's readiness probe is not GET /healthz");
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
  if (expect) {
    if (env.CIAK_ENCODER !== expect.encoder) problem(name, `encoder ${env.CIAK_ENCODER}, expected ${expect.encoder}`);
    const gpu = c.resources?.limits?.["nvidia.com/gpu"];
    if (expect.gpu) {
      if (String(gpu) !== "1") problem(name, `limits nvidia.com/gpu is ${gpu}, expected 1`);
      const caps = String(env.NVIDIA_DRIVER_CAPABILITIES ?? "").split(",");
      for (const cap of ["graphics", "video"]) if (!caps.includes(cap)) problem(name, `NVIDIA_DRIVER_CAPABILITIES lacks ${cap}`);
    } else if (gpu !== undefined) problem(name, "a CPU overlay asks for a GPU");
  }
}

async function main() {
  for (const f of yamlFiles(deployDir)) {
    try {
      parseYamlFile(f);
    } catch (e) {
      problems.push(e.message);
    }
  }
  const work = mkdtempSync(join(tmpdir(), "ciak-deploy-"));
  try {
    // The npm packages and an operator's real secret files stay out of the copy.
    const skip = (s) => s.includes("node_modules") || Object.keys(PLACEHOLDER_SECRETS).some((r) => s.endsWith(r));
    cpSync(deployDir, join(work, "deploy"), { recursive: true, filter: (s) => !skip(s) });
    for (const [rel, text] of Object.entries(PLACEHOLDER_SECRETS)) writeFileSync(join(work, "deploy", rel), text);
    const overlays = join(work, "deploy", "k8s", "overlays");
    const names = readdirSync(overlays).filter((n) => existsSync(join(overlays, n, "kustomization.yaml")));
    if (!names.length) problem(relative(process.cwd(), overlays), "no overlays");
    for (const n of names) {
      let objs;
      try {
        objs = build(join(overlays, n));
      } catch (e) {
        problems.push(`overlay ${n}: ${e.message}`);
        continue;
      }
      await validateSchemas(n, objs);
      checkPods(n, objs);
      checkServices(n, objs);
      checkFleet(n, objs, OVERLAY_EXPECT[n]);
      if (!OVERLAY_EXPECT[n]) problem(n, "an overlay validate.js does not know: add its expectations to OVERLAY_EXPECT");
      if (outDir) writeFileSync(join(outDir, `${n}.yaml`), objs.map((o) => stringify(o)).join("---\n"));
      const kinds = objs.map((o) => o.kind).reduce((m, k) => ((m[k] = (m[k] ?? 0) + 1), m), {});
      console.log(`overlay ${n}: ${objs.length} objects (${Object.entries(kinds).map(([k, v]) => `${v} ${k}`).join(", ")})`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (problems.length) {
    console.error(`deploy: ${problems.length} problem(s)`);
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log("deploy: every YAML file parses, every overlay builds and validates");
}

await main();
