import { GetObjectTaggingCommand, S3Client } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { S3BlobStore } from "../../../shared/store/s3-blobs.ts";
import { startFakeAwsServer, type FakeReply } from "../../fakes/aws-server.ts";
import { startS3rver } from "../../servers.ts";

/** The S3 adapter through the real AWS SDK v3 client against s3rver, a local server speaking S3's protocol. */
describe("S3BlobStore against a local S3 server", () => {
  let blobs: S3BlobStore;
  let client: S3Client;

  beforeAll(async () => {
    client = await startS3rver(["metrics"]);
    blobs = new S3BlobStore(client);
  });

  it("writes, reads and lists objects under a prefix, across pages", async () => {
    const keys = Array.from({ length: 1005 }, (_, i) => `live/20210101/0100/part-${String(i).padStart(4, "0")}.csv`);
    for (let i = 0; i < keys.length; i += 25) await Promise.all(keys.slice(i, i + 25).map((k) => blobs.put(`s3://metrics/${k}`, `row ${k}`)));
    await blobs.put("s3://metrics/live/20210101/0200/other.csv", "x");
    const listed = await blobs.list("s3://metrics/live/20210101/0100/");
    expect(listed).toHaveLength(1005);
    expect(listed[0]).toBe("s3://metrics/live/20210101/0100/part-0000.csv");
    expect(new TextDecoder().decode(await blobs.get(listed[3]!))).toBe(`row ${keys[3]}`);
    // An object given in parts is one object of their bytes in order.
    await blobs.put("s3://metrics/model/s0.bin", [Buffer.from("head,"), new Uint8Array(0), Buffer.from("state")]);
    expect(new TextDecoder().decode(await blobs.get("s3://metrics/model/s0.bin"))).toBe("head,state");
  });

  it("deletes a folder in batches of 1,000, and nothing beside it", async () => {
    const keys = Array.from({ length: 1002 }, (_, i) => `results/shop/orders/${String(i).padStart(4, "0")}/anomalies.jsonl`);
    for (let i = 0; i < keys.length; i += 25) await Promise.all(keys.slice(i, i + 25).map((k) => blobs.put(`s3://metrics/${k}`, "{}\n")));
    await blobs.put("s3://metrics/results/shop/orders-2/model.bin", "kept");
    expect(await blobs.deleteFolder("s3://metrics/results/shop/orders/")).toBe(1002);
    expect(await blobs.list("s3://metrics/results/shop/")).toEqual(["s3://metrics/results/shop/orders-2/model.bin"]);
    await expect(blobs.deleteFolder("s3://metrics/results/shop/orders")).rejects.toThrow(/not a folder/);
  });

  it("tags rejected rows so a retention rule can find them", async () => {
    await blobs.put("s3://metrics/results/x/rejects.jsonl", "{}\n", "rejects");
    await blobs.put("s3://metrics/results/x/anomalies.jsonl", "{}\n");
    const tags = async (key: string) => (await client.send(new GetObjectTaggingCommand({ Bucket: "metrics", Key: key }))).TagSet;
    expect(await tags("results/x/rejects.jsonl")).toEqual([{ Key: "vigil-kind", Value: "rejects" }]);
    expect(await tags("results/x/anomalies.jsonl")).toEqual([]);
  });

  it("answers undefined for a missing key and round-trips bytes exactly", async () => {
    expect(await blobs.get("s3://metrics/nothing/here")).toBeUndefined();
    const bytes = new Uint8Array(4096).map((_, i) => (i * 31) % 256);
    await blobs.put("s3://metrics/models/m.bin", bytes);
    expect(await blobs.get("s3://metrics/models/m.bin")).toEqual(bytes);
  });

  it("reads a range of an object with the object's size, fewer bytes at its end", async () => {
    const bytes = new Uint8Array(100_000).map((_, i) => (i * 7) % 256);
    await blobs.put("s3://metrics/results/series.bin", bytes);
    const head = (await blobs.getRange("s3://metrics/results/series.bin", 0, 65_536))!;
    expect([head.bytes.byteLength, head.size]).toEqual([65_536, 100_000]);
    expect(head.bytes).toEqual(bytes.subarray(0, 65_536));
    const tail = (await blobs.getRange("s3://metrics/results/series.bin", 99_990, 64))!;
    expect([tail.bytes, tail.size]).toEqual([bytes.subarray(99_990), 100_000]);
    expect(await blobs.getRange("s3://metrics/results/none.bin", 0, 8)).toBeUndefined();
    // Replaced by an object of the same size: another version.
    await blobs.put("s3://metrics/results/series.bin", bytes.map((b) => b ^ 1));
    expect((await blobs.getRange("s3://metrics/results/series.bin", 0, 8))!.version).not.toBe(head.version);
  });

  it("takes only the part asked for: a whole object, another part or more bytes than named are refused, and their connections let go", async () => {
    const answers: Record<string, FakeReply> = {
      whole: { status: 200, contentType: "application/octet-stream", body: "x".repeat(1000) },
      elsewhere: { status: 206, contentType: "application/octet-stream", body: "x".repeat(8), headers: { "content-range": "bytes 0-7/1000" } },
      longer: { status: 206, contentType: "application/octet-stream", body: "x".repeat(100), headers: { "content-range": "bytes 8-15/1000", "transfer-encoding": "chunked" } },
    };
    const endpoint = await startFakeAwsServer(
      (_, __, request) => answers[request.path.split("?")[0]!.split("/").pop()!]!,
      () => ({ status: 403, contentType: "application/xml", body: "<Error><Code>AccessDenied</Code></Error>" }),
    );
    // Two connections: a refused answer that kept its connection would leave the third read waiting for ever.
    const strict = new S3BlobStore(new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "local", secretAccessKey: "local" }, maxAttempts: 1, requestHandler: { httpAgent: { maxSockets: 2, keepAlive: true } } }));
    for (let round = 0; round < 3; round++) {
      await expect(strict.getRange("s3://metrics/results/whole", 0, 8)).rejects.toThrow("without a Content-Range");
      await expect(strict.getRange("s3://metrics/results/elsewhere", 8, 8)).rejects.toThrow("bytes 0-7/1000");
      await expect(strict.getRange("s3://metrics/results/longer", 8, 8)).rejects.toThrow("more than the 8 bytes");
    }
    const rangeRefused = await startFakeAwsServer(
      () => ({ status: 416, contentType: "application/xml", body: "<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message></Error>" }),
      () => ({ status: 403, contentType: "application/xml", body: "<Error><Code>AccessDenied</Code></Error>" }),
    );
    const empty = new S3BlobStore(new S3Client({ endpoint: rangeRefused, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "local", secretAccessKey: "local" }, maxAttempts: 1 }));
    // S3 refuses any range of an empty object; from 0 that is an empty object.
    expect(await empty.getRange("s3://metrics/results/series.bin", 0, 8)).toEqual({ bytes: new Uint8Array(), size: 0, version: "" });
    await expect(empty.getRange("s3://metrics/results/series.bin", 8, 8)).rejects.toThrow(/range/i);
  });

  it("puts an object given in parts again when S3 asks to slow down, whole", async () => {
    const bodies: string[] = [];
    const endpoint = await startFakeAwsServer(
      (_, body) => {
        bodies.push(body);
        return bodies.length === 1 ? { status: 503, contentType: "application/xml", body: "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>" } : { status: 200, contentType: "application/xml", body: "" };
      },
      () => ({ status: 403, contentType: "application/xml", body: "<Error><Code>AccessDenied</Code></Error>" }),
    );
    const throttled = new S3BlobStore(new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "local", secretAccessKey: "local" }, requestChecksumCalculation: "WHEN_REQUIRED", maxAttempts: 3 }));
    await throttled.put("s3://metrics/results/anomalies.jsonl", [Buffer.from('{"a":1}\n'), Buffer.from('{"a":2}\n')]);
    expect(bodies).toEqual(['{"a":1}\n{"a":2}\n', '{"a":1}\n{"a":2}\n']);
  });
});
