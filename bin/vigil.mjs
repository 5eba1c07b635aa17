#!/usr/bin/env node
// The CLI is bundled by `npm run build` (run on `npm install`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const bundle = fileURLToPath(new URL("../dist/vigil.mjs", import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write("vigil: the CLI is not built yet; run `npm run build` first\n");
  process.exit(1);
}
await import(bundle);
