import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createDetector, OPERATOR } from "../../../shared/app/index.ts";
import { operations, TAG_OPERATIONS } from "../../../shared/api/l4m/index.ts";
import { router } from "../../../shared/api/router.ts";
import { localAt, tempDir } from "../../builders.ts";

/**
 * Every file under `dir` with its content: what a request wrote, if anything. SQLite's
 * `-shm` file is left out: it is the WAL's shared-memory index, whose read marks a reader
 * moves (a refused request reads its detector), not data; the database and its WAL are compared.
 */
async function contents(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (!e.name.endsWith("-shm")) out.set(p, await readFile(p, "utf8"));
    }
  };
  await walk(dir);
  return out;
}

describe("every route, any body", () => {
  it("answers a well-formed L4M error, never a 500, and a refused request writes nothing", async () => {
    const dir = await tempDir();
    const rt = localAt(dir);
    const d = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" }, Tags: { team: "t" } });
    const serve = router(rt);
    const routes = [...Object.keys(operations).filter((op) => !TAG_OPERATIONS.has(op)).map((op) => ["POST", `/${op}`] as const), ...(["GET", "POST", "DELETE"] as const).map((m) => [m, `/tags/${encodeURIComponent(d.AnomalyDetectorArn)}`] as const)];
    const arn = fc.constantFrom(d.AnomalyDetectorArn, `${d.AnomalyDetectorArn}x`, "arn:aws:lookoutmetrics:us-east-1:000000000000:Alert:a", "not an arn");
    const body = fc.oneof(
      fc.string(),
      fc.json(),
      fc.dictionary(fc.constantFrom("AnomalyDetectorArn", "MetricSetArn", "AlertArn", "AnomalyGroupId", "MaxResults", "NextToken", "Tags", "tags", "Rows", "AnomalyDetectorName", "AnomalyDetectorConfig", "SensitivityThreshold", "Extra"), fc.oneof(fc.anything(), arn)).map((o) => JSON.stringify(o)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), body, async ([method, path], text) => {
        const before = await contents(dir);
        const res = await serve({ method, path, query: "tagKeys=team", body: text, requestId: "r", scope: OPERATOR });
        expect(res.status, res.body).toBeLessThan(500);
        const parsed = JSON.parse(res.body) as { __type?: string; Message?: string };
        if (res.status !== 200) {
          expect(parsed.__type).toMatch(/Exception$/);
          expect(typeof parsed.Message).toBe("string");
          expect(res.headers["x-amzn-errortype"]).toBe(parsed.__type);
          expect(await contents(dir)).toEqual(before);
        }
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});
