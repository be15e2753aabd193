// kustomize.js: builds a kustomization the way `kubectl kustomize` does, for the features
// deploy/k8s uses and nothing more (any other field is an error, so a kustomization cannot
// grow a feature this builder would silently skip):
//   resources (files, and folders holding a kustomization.yaml), configMapGenerator and
//   secretGenerator (files, envs, literals; a content hash suffix on the name, references
//   in pod specs renamed), patches (strategic merge from `path`, matched on kind and name),
//   images, namespace, labels (includeSelectors / includeTemplates) and commonLabels.
// Like kustomize's default load restrictor, a kustomization reads files only from inside
// its own folder. The hash suffix is not byte-for-byte kustomize's (same idea: a digest of
// the generated object), so names differ from `kubectl kustomize` only in those 10 letters.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { parseYamlFile } from "./yamlfile.js";

const KUSTOMIZATION_FIELDS = new Set([
  "apiVersion", "kind", "resources", "namespace", "labels", "commonLabels", "patches",
  "configMapGenerator", "secretGenerator", "images",
]);
const CLUSTER_SCOPED = new Set([
  "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
  "PersistentVolume", "StorageClass", "PriorityClass", "IngressClass",
]);
const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);
// Strategic merge keys of the pod spec lists (k8s.io/api's patchMergeKey tags).
const MERGE_KEYS = {
  containers: "name", initContainers: "name", env: "name", volumes: "name",
  imagePullSecrets: "name", volumeMounts: "mountPath", ports: "containerPort",
};

class BuildError extends Error {}

function fail(where, msg) {
  throw new BuildError(`${where}: ${msg}`);
}

// A path named by a kustomization, refused when it leaves the kustomization's folder.
function inside(dir, rel, where) {
  const p = resolve(dir, rel);
  if (!existsSync(p)) fail(where, `${rel}: no such file or folder`);
  const root = realpathSync(dir);
  const real = realpathSync(p);
  if (real !== root && !real.startsWith(root + sep))
    fail(where, `${rel} is outside the kustomization's folder (kustomize refuses it)`);
  return p;
}

export function podTemplate(obj) {
  if (WORKLOADS.has(obj.kind)) return obj.spec?.template;
  return undefined;
}

function eachContainer(spec, fn) {
  for (const list of ["initContainers", "containers"])
    for (const c of spec?.[list] ?? []) fn(c, list);
}

function hashSuffix(obj) {
  const h = createHash("sha256").update(JSON.stringify([obj.kind, obj.metadata.name, obj.type ?? "", obj.data ?? {}])).digest("hex");
  // kustomize maps its digest onto consonants and digits, 10 of them.
  const alphabet = "bcdfghkmt2456789";
  return [...h.slice(0, 10)].map((c) => alphabet[parseInt(c, 16)]).join("");
}

function readEnvFile(path, where) {
  const out = {};
  readFileSync(path, "utf8").split("\n").forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith("#")) return;
    const eq = t.indexOf("=");
    if (eq <= 0) fail(`${where}:${i + 1}`, "expected KEY=VALUE");
    out[t.slice(0, eq)] = t.slice(eq + 1);
  });
  return out;
}

function generate(dir, gen, kind, where) {
  for (const k of Object.keys(gen))
    if (!["name", "files", "envs", "literals", "type"].includes(k)) fail(where, `unsupported generator field ${k}`);
  if (!gen.name) fail(where, "generator without a name");
  const data = {};
  const add = (k, v) => {
    if (k in data) fail(where, `key ${k} twice`);
    data[k] = v;
  };
  for (const f of gen.files ?? []) {
    const [key, rel] = f.includes("=") ? f.split("=", 2) : [f.split("/").pop(), f];
    add(key, readFileSync(inside(dir, rel, where), "utf8"));
  }
  for (const e of gen.envs ?? [])
    for (const [k, v] of Object.entries(readEnvFile(inside(dir, e, where), `${where} ${e}`))) add(k, v);
  for (const l of gen.literals ?? []) {
    const eq = l.indexOf("=");
    if (eq <= 0) fail(where, `literal ${l}: expected KEY=VALUE`);
    add(l.slice(0, eq), l.slice(eq + 1));
  }
  const obj = { apiVersion: "v1", kind, metadata: { name: gen.name } };
  if (kind === "Secret") {
    obj.type = gen.type ?? "Opaque";
    obj.data = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
  } else {
    obj.data = data;
  }
  const renamed = `${gen.name}-${hashSuffix(obj)}`;
  obj.metadata.name = renamed;
  return { obj, from: gen.name, to: renamed };
}

// References to ConfigMaps and Secrets that kustomize renames (its nameReference config for
// pod specs; custom resources such as KEDA's are not renamed by kustomize, nor here).
function renameRefs(obj, renames) {
  const spec = podTemplate(obj)?.spec;
  if (!spec) return;
  const cm = renames.ConfigMap, sec = renames.Secret;
  const fix = (table, holder, field) => {
    if (holder && table.has(holder[field])) holder[field] = table.get(holder[field]);
  };
  for (const v of spec.volumes ?? []) {
    fix(cm, v.configMap, "name");
    fix(sec, v.secret, "secretName");
    for (const s of v.projected?.sources ?? []) {
      fix(cm, s.configMap, "name");
      fix(sec, s.secret, "name");
    }
  }
  for (const p of spec.imagePullSecrets ?? []) fix(sec, p, "name");
  eachContainer(spec, (c) => {
    for (const e of c.env ?? []) {
      fix(cm, e.valueFrom?.configMapKeyRef, "name");
      fix(sec, e.valueFrom?.secretKeyRef, "name");
    }
    for (const e of c.envFrom ?? []) {
      fix(cm, e.configMapRef, "name");
      fix(sec, e.secretRef, "name");
    }
  });
}

