import { join } from "node:path";
import { CreateAnomalyDetectorCommand, DeactivateAnomalyDetectorCommand, DeleteAnomalyDetectorCommand, DescribeAnomalyDetectorCommand, LookoutMetricsClient, type ServiceInputTypes, type ServiceOutputTypes } from "@aws-sdk/client-lookoutmetrics";
import type { DeserializeMiddleware, FinalizeRequestMiddleware } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY } from "../../cli/serve.ts";
import { tempDir } from "../builders.ts";
import { startVigilServe } from "./wire.ts";

/**
 * The official client, signing as boto3, the AWS CLI and curl sign: no per-call id among
 * the signed headers (the JS SDK signs its amz-sdk-invocation-id; the others do not), so a
 * call repeated within the same second is byte for byte the same signed request.
 */
function sameSecondClient(url: string, signatures: string[]): LookoutMetricsClient {
  const client = new LookoutMetricsClient({ endpoint: url, region: "us-east-1", credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY }, maxAttempts: 1 });
  const headersOf = (args: { request: unknown }) => (args.request as { headers: Record<string, string> }).headers;
  const unsignedIds: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
    delete headersOf(args)["amz-sdk-invocation-id"];
    delete headersOf(args)["amz-sdk-request"];
    return next(args);
  };
  const record: DeserializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
    signatures.push(headersOf(args)["authorization"] ?? "");
    return next(args);
  };
  client.middlewareStack.addRelativeTo(unsignedIds, { relation: "before", toMiddleware: "httpSigningMiddleware", name: "signLikeBoto3" });
  client.middlewareStack.add(record, { step: "deserialize", name: "recordSignature" });
  return client;
}

describe("identical requests signed in the same second", () => {
  let server: Awaited<ReturnType<typeof startVigilServe>>;
  beforeAll(async () => {
    server = await startVigilServe(join(await tempDir(), "vigil"));
  });
  afterAll(() => {
    vi.useRealTimers();
    server.stop();
  });

  it("all succeed, as on AWS: 20 DescribeAnomalyDetector in a loop, then deactivate and delete", async () => {
    const signatures: string[] = [];
    const l4m = sameSecondClient(server.url, signatures);
    const { AnomalyDetectorArn } = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "poll", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } }));
    // The client's clock stands still: every call is signed in the same second (the server's runs on).
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    signatures.length = 0;
    const statuses: string[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).Status ?? "");
    expect(statuses).toEqual(Array(20).fill("INACTIVE"));
    expect(new Set(signatures).size).toBe(1);

    // Deactivate twice (an inactive detector stays inactive), then delete.
    await l4m.send(new DeactivateAnomalyDetectorCommand({ AnomalyDetectorArn }));
    await l4m.send(new DeactivateAnomalyDetectorCommand({ AnomalyDetectorArn }));
    await l4m.send(new DeleteAnomalyDetectorCommand({ AnomalyDetectorArn }));
    vi.useRealTimers();
  });
});
