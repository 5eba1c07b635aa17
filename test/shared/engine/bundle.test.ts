import { build } from "esbuild";
import { describe, expect, it } from "vitest";

/**
 * esbuild declares every module's top-level `const` with `var` in the bundles that ship,
 * and optimised code loads a `var` from memory and checks its type at every use: the
 * constants a point reads are enum members, which esbuild writes in place (docs/engine.md,
 * "Constants in place"). This keeps a new module-level number off a point's path.
 */

/** Functions reached from step only in rare branches (a slot that moved, a rarity above 0): a load there costs nothing a point. */
const RARE = new Set(["dailyRate", "weeklyRate", "scoreOfRarity"]);

async function bundledStep(): Promise<string> {
  const out = await build({ entryPoints: ["shared/engine/step.ts"], bundle: true, write: false, format: "esm", platform: "node", logLevel: "error" });
  return out.outputFiles[0]!.text;
}

/** The body of top-level function `name`, braces matched (the engine's code holds no brace in a string). */
function bodyOf(js: string, name: string): string {
  const at = js.search(new RegExp(`^function ${name}\\(`, "m"));
  let i = js.indexOf("{", js.indexOf(")", at));
  const start = i;
  for (let depth = 0; i < js.length; i++) {
    if (js[i] === "{") depth++;
    else if (js[i] === "}" && --depth === 0) break;
  }
  return js.slice(start, i + 1);
}

/** Top-level `var`s whose value is a number: literals and arithmetic over them and Math. */
const numericVars = (js: string) =>
  [...js.matchAll(/^var (\w+) = ([^;\n]+);$/gm)].filter(([, , init]) => /^[\w\s.+\-*/()]+$/.test(init!) && !/\b(?!Math\b)[a-z]\w*\(/.test(init!)).map(([, name]) => name!);

/** Every top-level function `step` calls, directly or through others. */
function reachedFromStep(js: string): string[] {
  const functions = [...js.matchAll(/^function (\w+)\(/gm)].map((m) => m[1]!);
  const seen = new Set<string>();
  const todo = ["step"];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const body = bodyOf(js, f);
    for (const g of functions) if (!seen.has(g) && new RegExp(`\\b${g}\\(`).test(body)) todo.push(g);
  }
  return [...seen];
}

describe("the engine as bundled", () => {
  it("reads no module-level number on a point's path: each is written in place", async () => {
    const js = await bundledStep();
    const numbers = numericVars(js);
    // The probe sees what it must: the bundle does declare numeric vars (those off the path).
    expect(numbers.length).toBeGreaterThan(0);
    const reached = reachedFromStep(js);
    expect(reached).toEqual(expect.arrayContaining(["step", "eventSeverity", "tailRarity", "beyondBlocks", "closeBlock", "routineOf", "holdEvent"]));
    const loads = reached.filter((f) => !RARE.has(f)).flatMap((f) => numbers.filter((v) => new RegExp(`\\b${v}\\b`).test(bodyOf(js, f))).map((v) => `${f}: ${v}`));
    expect(loads).toEqual([]);
  });
});
