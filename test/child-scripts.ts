import { build } from "esbuild";

/** `entry` (a TypeScript module of the tests) bundled into `outfile`, for a child process `node` runs as it is. */
export async function bundledScript(entry: string, outfile: string): Promise<string> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    logLevel: "warning",
    // Dependencies that are CommonJS require what they need.
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  });
  return outfile;
}
