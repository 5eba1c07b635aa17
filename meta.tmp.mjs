import { build } from "esbuild";
const fn = process.argv[2];
await build({ entryPoints: [`functions/${fn}/handler.ts`], outfile: `/tmp/b-${fn}.mjs`, bundle: true, minify: true, platform: "node", format: "esm", target: "node22", logLevel: "error", mainFields: ["module", "main"], banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" }, metafile: false });
