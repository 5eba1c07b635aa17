import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SeriesBank } from "../../../shared/engine/bank.ts";
import { emptyModel, ModelFrequencyChanged, readShard, writeShard } from "../../../shared/detect/shard-model.ts";
import { LocalBlobStore } from "../../../shared/store/local-blobs.ts";
import { HOUR, tempDir } from "../../builders.ts";

const FIVE_MINUTES = 300_000;

/** A shard of one series learned at `intervalMs`, written as a run writes it: answers where. */
async function savedShard(intervalMs: number) {
  const blobs = new LocalBlobStore();
  const root = join(await tempDir(), "results");
  const bank = new SeriesBank(intervalMs);
  bank.slot("views\u001eweb");
  await writeShard(blobs, root, "1610000000000-run", "", bank, { ...emptyModel(intervalMs, undefined).head, bank });
  return { blobs, root };
}

describe("a model's shard read back", () => {
  it("holds its series as saved, at the metric set's frequency", async () => {
    const { blobs, root } = await savedShard(HOUR);
    const bank = await readShard(blobs, root, "1610000000000-run", "", HOUR);
    expect(bank.keys).toEqual(["views\u001eweb"]);
    expect(bank.intervalMs).toBe(HOUR);
  });

  it("is refused when it was learned at another frequency than the metric set's, rather than scored with that frequency's cycles", async () => {
    const { blobs, root } = await savedShard(HOUR);
    const read = readShard(blobs, root, "1610000000000-run", "", FIVE_MINUTES);
    await expect(read).rejects.toThrow(ModelFrequencyChanged);
    await expect(read).rejects.toThrow(/every 3600 s.*every 300 s/);
  });
});
