// Bundles the CLI into dist/vigil.mjs and its shard worker into dist/shard-worker.mjs (run by `npm install` through `prepare`, and by the
// tests); with --bench, also the benchmark into dist/bench.mjs, so it times the code as shipped.
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  sourcemap: "linked",
  logLevel: "warning",
  // CommonJS dependencies inside an ES module bundle need a require of their own.
  banner: { js: "import { createRequire as __vigilRequire } from 'node:module'; const require = __vigilRequire(import.meta.url);" },
};

await build({ ...common, entryPoints: ["cli/vigil.ts"], outfile: "dist/vigil.mjs" });
// The worker threads the local mode runs a metric set's shards on (shared/runtime/shard-workers.ts finds it beside the bundle).
await build({ ...common, entryPoints: ["shared/runtime/shard-worker.ts"], outfile: "dist/shard-worker.mjs" });
// The bench imports its tools (esbuild, yaml) from node_modules; Vigil's own code is bundled.
if (process.argv.includes("--bench")) await build({ ...common, entryPoints: ["bench/run.ts"], outfile: "dist/bench.mjs", packages: "external" });
