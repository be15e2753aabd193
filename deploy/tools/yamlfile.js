// yamlfile.js: the YAML lint of deploy/: every document parsed as Kubernetes reads it
// (YAML 1.1, as sigs.k8s.io/yaml does: `0400` is octal, `yes` is true), with duplicate keys,
// parse errors and warnings all refused, each reported as file:line:column.
import { readFileSync } from "node:fs";
import { LineCounter, parseAllDocuments } from "yaml";

export class YamlError extends Error {}

export function parseYamlFile(path, text = readFileSync(path, "utf8")) {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { version: "1.1", uniqueKeys: true, prettyErrors: false, lineCounter: lc });
  const out = [];
  const problems = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    for (const e of [...doc.errors, ...doc.warnings]) {
      const pos = e.pos ? lc.linePos(e.pos[0]) : { line: 0, col: 0 };
      problems.push(`${path ?? "(inline)"}:${pos.line}:${pos.col}: ${e.message.split("\n")[0]}`);
    }
    if (doc.errors.length) continue;
    const v = doc.toJS({ maxAliasCount: 0 });
    if (v !== null && v !== undefined) out.push(v);
  }
  if (/\t/.test(text)) problems.push(`${path ?? "(inline)"}: a tab character (YAML indents with spaces)`);
  if (problems.length) throw new YamlError(problems.join("\n"));
  return out;
}
