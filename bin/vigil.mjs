#!/usr/bin/env node
// The CLI is bundled by `npm run build` (run on `npm install`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The local mode keeps its records with node:sqlite, unflagged from Node 22.13. The project
// installs such a Node (the `node` dev dependency), which npx and npm run put first on PATH.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(`vigil: needs Node 22.13 or later, this is Node ${process.versions.node}; run it as \`npx vigil …\` (or \`npm run demo\`, or \`node_modules/.bin/node bin/vigil.mjs …\`), which use the Node the project installs\n`);
  process.exit(1);
}

const bundle = fileURLToPath(new URL("../dist/vigil.mjs", import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write("vigil: the CLI is not built yet; run `npm run build` first\n");
  process.exit(1);
}
await import(bundle);
