import { spawnSync } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { Readable } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readInput, readRows, SCORE_INPUT_BYTES } from "../../cli/score.ts";
import { ValidationException } from "../../shared/model/errors.ts";

/** Runs the built CLI as a user would. */
function score(input: string) {
  const r = spawnSync(process.execPath, ["bin/vigil.mjs", "score"], { input, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const csv = (...rows: string[]) => ["timestamp,value", ...rows].join("\n") + "\n";

describe("vigil score refuses input it cannot use as written", () => {
  it("names the line and data row of a value that is not a number, and exits 2 having written no score", () => {
    const r = score(csv("2021-01-01 00:00:00,1", "2021-01-01 01:00:00,abc", "2021-01-01 02:00:00,3"));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/ValidationException: line 3 \(data row 2\): value 'abc' is not a number/);
  });

  it("names a timestamp that does not parse", () => {
    const r = score(csv("2021-01-01 00:00:00,1", "2021-13-45 99:00:00,2"));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/line 3 \(data row 2\): '2021-13-45 99:00:00' is not a timestamp/);
  });

  it("refuses rows out of order, naming both times", () => {
    const r = score(csv("2021-01-01 00:00:00,1", "2021-01-01 02:00:00,2", "2021-01-01 01:00:00,3"));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/line 4 \(data row 3\): 2021-01-01T01:00:00.000Z comes before the previous row's 2021-01-01T02:00:00.000Z: rows must be oldest first/);
  });

  it("reads input without a header: its first line is a row, scored, not taken for the header", () => {
    const rows = ["2021-01-01 00:00:00,1", "2021-01-01 01:00:00,2", "2021-01-01 02:00:00,3"];
    expect(readRows(rows.join("\n"))).toEqual(readRows(csv(...rows)));
    expect(readRows(rows.join("\n"))).toHaveLength(3);
    const r = score(rows.join("\n") + "\n");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(3);
    // A header is told by its value's name, whatever its time column is called; a first row with a bad time is refused, not taken for a header.
    expect(readRows(`ts,sales\n${rows.join("\n")}`)).toHaveLength(3);
    expect(readRows(`0,value\n${rows.join("\n")}`)).toHaveLength(3);
    expect(() => readRows(`2021-01-01 0:00,1\n${rows.join("\n")}`)).toThrow(/line 1 \(data row 1\): '2021-01-01 0:00' is not a timestamp/);
    expect(() => readRows(`12\n${rows.join("\n")}`)).toThrow(/line 1 \(data row 1\): expected 'timestamp,value'/);
  });

  it("counts lines as the file has them, blank lines included", () => {
    expect(() => readRows("timestamp,value\n\n2021-01-01 00:00:00,1\n\n2021-01-01 01:00:00,x\n")).toThrow(/line 5 \(data row 2\)/);
  });

  it("refuses what Number() would take but CSV does not mean: hex, Infinity, NaN, a bare sign; accepts decimals, exponents and an empty (missing) value", () => {
    for (const bad of ["0x10", "Infinity", "-Infinity", "NaN", "-", "1e400", "1,5", "12abc"]) {
      expect(() => readRows(csv(`2021-01-01 00:00:00,${bad}`)), bad).toThrow(ValidationException);
    }
    const rows = readRows(csv("2021-01-01 00:00:00,-1.5", "2021-01-01 01:00:00,2e3", "2021-01-01 02:00:00,.25", "2021-01-01 03:00:00,", "2021-01-01 03:00:00,+7"));
    expect(rows.map((r) => r.x)).toEqual([-1.5, 2000, 0.25, NaN, 7]);
  });

  it("reads every finite number back as written, and refuses any row whose value is not one (property)", () => {
    const t0 = Date.UTC(2021, 0, 1);
    const stamp = (i: number) => new Date(t0 + i * 3_600_000).toISOString().slice(0, 19).replace("T", " ");
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 30 }), (xs) => {
        const rows = readRows(csv(...xs.map((x, i) => `${stamp(i)},${x}`)));
        expect(rows.map((r) => r.x)).toEqual(xs.map((x) => (Object.is(x, -0) ? 0 : x))); // -0 is written "0"
        expect(rows.map((r) => r.t)).toEqual(xs.map((_, i) => t0 + i * 3_600_000));
      }),
    );
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !/^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(s) && !/[,\r\n"]/.test(s) && s.trim() !== ""), (junk) => {
        expect(() => readRows(csv(`${stamp(0)},1`, `${stamp(1)},${junk}`))).toThrow(/line 3 \(data row 2\): value .* is not a number/);
      }),
    );
  });
});

describe("vigil score reads a bounded input", () => {
  it("takes input up to its limit and refuses more, from a stream of any chunking", async () => {
    const chunks = (sizes: number[]) => Readable.from(sizes.map((n) => Buffer.alloc(n, 0x31)));
    expect(await readInput(chunks([3, 4, 3]), 10)).toBe("1".repeat(10));
    await expect(readInput(chunks([3, 4, 4]), 10)).rejects.toThrow(/the input holds more than 10 bytes/);
    // A character cut between two chunks is read whole.
    const euro = Buffer.from("€,1");
    expect(await readInput(Readable.from([euro.subarray(0, 1), euro.subarray(1)]), 10)).toBe("€,1");
  });

  it("refuses an input that never ends at once, with a clear error, instead of reading it until memory runs out", () => {
    const zero = openSync("/dev/zero", "r");
    try {
      const r = spawnSync(process.execPath, ["bin/vigil.mjs", "score"], { stdio: [zero, "pipe", "pipe"], encoding: "utf8", timeout: 60_000 });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(new RegExp(`^vigil: ValidationException: the input holds more than ${SCORE_INPUT_BYTES} bytes`));
    } finally {
      closeSync(zero);
    }
  });
});
