// Finds and loads the official TypeScript SDK (@modelcontextprotocol/sdk)
// for the e2e client scripts: from GATEHOUSE_NODE_MODULES, else
// $GATEHOUSE_TOOLS/npm/node_modules, else the repository's
// .tools/npm/node_modules (installed by `make tools`).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export function findNodeModules() {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [];
  if (process.env.GATEHOUSE_NODE_MODULES) candidates.push(process.env.GATEHOUSE_NODE_MODULES);
  if (process.env.GATEHOUSE_TOOLS) candidates.push(join(process.env.GATEHOUSE_TOOLS, "npm", "node_modules"));
  candidates.push(resolve(here, "..", "..", "..", ".tools", "npm", "node_modules"));
  for (const c of candidates) {
    if (existsSync(join(c, "@modelcontextprotocol", "sdk", "package.json"))) return resolve(c);
  }
  throw new Error(
    `@modelcontextprotocol/sdk not found in ${candidates.join(", ")} — run 'make tools' or set GATEHOUSE_TOOLS`,
  );
}

// sdkImporter returns a function importing one of the SDK's ESM modules
// ("client/index.js", "types.js", ...) from node_modules dir nm.
export function sdkImporter(nm) {
  return (sub) => import(pathToFileURL(join(nm, "@modelcontextprotocol", "sdk", "dist", "esm", sub)).href);
}
