import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

interface ServerlessFile {
  provider: { runtime: string; architecture: string };
  functions: Record<string, { handler: string; events?: unknown[] }>;
}

const config = parse(readFileSync("serverless.yml", "utf8")) as ServerlessFile;

describe("serverless.yml", () => {
  it("targets Lambda's current Node runtime on arm64", () => {
    expect(config.provider).toMatchObject({ runtime: "nodejs22.x", architecture: "arm64" });
  });

  it.each(Object.entries(config.functions))("function %s has a handler that exists and exports it", async (name, fn) => {
    const [file, exported] = [fn.handler.slice(0, fn.handler.lastIndexOf(".")), fn.handler.slice(fn.handler.lastIndexOf(".") + 1)];
    expect(file).toBe(`functions/${name}/handler`);
    expect(existsSync(`${file}.ts`)).toBe(true);
    expect(fn.events?.length).toBeGreaterThan(0);
    const source = readFileSync(`${file}.ts`, "utf8");
    expect(source).toMatch(new RegExp(`export const ${exported}\\b`));
  });

  it("has a sample event for every function, and every sample event parses", () => {
    for (const name of Object.keys(config.functions)) {
      const dir = join("events", name);
      const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) expect(() => JSON.parse(readFileSync(join(dir, f), "utf8"))).not.toThrow();
    }
  });
});
