// Bundles the CLI into dist/vigil.mjs, its shard worker into dist/shard-worker.mjs and the
// console into dist/console (run by `npm install` through `prepare`, and by the tests); with
// --bench, also the benchmark into dist/bench.mjs, so it times the code as shipped.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { build } from "esbuild";
import plugins from "./esbuild-plugins.cjs";

const common = {
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  sourcemap: "linked",
  logLevel: "warning",
  plugins,
  // CommonJS dependencies inside an ES module bundle need a require of their own.
  banner: { js: "import { createRequire as __vigilRequire } from 'node:module'; const require = __vigilRequire(import.meta.url);" },
};

await build({ ...common, entryPoints: ["cli/vigil.ts"], outfile: "dist/vigil.mjs" });
// The worker threads the local mode runs a metric set's shards on (shared/runtime/shard-workers.ts finds it beside the bundle).
await build({ ...common, entryPoints: ["shared/runtime/shard-worker.ts"], outfile: "dist/shard-worker.mjs" });
await buildConsole();
// The bench imports its tools (esbuild, yaml) from node_modules; Vigil's own code is bundled.
if (process.argv.includes("--bench")) await build({ ...common, entryPoints: ["bench/run.ts"], outfile: "dist/bench.mjs", packages: "external" });

/**
 * The console: its early script (console/app/start.ts, which starts the opened page's data),
 * the console itself and one stylesheet, minified, code they share in chunks, every file
 * named by its content's hash (so `vigil serve` can let browsers keep them), and the page
 * that loads them: every script asked for at once, the early one run first.
 */
async function buildConsole() {
  await rm("dist/console", { recursive: true, force: true });
  const { metafile } = await build({
    entryPoints: ["console/app/start.ts", "console/app/main.tsx"],
    outdir: "dist/console/assets",
    entryNames: "[name]-[hash]",
    chunkNames: "chunk-[hash]",
    bundle: true,
    splitting: true,
    minify: true,
    format: "esm",
    target: ["es2022", "chrome110", "firefox110", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    tsconfig: "console/tsconfig.json",
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  const outputs = Object.entries(metafile.outputs).map(([path, output]) => ({ name: basename(path), entry: output.entryPoint }));
  const entry = (source) => outputs.find((o) => o.entry === source).name;
  const chunks = outputs.filter((o) => o.name.startsWith("chunk-") && o.name.endsWith(".js")).map((o) => o.name);
  const style = outputs.find((o) => o.name.endsWith(".css")).name;
  const asset = (name) => `/console/assets/${name}`;
  await mkdir("dist/console", { recursive: true });
  await writeFile(
    "dist/console/index.html",
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil</title>
<link rel="icon" href="data:,">
<!--vigil:boot-->
<link rel="stylesheet" href="${asset(style)}">
${chunks.map((c) => `<link rel="modulepreload" href="${asset(c)}">`).join("\n")}
<script type="module" src="${asset(entry("console/app/start.ts"))}"></script>
<script type="module" src="${asset(entry("console/app/main.tsx"))}"></script>
</head>
<body>
<div id="app"><noscript>The Vigil console needs JavaScript.</noscript></div>
</body>
</html>
`,
  );
}
