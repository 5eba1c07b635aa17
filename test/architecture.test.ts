import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The shape of the code: edges (functions, cli) → runtime (one composition root per mode)
 * → app (use cases) → services and core → model, with adapters (store, channels, sources)
 * at the edge implementing the ports the core declares. No import runs back up.
 */
const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));

/** The ports of storage: types the core may name, apart from the adapters beside them. */
const STORE_PORTS = new Set(["shared/store/records.ts", "shared/store/blobs.ts", "shared/store/events.ts"]);

/** Where a file belongs, for the rules below. */
function layerOf(file: string): string {
  if (STORE_PORTS.has(file)) return "store ports";
  const parts = file.split("/");
  return parts[0] === "shared" ? `shared/${parts[1]}` : parts[0]!;
}

const CORE = ["shared/model", "store ports", "shared/ingest", "shared/engine", "shared/incidents", "shared/alerts"];
const SERVICES = [...CORE, "shared/detect", "shared/catalog"];
/** What each layer may import, besides itself. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  "shared/model": [],
  "store ports": ["shared/model"],
  "shared/ingest": ["shared/model"],
  "shared/engine": ["shared/model"],
  "shared/incidents": ["shared/model", "shared/engine"],
  "shared/alerts": ["shared/model", "store ports"],
  "shared/detect": ["shared/model", "store ports", "shared/ingest", "shared/engine", "shared/incidents"],
  "shared/catalog": ["shared/model", "store ports"],
  "shared/demo": ["shared/model"],
  "shared/app": SERVICES,
  // Adapters implement the ports of the layers they serve.
  "shared/store": ["shared/model", "store ports", "shared/alerts", "shared/app"],
  "shared/channels": ["shared/model", "shared/alerts"],
  "shared/sources": ["shared/model", "shared/ingest", "shared/app"],
  "shared/runtime": [...SERVICES, "shared/app", "shared/store", "shared/channels", "shared/sources"],
  // The wire: use cases and the model's shapes, nothing below them.
  "shared/api": ["shared/app", "shared/model"],
  // The console's file server (console/server.ts) is an edge of its own, which the api function serves too.
  functions: ["shared/app", "shared/model", "shared/runtime", "shared/api", "console"],
};

/** Every relative import of every file under `roots`, as [importer, imported], paths from the repository. */
function imports(roots: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const file of roots.flatMap(files)) {
    const source = readFileSync(file, "utf8");
    for (const m of source.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) out.push([file, relative(".", resolve(dirname(file), m[1]!))]);
  }
  return out;
}

/** The core: plain data in, plain data out. No I/O, no clock, no environment, no clients. */
const PURE = [...CORE.filter((l) => l !== "store ports"), "shared/detect", "shared/catalog", "shared/app"];
const FORBIDDEN: [RegExp, string][] = [
  [/from "@aws-sdk\//, "an AWS client"],
  [/from "node:(fs|fs\/promises|http|https|net|child_process)"/, "I/O"],
  [/\bsetTimeout\(|\bsetInterval\(/, "a timer"],
  [/\bprocess\.env\b/, "the environment"],
  [/\bDate\.now\(|new Date\(\)/, "the clock"],
  [/\bMath\.random\(/, "unseeded randomness"],
];

describe("architecture", () => {
  it.each(PURE)("%s is pure: no I/O, clock, environment or client", (dir) => {
    const problems = files(dir).flatMap((file) => {
      const source = readFileSync(file, "utf8");
      return FORBIDDEN.filter(([re]) => re.test(source)).map(([, what]) => `${file} uses ${what}`);
    });
    expect(problems).toEqual([]);
  });

  it("imports point down only: edges → runtime → app → services and core → model", () => {
    const wrong = imports(["shared", "functions"]).flatMap(([from, to]) => {
      const [a, b] = [layerOf(from), layerOf(to)];
      return a === b || MAY_IMPORT[a]?.includes(b) ? [] : [`${from} imports ${to} (${a} → ${b})`];
    });
    expect(wrong).toEqual([]);
  });

  it("knows every folder of shared/, so a new one is placed on purpose", () => {
    const folders = readdirSync("shared", { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `shared/${e.name}`);
    expect(folders.filter((f) => !(f in MAY_IMPORT))).toEqual([]);
  });

  it("catches an import that runs back up", () => {
    const check = (from: string, to: string) => MAY_IMPORT[layerOf(from)]?.includes(layerOf(to)) ?? false;
    expect(check("shared/api/l4m/groups.ts", "shared/detect/results.ts")).toBe(false);
    expect(check("shared/app/groups.ts", "shared/runtime/local.ts")).toBe(false);
    expect(check("shared/alerts/deliver.ts", "shared/channels/slack/sender.ts")).toBe(false);
    expect(check("shared/model/ids.ts", "shared/ingest/readers.ts")).toBe(false);
    expect(check("shared/alerts/route.ts", "shared/store/records.ts")).toBe(true);
    expect(check("shared/alerts/route.ts", "shared/store/sqlite-records.ts")).toBe(false);
  });

  it("the service loop lives in shared/runtime/service: the one place that schedules work and watches files", () => {
    const source = (f: string) => readFileSync(f, "utf8");
    expect(files("shared").filter((f) => /from "chokidar"|\bfs\.watch\(/.test(source(f)))).toEqual(["shared/runtime/service/watch.ts"]);
    expect(files("shared").filter((f) => /\b(detectDue|ingestDue|runBackTests)\(/.test(source(f)) && !f.startsWith("shared/app/"))).toEqual(["shared/runtime/service/loop.ts"]);
    expect(files("functions").filter((f) => /\bdetectDue\(/.test(source(f)))).toEqual(["functions/detect/handler.ts"]);
  });

  it("handlers stay thin", () => {
    for (const file of files("functions")) expect(readFileSync(file, "utf8").split("\n").length, file).toBeLessThan(60);
  });
});
