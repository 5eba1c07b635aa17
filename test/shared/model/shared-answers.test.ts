import { describe, expect, it } from "vitest";
import { derivedOnce, jsonOf, sharedAnswer } from "../../../shared/model/shared-answers.ts";

describe("shared answers", () => {
  it("are frozen throughout, and their JSON is the JSON of what they hold", () => {
    const answer = sharedAnswer({ list: [{ id: "a", n: 1 }], stats: { total: 1 } });
    expect(Object.isFrozen(answer.list[0])).toBe(true);
    expect(Object.isFrozen(answer.stats)).toBe(true);
    expect(jsonOf(answer)).toBe(JSON.stringify(answer));
    expect(jsonOf(answer)).toBe(jsonOf(answer));
    // Anything not shared is serialized as it is now.
    const plain = { n: 1 };
    expect(jsonOf(plain)).toBe('{"n":1}');
    plain.n = 2;
    expect(jsonOf(plain)).toBe('{"n":2}');
    expect(jsonOf(undefined)).toBe(JSON.stringify(undefined));
  });

  it("derive once from a frozen input, and anew from one that may change", () => {
    const cache = new WeakMap<object, { doubled: number }>();
    let made = 0;
    const derive = (from: { n: number }) => ({ doubled: (made++, from.n * 2) });
    const frozen = Object.freeze({ n: 2 });
    expect(derivedOnce(cache, frozen, derive)).toBe(derivedOnce(cache, frozen, derive));
    expect(made).toBe(1);
    const open = { n: 3 };
    expect(derivedOnce(cache, open, derive)).toEqual({ doubled: 6 });
    open.n = 4;
    expect(derivedOnce(cache, open, derive)).toEqual({ doubled: 8 });
    expect(made).toBe(3);
  });
});
