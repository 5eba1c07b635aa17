import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OPERATOR, type Services } from "../../../shared/app/index.ts";
import { operations, resourceTables, TAG_OPERATIONS } from "../../../shared/api/l4m/index.ts";
import { router } from "../../../shared/api/router.ts";
import { localAt, tempDir } from "../../builders.ts";

const detector = { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } };

async function serving(change: (s: Services) => Services = (s) => s) {
  const serve = router(change(localAt(await tempDir())));
  return (method: string, path: string, body = "", scope: typeof OPERATOR | null = OPERATOR) => serve({ method, path, body, requestId: "req-1", ...(scope ? { scope } : {}) });
}

describe("the API router", () => {
  it("answers operations with JSON and the request id, and health without a caller", async () => {
    const req = await serving();
    const created = await req("POST", "/CreateAnomalyDetector", JSON.stringify(detector));
    expect(created).toEqual({ status: 200, headers: { "content-type": "application/json", "x-amzn-requestid": "req-1" }, body: JSON.stringify({ AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop" }) });
    expect(JSON.parse((await req("GET", "/health", "", null)).body)).toMatchObject({ status: "ok" });
  });

  it("answers L4M's errors with their status, type header and body", async () => {
    const req = await serving();
    await req("POST", "/CreateAnomalyDetector", JSON.stringify(detector));
    const conflict = await req("POST", "/CreateAnomalyDetector", JSON.stringify(detector));
    expect(conflict.status).toBe(409);
    expect(conflict.headers["x-amzn-errortype"]).toBe("ConflictException");
    expect(JSON.parse(conflict.body)).toEqual({ __type: "ConflictException", Message: "AnomalyDetector shop already exists", ResourceId: "shop", ResourceType: "AnomalyDetector" });
    expect(JSON.parse((await req("POST", "/CreateAnomalyDetector", "{}")).body)).toMatchObject({ __type: "ValidationException", Fields: [{ Name: "AnomalyDetectorName" }, { Name: "AnomalyDetectorConfig" }] });
    expect(JSON.parse((await req("POST", "/CreateAnomalyDetector", "{not json")).body)).toMatchObject({ __type: "ValidationException", Reason: "CANNOT_PARSE" });
    expect((await req("POST", "/ListAnomalyDetectors", "{}", null)).status).toBe(403);
  });

  it("tells nothing of an internal error but the request id", async () => {
    const failed: unknown[] = [];
    const req = await serving((s) => ({
      ...s,
      records: { ...s.records, list: () => Promise.reject(new Error("connection string postgres://admin:hunter2@db")) },
      observer: { ...s.observer, failed: (_, e) => void failed.push(e) },
    }));
    const crash = await req("POST", "/ListAnomalyDetectors", "{}");
    expect(crash.status).toBe(500);
    expect(crash.body).not.toContain("hunter2");
    expect(JSON.parse(crash.body)).toEqual({ __type: "InternalServerException", Message: "Internal error; request id req-1" });
    expect(String(failed[0])).toContain("hunter2");
  });

  it("answers unknown operations and wrong methods", async () => {
    const req = await serving();
    expect((await req("POST", "/Nope")).status).toBe(404);
    expect((await req("GET", "/ListAnomalyDetectors")).status).toBe(405);
    expect((await req("POST", "/health")).status).toBe(405);
    expect((await req("POST", "/TagResource", "{}")).status).toBe(404);
    expect((await req("PUT", "/tags/arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop")).status).toBe(405);
  });

  it("never crashes on any body or path", async () => {
    const req = await serving();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("GET", "POST", "PUT", "DELETE"), fc.oneof(fc.string(), fc.constantFrom("valueOf", "constructor", "__proto__", "toString", "hasOwnProperty", "tags/x", "ListAlerts")), fc.oneof(fc.string(), fc.json()), async (method, path, body) => {
        const res = await req(method, `/${path}`, body);
        expect([200, 400, 404, 405]).toContain(res.status);
        expect(() => JSON.parse(res.body)).not.toThrow();
      }),
    );
  });

  it("names every operation its resource modules serve, each once, before loading any of them", async () => {
    const served = (await resourceTables()).flatMap((table) => Object.keys(table));
    expect(new Set(served).size).toBe(served.length);
    expect(Object.keys(operations).sort()).toEqual([...served].sort());
    expect([...TAG_OPERATIONS].every((name) => served.includes(name))).toBe(true);
  });
});
