import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** The pure core: plain data in, plain data out. No I/O, no clock, no environment, no clients. */
const CORE = ["shared/model", "shared/ingest", "shared/engine", "shared/incidents", "shared/alerts"];
const FORBIDDEN: [RegExp, string][] = [
  [/from "@aws-sdk\//, "an AWS client"],
  [/from "node:(fs|fs\/promises|http|https|net|child_process)"/, "I/O"],
  // Ports are types: a core module may name them, not import an adapter.
  [/^import (?!type )[^;]*from "\.\.\/(store|runtime|detect|catalog)\//m, "an adapter or service"],
  [/from "\.\.\/channels\/(?!channel\.ts")/, "a channel's sender"],
  [/\bsetTimeout\(|\bsetInterval\(/, "a timer"],
  [/\bprocess\.env\b/, "the environment"],
  [/\bDate\.now\(|new Date\(\)/, "the clock"],
  [/\bMath\.random\(/, "unseeded randomness"],
];

const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));

describe("architecture", () => {
  it.each(CORE)("%s is pure: no I/O, clock, environment or client", (dir) => {
    const problems = files(dir).flatMap((file) => {
      const source = readFileSync(file, "utf8");
      return FORBIDDEN.filter(([re]) => re.test(source)).map(([, what]) => `${file} uses ${what}`);
    });
    expect(problems).toEqual([]);
  });

  it("handlers stay thin", () => {
    for (const file of files("functions")) expect(readFileSync(file, "utf8").split("\n").length, file).toBeLessThan(60);
  });
});
