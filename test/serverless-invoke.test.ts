import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tempDir } from "./builders.ts";

/**
 * Every function's sample event, run as the README shows it (`serverless invoke local`, the
 * local mode), offline and without AWS credentials: nothing may need CloudFormation or an
 * account. Three at a time: each takes the framework's start-up.
 */
const SAMPLES = readdirSync("events").flatMap((fn) => readdirSync(join("events", fn)).filter((f) => f.endsWith(".json")).map((f) => [fn, join("events", fn, f)] as const));

/** Each lane builds into a folder of its own: a bundle is a handler and its chunks, which another lane's build would replace under it. */
const invoke = (fn: string, path: string, dataDir: string, lane: number) =>
  promisify(execFile)(process.execPath, ["node_modules/serverless/bin/serverless.js", "invoke", "local", "-f", fn, "--path", path, "-e", "VIGIL_MODE=local", "-e", `VIGIL_DATA_DIR=${dataDir}`, `--param=buildFolder=.esbuild-${lane}`], {
    env: { PATH: process.env["PATH"] ?? "", HOME: dataDir, SLS_TELEMETRY_DISABLED: "1", AWS_CONFIG_FILE: join(dataDir, "none"), AWS_SHARED_CREDENTIALS_FILE: join(dataDir, "none") },
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });

/** The result `serverless invoke local` prints last: an indented JSON document. */
const resultOf = (stdout: string) => JSON.parse(stdout.slice(stdout.lastIndexOf("\n{\n") + 1)) as Record<string, unknown>;

describe("serverless invoke local, offline", () => {
  it("runs every function on each of its sample events", { timeout: 300_000 }, async () => {
    expect(SAMPLES.map(([fn]) => fn).sort()).toEqual(["alert", "api", "api", "deliver", "deliveryParked", "detect", "detect", "ingest", "shard", "shardParked"]);
    const dataDir = await tempDir();
    const results: Record<string, Record<string, unknown>> = {};
    const queue = [...SAMPLES];
    await Promise.all(
      Array.from({ length: 3 }, async (_, lane) => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const [fn, path] = next;
          const { stdout } = await invoke(fn, path, dataDir, lane);
          results[path] = resultOf(stdout);
        }
      }),
    );
    expect(results["events/detect/schedule.json"]).toMatchObject({ trigger: "schedule", intervals: [] });
    expect(results["events/detect/s3-object-created.json"]).toMatchObject({ trigger: "object-created" });
    expect(results["events/ingest/schedule.json"]).toEqual({ ingested: [] });
    expect(results["events/alert/sqs-batch.json"]).toEqual({ batchItemFailures: [] });
    expect(results["events/deliver/sqs-batch.json"]).toEqual({ batchItemFailures: [] });
    // A shard message names its run's folder in the deployment's results (an S3 prefix here): the local mode's refuses it, and says which record failed.
    expect(results["events/shard/sqs-batch.json"]).toEqual({ batchItemFailures: [{ itemIdentifier: "6b1d0c2e-31f4-4f0e-9a57-2f1f1c0e8a11" }] });
    // A delivery the queue gave up on: parked (in the local mode's dead-letter file).
    expect(results["events/deliveryParked/sqs-batch.json"]).toEqual({ batchItemFailures: [] });
    expect(results["events/shardParked/sqs-batch.json"]).toEqual({ batchItemFailures: [{ itemIdentifier: "7c2e1d3f-42a5-4a1f-8b68-3a2a2d1f9b22" }] });
    expect(results["events/api/health.json"]).toMatchObject({ statusCode: 200 });
    // The sample pushes to metric set shop/pushed, which an empty data folder does not hold: answered as L4M answers it.
    expect(results["events/api/put-metric-rows.json"]).toMatchObject({ statusCode: 400, headers: expect.objectContaining({ "x-amzn-errortype": "ResourceNotFoundException" }) });
  });
});
