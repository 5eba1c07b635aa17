import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdir, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, tenantsFromConfig } from "../../cli/serve.ts";
import { csvOf, localAt, shopPoints, T0, tempDir } from "../builders.ts";

/**
 * Python users reach `vigil serve` through boto3 with the service model shipped in aws-data/
 * (botocore no longer has one): Debian's python3-boto3 (which .ci/run installs), pointed at
 * it by AWS_DATA_PATH. The paginators prove the shipped model is the one loaded: botocore's
 * own last model had none.
 */
const PYTHON = "/usr/bin/python3";

describe("boto3 through aws-data/", () => {
  let server: Server;
  let url: string;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    ({ server, url } = await serve({ port: 0, services: localAt(join(dir, "vigil"), Date.now), tenants: await tenantsFromConfig({ dataDir: join(dir, "vigil"), dataRoots: { default: [join(dir, "history"), join(dir, "live")] } }) }));
    await mkdir(join(dir, "history"), { recursive: true });
    await writeFile(join(dir, "history", "h.csv"), csvOf(shopPoints(T0, 48, [{ platform: "web", marketplace: "de", base: 300 }])));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("creates, lists page by page and describes, and reads L4M's errors", async () => {
    // Not spawnSync: the server answering it runs in this process.
    const run = await promisify(execFile)(PYTHON, ["test/aws-data/boto3_client.py", url, join(dir, "history"), join(dir, "live", "{{yyyyMMdd}}", "{{HHmm}}")], {
      encoding: "utf8",
      env: { PATH: process.env["PATH"] ?? "", HOME: dir, AWS_DATA_PATH: resolve("aws-data"), AWS_CONFIG_FILE: join(dir, "none"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "none") },
      timeout: 60_000,
    });
    expect(run.stderr).toBe("");
    const out = JSON.parse(run.stdout) as { can_paginate: Record<string, boolean>; pages: string[][]; described: string; conflict: string; validation: string };
    expect(Object.values(out.can_paginate)).toEqual(Array(8).fill(true));
    expect(out.pages).toEqual([["shop0", "shop1"], ["shop2"]]);
    expect(out.described).toBe("INACTIVE");
    expect(out.conflict).toBe("ConflictException");
    expect(out.validation).toMatch(/ValidationException.*AnomalyDetectorName/);
  });
});
