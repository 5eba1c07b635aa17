import { describe, expect, it } from "vitest";
import type { SeriesCell } from "../../../shared/ingest/aggregate.ts";
import { decodeShardCells, encodeShardCells } from "../../../shared/detect/shard-job.ts";

const walked = (bytes: Uint8Array) => {
  const out: [string, SeriesCell][] = [];
  const input = decodeShardCells(bytes);
  input.cells.forEach((cell, key) => out.push([key, { dimensions: [...cell.dimensions], sums: [...cell.sums], counts: [...cell.counts] }]));
  return { out, input };
};

describe("a shard job's cells", () => {
  it("are read back in order with their dimensions, sums, counts and places", () => {
    const bytes = encodeShardCells({ intervalStart: 7, measures: 2, cells: { ordinals: [4, 9], keys: ["de\u001fios", "fr\u001fweb"], sums: [1, 2, 3, 4], counts: [1, 1, 2, 0] }, verdicts: [], chart: ["k"] });
    const { out, input } = walked(bytes);
    expect(out).toEqual([
      ["de\u001fios", { dimensions: ["de", "ios"], sums: [1, 2], counts: [1, 1] }],
      ["fr\u001fweb", { dimensions: ["fr", "web"], sums: [3, 4], counts: [2, 0] }],
    ]);
    expect([input.ordinalOf("fr\u001fweb"), input.ordinalOf("de\u001fios"), input.ordinalOf("xx")]).toEqual([9, 4, undefined]);
    expect([input.intervalStart, input.chart]).toEqual([7, ["k"]]);
  });

  it("are read as the version before wrote them (dimension lists), for jobs still queued while it is replaced", () => {
    const header = new TextEncoder().encode(JSON.stringify({ intervalStart: 7, measures: 1, dimensions: [["de", "ios"]], verdicts: [], chart: [] }));
    const at = 8 + header.length + ((8 - (header.length % 8)) % 8);
    const bytes = new Uint8Array(at + 16 + 4);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, header.length, true);
    view.setUint32(4, 1, true);
    bytes.set(header, 8);
    new Float64Array(bytes.buffer, at, 2).set([5, 1]);
    new Uint32Array(bytes.buffer, at + 16, 1).set([3]);
    const { out, input } = walked(bytes);
    expect(out).toEqual([["de\u001fios", { dimensions: ["de", "ios"], sums: [5], counts: [1] }]]);
    expect(input.ordinalOf("de\u001fios")).toBe(3);
  });
});
