import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inferConfig } from "../../../shared/ingest/infer.ts";
import { readHead } from "../../../shared/ingest/readers.ts";
import { HOUR, T0 } from "../../builders.ts";

/** A file's start as a sample reads it. */
const headOf = (bytes: Uint8Array) =>
  readHead(
    (async function* () {
      yield bytes;
    })(),
  );

const name = fc.stringMatching(/^[a-z][a-z_]{2,8}$/);

describe("inferConfig", () => {
  it("recovers delimiter, header, timestamp column, measures, dimensions and frequency from any such CSV", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(",", ";", "\t", "|"),
        fc.uniqueArray(name, { minLength: 2, maxLength: 5 }),
        fc.constantFrom(["PT1M", 60_000] as const, ["PT5M", 300_000] as const, ["PT1H", HOUR] as const, ["P1D", 24 * HOUR] as const),
        fc.boolean(),
        fc.integer({ min: 3, max: 30 }),
        async (delimiter, names, [frequency, step], gzip, rows) => {
          const [dims, measures] = [names.slice(0, Math.ceil(names.length / 2)), names.slice(Math.ceil(names.length / 2))];
          const header = ["event_time", ...dims, ...measures];
          const lines = Array.from({ length: rows }, (_, i) => [new Date(T0 + i * step).toISOString().slice(0, 19).replace("T", " "), ...dims.map((d) => `${d}_${i % 3}`), ...measures.map((_, m) => String((i * 7 + m) % 50))].join(delimiter));
          const text = [header.join(delimiter), ...lines].join("\n");
          const g = inferConfig(await headOf(gzip ? gzipSync(text) : new TextEncoder().encode(text)));
          expect(g.compression.value).toBe(gzip ? "GZIP" : "NONE");
          expect(g.delimiter.value).toBe(delimiter);
          expect(g.containsHeader.value).toBe(true);
          expect(g.header.value).toEqual(header);
          expect(g.timestampColumn.value).toEqual({ ColumnName: "event_time", ColumnFormat: "yyyy-MM-dd HH:mm:ss" });
          expect(g.measures.value).toEqual(measures.length ? measures : []);
          expect(g.dimensions.value).toEqual(dims);
          expect(g.frequency.value).toBe(frequency);
        },
      ),
    );
  });

  it("reads JSON Lines, and says when it cannot tell", async () => {
    const json = [1, 2, 3].map((i) => JSON.stringify({ ts: new Date(T0 + i * HOUR).toISOString(), shop: "de", orders: i })).join("\n");
    const g = inferConfig(await headOf(new TextEncoder().encode(json)));
    expect(g.format.JsonFormatDescriptor).toBeDefined();
    expect(g.timestampColumn.value).toEqual({ ColumnName: "ts", ColumnFormat: "ISO_8601" });
    expect([g.measures.value, g.dimensions.value]).toEqual([["orders"], ["shop"]]);
    const none = inferConfig(await headOf(new TextEncoder().encode("a,b\nx,y\n")));
    expect(none.timestampColumn.confidence).toBe("NONE");
    expect(none.frequency.confidence).toBe("NONE");
  });

  it("reads JSON Lines whose values are objects that cannot be made text (`{\"toString\":0}`), showing them as their JSON", async () => {
    const json = [0, 1, 2].map((i) => JSON.stringify({ ts: `2024-01-01T0${i}:00:00Z`, shop: { toString: 0 }, n: [i] })).join("\n");
    const g = inferConfig(await headOf(new TextEncoder().encode(json)));
    expect(g.sampleRows[0]).toEqual(["2024-01-01T00:00:00Z", '{"toString":0}', "[0]"]);
  });

  it("infers P1D from rows stamped at a zone's midnight across the start of summer time (23 hours apart once)", async () => {
    const days = ["2021-03-12T00:00:00-05:00", "2021-03-13T00:00:00-05:00", "2021-03-14T00:00:00-05:00", "2021-03-15T00:00:00-04:00", "2021-03-16T00:00:00-04:00"];
    const g = inferConfig(await headOf(new TextEncoder().encode("day,store,orders\n" + days.map((d, i) => `${d},nyc,${100 + i}\n`).join(""))));
    expect(g.timestampColumn.value?.ColumnName).toBe("day");
    expect(g.frequency).toMatchObject({ value: "P1D", confidence: "HIGH" });
  });
});
