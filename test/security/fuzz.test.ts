import type { Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantsFromConfig, DEFAULT_ACCESS_KEY_ID, serve } from "../../cli/serve.ts";
import { tempDir, localAt } from "../builders.ts";
import { fuzzRequests, OPERATIONS, runFuzz, seedFuzzData, type FuzzWorld, type Tenant } from "./fuzz.ts";

/** The default tenant, with a secret of the operator's own (the public default is refused beside other tenants), and another. */
const TENANTS: [Tenant, Tenant] = [
  { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: "the-operator-own-secret" },
  { accessKeyId: "OTHERKEY", secretAccessKey: "other-secret" },
];

/** A fixed-seed sample of the fuzz run; `npm run bench -- fuzz` sends 10,000 and more. */
describe("signed requests over every route, fuzzed", () => {
  let server: Server;
  let url: string;
  let world: FuzzWorld;
  beforeAll(async () => {
    const dir = await tempDir();
    ({ server, url } = await serve({ port: 0, services: localAt(join(dir, "vigil"), Date.now), tenants: await tenantsFromConfig({ dataDir: join(dir, "vigil"), secretAccessKey: TENANTS[0].secretAccessKey, tenants: [{ name: "other", ...TENANTS[1] }], dataRoots: { default: [join(dir, "files")] } }) }));
    world = await seedFuzzData(url, TENANTS[0], dir);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("answers every one with a well-formed answer below 500, and is still serving", async () => {
    const requests = fuzzRequests(world, 20261129, 2000);
    // One at a time: this is about what a request holds; concurrent writes are the record store's tests.
    const figures = await runFuzz(url, requests, TENANTS, 1);
    expect(figures.routes).toEqual([...OPERATIONS, "health", "page", "tags", "unknown"].sort());
    expect(figures.serverErrors).toEqual([]);
    expect(figures.malformed).toEqual([]);
    expect(figures.signed).toBeGreaterThan(1300);
    expect(Object.keys(figures.byStatus)).toEqual(expect.arrayContaining(["200", "400", "403"]));
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });
});
