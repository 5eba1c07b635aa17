import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { madeOnFirstUse, onFirstUse } from "../../../shared/model/first-use.ts";

describe("onFirstUse", () => {
  it("builds on the first call only", () => {
    let builds = 0;
    const schema = onFirstUse(() => ({ built: ++builds }));
    expect(builds).toBe(0);
    expect(schema()).toBe(schema());
    expect(builds).toBe(1);
  });
});

describe("madeOnFirstUse", () => {
  it("makes once for every caller, also callers that come while it is being made", async () => {
    let makes = 0;
    const client = madeOnFirstUse(async () => ({ made: ++makes }));
    const [a, b] = await Promise.all([client(), client()]);
    expect(a).toBe(b);
    expect(await client()).toBe(a);
    expect(makes).toBe(1);
  });

  it("keeps no failure: after any run of failures the next call makes it again, and a success is kept", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 5 }), async (failures) => {
        let makes = 0;
        const client = madeOnFirstUse(async () => {
          if (++makes <= failures) throw new Error(`out of reach (${makes})`);
          return { made: makes };
        });
        for (let i = 1; i <= failures; i++) await expect(client()).rejects.toThrow(`out of reach (${i})`);
        const made = await client();
        expect(made).toEqual({ made: failures + 1 });
        expect(await client()).toBe(made);
        expect(makes).toBe(failures + 1);
      }),
    );
  });

  it("takes a maker that throws before it returns a promise as a failure, not a crash", async () => {
    let calls = 0;
    const client = madeOnFirstUse((): Promise<number> => {
      if (++calls === 1) throw new Error("thrown at once");
      return Promise.resolve(calls);
    });
    await expect(client()).rejects.toThrow("thrown at once");
    expect(await client()).toBe(2);
  });
});
