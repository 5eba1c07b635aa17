// esbuild plugins every Vigil bundle is built with: serverless-esbuild requires this file
// (serverless.yml's custom.esbuild.plugins), scripts/build.mjs and the bench import it.
"use strict";

const NAMESPACE = "http-without-undici";

/** `node:http`'s exports whose first read loads undici; each is also a global of the same name. */
const UNDICI_EXPORTS = new Set(["WebSocket", "CloseEvent", "MessageEvent"]);

/**
 * `node:http`, imported as an ES module (statically or by `import()`), is read through
 * `require`, without the three exports that load undici.
 *
 * An import of a builtin makes Node build an ES module facade of it, and the facade reads
 * every export, lazy ones included: `node:http`'s `WebSocket`, `CloseEvent` and
 * `MessageEvent` load undici, about 25 ms of CPU on Node 22, as much as the rest of
 * `node:http`. The AWS SDK imports `node:http` at a client's first request, and the local
 * mode's server at its start, so each paid for a WebSocket client nothing uses. `require`
 * hands over the module object itself; every other export is read from it once, at the
 * import, as the facade does. A named import of one of the three fails the build (a
 * namespace's `WebSocket` only warns, and `import()` answers it undefined: use the global). Other
 * builtins' facades cost what their `require` does (measured on Node 22), and are left as
 * they are.
 */
const httpWithoutUndici = {
  name: "http-without-undici",
  setup(build) {
    build.onResolve({ filter: /^(node:)?http$/ }, (args) => {
      if (args.kind !== "import-statement" && args.kind !== "dynamic-import") return undefined;
      return { path: "node:http", namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
      const names = Object.keys(require(args.path)).filter((name) => name !== "default" && !UNDICI_EXPORTS.has(name));
      // `require` is the bundle's own (its banner makes it); local names start with $$, which no export of node:http does.
      const contents = [
        `const $$m = require(${JSON.stringify(args.path)});`,
        `export default $$m;`,
        ...names.map((name, i) => `const $$${i} = /* @__PURE__ */ (() => $$m[${JSON.stringify(name)}])(); export { $$${i} as ${JSON.stringify(name)} };`),
      ].join("\n");
      return { contents, loader: "js" };
    });
  },
};

/**
 * An AWS SDK package's `package.json`, imported by its runtime config for the version it
 * puts in the user agent, is bundled as its name and version alone. Whole, it is 2.4 KB of
 * scripts and dependencies in every cold start (DynamoDB's), and more in the clients loaded
 * on first use. Every `@aws-sdk` package reads `version` and nothing else of it.
 */
const sdkPackageVersion = {
  name: "sdk-package-version",
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]@aws-sdk[\\/][^\\/]+[\\/]package\.json$/ }, async (args) => {
      const { name, version } = JSON.parse(await require("node:fs/promises").readFile(args.path, "utf8"));
      return { contents: JSON.stringify({ name, version }), loader: "json" };
    });
  },
};

module.exports = [httpWithoutUndici, sdkPackageVersion];
