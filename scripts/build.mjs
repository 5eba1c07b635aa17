// Bundles the CLI into dist/vigil.mjs (run by `npm install` through `prepare`, and by the tests).
import { build } from "esbuild";

await build({
  entryPoints: ["cli/vigil.ts"],
  outfile: "dist/vigil.mjs",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: "linked",
  logLevel: "warning",
  // CommonJS dependencies inside an ES module bundle need a require of their own.
  banner: { js: "import { createRequire as __vigilRequire } from 'node:module'; const require = __vigilRequire(import.meta.url);" },
});
