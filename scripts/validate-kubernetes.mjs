// Validates Kubernetes objects (a JSON array on stdin) against the schemas of
// the npm packages kubernetes-models and @kubernetes-models/prometheus-operator,
// offline. Usage: node scripts/validate-kubernetes.mjs NODE_MODULES_DIR < objects.json
// Prints one line per object; exits 1 if any object has no schema or is invalid.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.argv[2];
const objects = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
for (const object of objects) {
  const { apiVersion, kind } = object;
  const name = `${kind}/${object.metadata?.name ?? "?"}`;
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  const base = group === "monitoring.coreos.com"
    ? join(modules, "@kubernetes-models/prometheus-operator", group, version)
    : join(modules, "kubernetes-models", ...(group ? [group] : []), version);
  let Model;
  try {
    Model = (await import(pathToFileURL(join(base, `${kind}.js`)).href))[kind];
  } catch (e) {
    console.log(`NO SCHEMA ${name} (${apiVersion}): ${e.message}`);
    failed++;
    continue;
  }
  try {
    new Model(object).validate();
    console.log(`valid ${name} (${apiVersion})`);
  } catch (e) {
    console.log(`INVALID ${name} (${apiVersion}): ${e.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