const isMap = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// Strategic merge patch, for the pod spec's keyed lists; other lists are replaced, null
// deletes a field, maps merge.
export function strategicMerge(base, patch, key = "") {
  if (Array.isArray(patch)) {
    const mk = MERGE_KEYS[key];
    if (!mk || !Array.isArray(base)) return structuredClone(patch);
    const out = structuredClone(base);
    for (const item of patch) {
      const i = out.findIndex((b) => isMap(b) && isMap(item) && b[mk] === item[mk]);
      if (i >= 0) out[i] = strategicMerge(out[i], item);
      else out.push(structuredClone(item));
    }
    return out;
  }
  if (!isMap(patch) || !isMap(base)) return structuredClone(patch);
  const out = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = k in out ? strategicMerge(out[k], v, k) : structuredClone(v);
  }
  return out;
}

function applyPatch(resources, patch, where) {
  if (!patch?.kind || !patch?.metadata?.name) fail(where, "a patch must name its kind and metadata.name");
  const hits = resources.filter(
    (r) => r.kind === patch.kind && r.metadata.name === patch.metadata.name &&
      (!patch.metadata.namespace || patch.metadata.namespace === r.metadata.namespace),
  );
  if (hits.length !== 1)
    fail(where, `patch for ${patch.kind}/${patch.metadata.name} matches ${hits.length} resources`);
  const i = resources.indexOf(hits[0]);
  resources[i] = strategicMerge(hits[0], patch);
}

function setLabels(obj, pairs, selectors, templates) {
  obj.metadata.labels = { ...(obj.metadata.labels ?? {}), ...pairs };
  if (selectors) {
    if (obj.kind === "Service" && obj.spec?.selector) Object.assign(obj.spec.selector, pairs);
    if (WORKLOADS.has(obj.kind) && obj.spec?.selector)
      obj.spec.selector.matchLabels = { ...(obj.spec.selector.matchLabels ?? {}), ...pairs };
  }
  const t = podTemplate(obj);
  if ((selectors || templates) && t) t.metadata = { ...(t.metadata ?? {}), labels: { ...(t.metadata?.labels ?? {}), ...pairs } };
}

function setImages(obj, images) {
  const spec = podTemplate(obj)?.spec;
  if (!spec) return;
  eachContainer(spec, (c) => {
    const m = /^([^@:]+(?::\d+\/[^@:]+)?)(?::([^@]+))?(?:@(.+))?$/.exec(c.image ?? "");
    if (!m) return;
    for (const im of images) {
      if (im.name !== m[1]) continue;
      const name = im.newName ?? m[1];
      if (im.digest) c.image = `${name}@${im.digest}`;
      else if (im.newTag) c.image = `${name}:${im.newTag}`;
      else c.image = name + (m[2] ? `:${m[2]}` : "");
    }
  });
}

// Builds the kustomization in `dir`; returns the list of objects.
export function build(dir, renames = { ConfigMap: new Map(), Secret: new Map() }) {
  const kpath = join(dir, "kustomization.yaml");
  if (!existsSync(kpath)) fail(dir, "no kustomization.yaml");
  const where = relative(process.cwd(), kpath) || kpath;
  const docs = parseYamlFile(kpath);
  if (docs.length !== 1) fail(where, "expected one YAML document");
  const k = docs[0];
  for (const f of Object.keys(k)) if (!KUSTOMIZATION_FIELDS.has(f)) fail(where, `unsupported field ${f}`);
  if (k.kind !== "Kustomization" || !String(k.apiVersion).startsWith("kustomize.config.k8s.io/"))
    fail(where, "not a kustomize.config.k8s.io Kustomization");

  let resources = [];
  for (const r of k.resources ?? []) {
    const p = resolve(dir, r);
    if (!existsSync(p)) fail(where, `resource ${r}: no such file or folder`);
    if (statSync(p).isDirectory()) resources.push(...build(p, renames));
    else for (const obj of parseYamlFile(inside(dir, r, where))) resources.push(obj);
  }
  for (const [field, kind] of [["configMapGenerator", "ConfigMap"], ["secretGenerator", "Secret"]]) {
    for (const g of k[field] ?? []) {
      const { obj, from, to } = generate(dir, g, kind, `${where} ${field} ${g.name}`);
      renames[kind].set(from, to);
      resources.push(obj);
    }
  }
  for (const obj of resources) {
    if (!obj?.kind || !obj?.metadata?.name) fail(where, "a resource without kind or metadata.name");
    renameRefs(obj, renames);
  }
  for (const p of k.patches ?? []) {
    for (const f of Object.keys(p)) if (!["path", "patch"].includes(f)) fail(where, `unsupported patch field ${f}`);
    const pdocs = p.path ? parseYamlFile(inside(dir, p.path, where)) : parseYamlFile(null, p.patch);
    for (const patch of pdocs) applyPatch(resources, patch, `${where} patch ${p.path ?? "(inline)"}`);
  }
  if (k.namespace)
    for (const obj of resources) if (!CLUSTER_SCOPED.has(obj.kind)) obj.metadata.namespace = k.namespace;
  if (k.commonLabels) for (const obj of resources) setLabels(obj, k.commonLabels, true, true);
  for (const l of k.labels ?? [])
    for (const obj of resources) setLabels(obj, l.pairs ?? {}, !!l.includeSelectors, !!l.includeTemplates);
  if (k.images) for (const obj of resources) setImages(obj, k.images);

  const seen = new Set();
  for (const obj of resources) {
    const id = `${obj.apiVersion} ${obj.kind} ${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
    if (seen.has(id)) fail(where, `two resources are ${id}`);
    seen.add(id);
  }
  return resources;
}

export { BuildError };
