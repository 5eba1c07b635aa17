import { createServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { alertMessage } from "../../shared/alerts/message.ts";
import type { Services } from "../../shared/app/index.ts";
import type { AlertArn } from "../../shared/model/ids.ts";
import { awsServices } from "../../shared/runtime/aws.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { anomalyGroupEvent } from "../builders.ts";

/**
 * An STS that takes the connection and never answers (a black-holed route): a send as the
 * action's role must still end when the delivery gives up on it (its signal), and must not
 * leave the role wedged for every later send of the process.
 */
const A = "111111111111";
const ROLE_A = `arn:aws:iam::${A}:role/vigil-alerts`;
const TOPIC_A = `arn:aws:sns:us-east-1:${A}:oncall`;
const message = alertMessage({ AlertName: "a", AlertArn: `arn:aws:lookoutmetrics:us-east-1:${A}:Alert:a` as AlertArn }, anomalyGroupEvent(), "first", "https://vigil.example.com");
const topic = { kind: "sns" as const, topicArn: TOPIC_A, roleArn: ROLE_A, format: "JSON" as const };

describe("sending as a role while STS does not answer", () => {
  const sockets: Socket[] = [];
  let connected: () => void = () => {};
  const server = createServer((s) => {
    sockets.push(s);
    connected();
  });
  let services: Services;

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    for (const [k, v] of Object.entries({ AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${port}`, AWS_ENDPOINT_URL_SNS: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: "AKIAVIGILDELIVER0000", AWS_SECRET_ACCESS_KEY: "s" })) vi.stubEnv(k, v);
    const config = configFromEnv({ VIGIL_MODE: "aws", VIGIL_TABLE: "vigil", VIGIL_RESULTS_ROOT: "s3://vigil-data/results", AWS_REGION: "us-east-1" });
    if (config.VIGIL_MODE !== "aws") throw new Error("not aws");
    services = awsServices(config);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it("ends a send whose delivery gave up (its signal aborted) while AssumeRole hangs", async () => {
    const giveUp = new AbortController();
    const reached = new Promise<void>((r) => (connected = r));
    const sent = services.senders.sns.send(message, topic, giveUp.signal);
    await reached;
    giveUp.abort();
    // Fails by hanging: the SNS client waits on the credentials before it looks at its signal or timeout.
    await expect(sent).resolves.toMatchObject({ ok: false, retryable: true });
  }, 15_000);
});
