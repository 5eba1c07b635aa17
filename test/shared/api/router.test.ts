import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { router } from "../../../shared/api/router.ts";
import { ConflictException, ValidationException } from "../../../shared/model/errors.ts";

const serve = router({
  get: { health: async () => ({ status: "ok" }) },
  post: {
    Echo: async (input) => ({ got: input }),
    Conflict: async () => {
      throw new ConflictException("Alert a already exists", "a", "Alert");
    },
    Validate: async () => {
      throw new ValidationException("bad", { fields: [{ Name: "X", Message: "is wrong" }] });
    },
    Crash: async () => {
      throw new Error("connection string postgres://admin:hunter2@db");
    },
  },
});
const req = (method: string, path: string, body = "") => serve({ method, path, body, requestId: "req-1" });

describe("the API router", () => {
  it("answers operations with JSON and the request id", async () => {
    expect(await req("POST", "/Echo", '{"a":1}')).toEqual({ status: 200, headers: { "content-type": "application/json", "x-amzn-requestid": "req-1" }, body: '{"got":{"a":1}}' });
    expect(JSON.parse((await req("GET", "/health")).body)).toEqual({ status: "ok" });
  });

  it("answers L4M's errors with their status, type header and body", async () => {
    const conflict = await req("POST", "/Conflict");
    expect(conflict.status).toBe(409);
    expect(conflict.headers["x-amzn-errortype"]).toBe("ConflictException");
    expect(JSON.parse(conflict.body)).toEqual({ __type: "ConflictException", Message: "Alert a already exists", ResourceId: "a", ResourceType: "Alert" });
    expect(JSON.parse((await req("POST", "/Validate")).body)).toMatchObject({ __type: "ValidationException", Fields: [{ Name: "X", Message: "is wrong" }] });
    expect(JSON.parse((await req("POST", "/Echo", "{not json")).body)).toMatchObject({ __type: "ValidationException", Reason: "CANNOT_PARSE" });
  });

  it("tells nothing of an internal error but the request id", async () => {
    const crash = await req("POST", "/Crash");
    expect(crash.status).toBe(500);
    expect(crash.body).not.toContain("hunter2");
    expect(JSON.parse(crash.body)).toEqual({ __type: "InternalServerException", Message: "Internal error; request id req-1" });
  });

  it("answers unknown operations and wrong methods", async () => {
    expect((await req("POST", "/Nope")).status).toBe(404);
    expect((await req("GET", "/Echo")).status).toBe(405);
    expect((await req("POST", "/health")).status).toBe(405);
  });

  it("never crashes on any body or path", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("GET", "POST", "PUT", "DELETE"), fc.oneof(fc.string(), fc.constantFrom("valueOf", "constructor", "__proto__", "toString", "hasOwnProperty")), fc.oneof(fc.string(), fc.json()), async (method, path, body) => {
        const res = await req(method, `/${path}`, body);
        expect([200, 400, 404, 405]).toContain(res.status);
        expect(() => JSON.parse(res.body)).not.toThrow();
      }),
    );
  });
});
