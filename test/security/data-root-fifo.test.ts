import { execFileSync } from "node:child_process";
import { constants, openSync, closeSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { getSampleData, type Scope } from "../../shared/app/index.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { csvOf, shopPoints, T0, tempDir } from "../builders.ts";

/**
 * A tenant's data root is a folder it writes to, so it may hold what is not a regular file: a
 * named pipe (mkfifo) blocks whoever opens it for reading until a writer comes. Opened so,
 * each read of it held one of the process's four file-system threads for good: four
 * GetSampleData requests naming one stopped every file read of the server, every other
 * tenant's among them. It is refused as "not a regular file" without waiting.
 */
describe("a named pipe in a tenant's data root", () => {
  const pipes: string[] = [];
  // Should a read still wait on a pipe, a writer lets it go, so nothing else of the test run waits behind it.
  afterAll(() => {
    for (const pipe of pipes) {
      for (let i = 0; i < 8; i++) {
        try {
          closeSync(openSync(pipe, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          break;
        }
      }
    }
  });

  it("is refused at once, however many ask, and the other tenants' files are read meanwhile", async () => {
    const dir = await tempDir();
    const [rootA, rootB] = [join(dir, "roots", "a"), join(dir, "roots", "b")];
    await mkdir(rootA, { recursive: true });
    await mkdir(rootB, { recursive: true });
    const pipe = join(rootA, "pipe.csv");
    execFileSync("mkfifo", [pipe]);
    pipes.push(pipe);
    await writeFile(join(rootB, "views.csv"), csvOf(shopPoints(T0, 2, [{ platform: "web", marketplace: "de", base: 400 }])));
    const services = localServices(join(dir, "vigil"), { clock: () => T0, dataRootsOf: (account) => (account === "111111111111" ? [rootA] : [rootB]) });
    const a: Scope = { tenant: "a", accountId: "111111111111", dataRoots: [rootA] };
    const b: Scope = { tenant: "b", accountId: "222222222222", dataRoots: [rootB] };
    const csv = { FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } } };
    const role = (scope: Scope) => ({ RoleArn: `arn:aws:iam::${scope.accountId}:role/reader` });

    const onPipe = Array.from({ length: 8 }, () => getSampleData(services, a, { S3SourceConfig: { ...role(a), HistoricalDataPathList: [pipe], ...csv } }).then(() => "answered", (e: Error & { httpStatus?: number }) => `${e.name} ${e.httpStatus}`));
    const other = await getSampleData(services, b, { S3SourceConfig: { ...role(b), HistoricalDataPathList: [join(rootB, "views.csv")], ...csv } });
    expect(other.HeaderValues).toEqual(["timestamp", "platform", "marketplace", "views", "revenue"]);
    for (const outcome of await Promise.all(onPipe)) expect(outcome).toMatch(/^(ValidationException|AccessDeniedException) 4\d\d$/);
    const direct = await getSampleData(services, a, { S3SourceConfig: { ...role(a), HistoricalDataPathList: [rootA], ...csv } }).catch((e: Error) => e);
    expect(direct).toMatchObject({ name: "ValidationException" });
  }, 20_000);
});
