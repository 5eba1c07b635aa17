import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fixedFolder, parseLocation, renderTemplate, templateProblem } from "../../../shared/model/path-template.ts";

const t = Date.UTC(2021, 2, 8, 22, 5);

describe("path templates", () => {
  it("renders every L4M placeholder", () => {
    expect(renderTemplate("s3://bucket/live/{{yyyyMMdd}}/{{HHmm}}", t)).toBe("s3://bucket/live/20210308/2205");
    expect(renderTemplate("data/{{yyyy}}/{{MM}}/{{dd}}/{{HH}}/{{mm}}", t)).toBe("data/2021/03/08/22/05");
  });

  it("renders in the metric set's time zone", () => {
    expect(renderTemplate("live/{{yyyyMMdd}}/{{HHmm}}", t, "Asia/Tokyo")).toBe("live/20210309/0705");
  });

  it("explains what is wrong with a path", () => {
    expect(templateProblem("s3://bucket/{{yyyyMMdd}}/{{HHmm}}")).toBeUndefined();
    expect(templateProblem("./local/{{HH}}")).toBeUndefined();
    expect(templateProblem("s3://bucket/{{hh}}")).toMatch(/unknown placeholder \{\{hh\}\}/);
    expect(templateProblem("s3://bucket/{{HH}")).toMatch(/unbalanced/);
    expect(templateProblem("gs://bucket/x")).toMatch(/s3:\/\/ URI or a local path/);
    expect(templateProblem("s3://B_ad/x")).toMatch(/not a valid s3/);
  });

  it("refuses a local path or template whose fixed part names no folder, and takes an S3 bucket's root as L4M does", () => {
    for (const p of ["/{{yyyyMMdd}}/{{HHmm}}", "{{yyyy}}", "./{{HH}}", "/x{{HH}}", "/a/../{{yyyy}}", "file:///{{yyyy}}"]) expect(templateProblem(p), p).toMatch(/no fixed prefix/);
    for (const p of ["/", ".", "/..", "file:///", "a/.."]) expect(templateProblem(p), p).toMatch(/names the root of the file system or the working folder/);
    for (const p of ["/data/{{yyyy}}", "data/x{{HH}}", "../{{yyyy}}", "s3://bucket/{{yyyyMMdd}}", "s3://bucket/", "/data"]) expect(templateProblem(p), p).toBeUndefined();
  });

  it("refuses a control character anywhere in a path, naming it, where a NUL would fail the read as an internal error", () => {
    const code = fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.constant(0x7f));
    fc.assert(
      fc.property(code, fc.constantFrom("/data/live", "s3://bucket/live", "data"), (c, prefix) => {
        const ch = String.fromCharCode(c);
        expect(templateProblem(`${prefix}${ch}/{{yyyyMMdd}}/{{HHmm}}`)).toBe(`holds a control character (U+${c.toString(16).toUpperCase().padStart(4, "0")}, character ${prefix.length + 1}): remove it`);
      }),
    );
    expect(templateProblem("/data/live/{{yyyyMMdd}}/\u0000")).toMatch(/U\+0000/);
    expect(templateProblem("/data/ünïcode live~/{{yyyyMMdd}}")).toBeUndefined();
  });

  it("names the fixed folder of a template", () => {
    expect(fixedFolder("/data/live/{{yyyyMMdd}}/{{HHmm}}")).toBe("/data/live/");
    expect(fixedFolder("s3://b/live/x{{HH}}")).toBe("s3://b/live/");
    expect(fixedFolder("/data/all.csv")).toBe("/data/all.csv");
  });

  it("tells S3 from local addresses", () => {
    expect(parseLocation("s3://bucket/a/b.csv")).toEqual({ kind: "s3", bucket: "bucket", key: "a/b.csv" });
    expect(parseLocation("file:///tmp/x")).toEqual({ kind: "local", path: "/tmp/x" });
    expect(parseLocation("rel/x")).toEqual({ kind: "local", path: "rel/x" });
  });

  it("leaves no placeholder behind for any time and zone (property)", () => {
    const zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.constantFrom(...zones), (ms, zone) => {
        const out = renderTemplate("s3://bucket/{{yyyyMMdd}}/{{HHmm}}/{{yyyy}}{{MM}}{{dd}}{{HH}}{{mm}}", ms, zone);
        expect(out).toMatch(/^s3:\/\/bucket\/\d{8}\/\d{4}\/\d{12}$/);
      }),
    );
  });
});
