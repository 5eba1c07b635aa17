import { spawnSync } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { build, type Plugin } from "esbuild";
import { describe, expect, it } from "vitest";
import { tempDir } from "../builders.ts";

const plugins = createRequire(import.meta.url)("../../scripts/esbuild-plugins.cjs") as Plugin[];
// Lambda's runtime: the project's own Node 22 (node:http's undici exports are Node 22's).
const NODE_22 = resolve("node_modules/.bin/node");
const BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** `source` bundled as a function is (ES module, split, the banner and main fields of serverless.yml), in a folder of its own. */
async function bundled(source: string): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, "entry.mjs"), source);
  await build({ entryPoints: [join(dir, "entry.mjs")], outdir: join(dir, "out"), bundle: true, platform: "node", format: "esm", target: "node22", splitting: true, banner: { js: BANNER }, mainFields: ["module", "main"], plugins, nodePaths: [resolve("node_modules")], logLevel: "silent" });
  return join(dir, "out", "entry.js");
}

describe("esbuild plugins", () => {
  it("reads node:http, imported statically and by import(), without loading undici, and hands over node:http's own exports", async () => {
    const file = await bundled(`
      import http, { Agent, request } from "node:http";
      const loaded = await import("node:http");
      const real = require("node:http");
      console.log(JSON.stringify({
        same: http === real && Agent === real.Agent && request === real.request && loaded.default === real && loaded.request === real.request && loaded.globalAgent === real.globalAgent,
        undici: process.moduleLoadList.some((m) => m.includes("undici")),
        webSocketExported: "WebSocket" in loaded,
      }));
    `);
    const r = spawnSync(NODE_22, [file], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ same: true, undici: false, webSocketExported: false });
  });

  it("bundles an AWS SDK client's package.json as its name and version: the client still names its version in the user agent", async () => {
    const file = await bundled(`
      import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
      const client = new DynamoDBClient({ region: "us-east-1" });
      console.log(JSON.stringify(await client.config.defaultUserAgentProvider()));
    `);
    const installed = createRequire(import.meta.url)("@aws-sdk/client-dynamodb/package.json") as { version: string; scripts: Record<string, string> };
    const r = spawnSync(NODE_22, [file], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toContainEqual(["api/DynamoDB", installed.version]);
    const shipped = await Promise.all((await readdir(dirname(file))).map((f) => readFile(join(dirname(file), f), "utf8")));
    expect(shipped.join("\n")).not.toContain(Object.values(installed.scripts)[0]);
  });

  it("fails the build on a static import of an export node:http reads from undici", async () => {
    await expect(bundled(`import { WebSocket } from "node:http"; console.log(WebSocket);`)).rejects.toThrow(/No matching export in "[^"]*node:http" for import "WebSocket"/);
  });
});
