import { describe, expect, it } from "vitest";
import { dataQuality, isNotKept, rejectedRows } from "../../../shared/app/index.ts";
import { intervalUri, metricSetRoot } from "../../../shared/detect/results.ts";
import { ResourceNotFoundException } from "../../../shared/model/errors.ts";
import { HOUR } from "../../builders.ts";
import { LIVE, shop } from "./shop.ts";

describe("data quality: rejected rows by reason, and the rows themselves", () => {
  it("counts an interval's rejected rows by reason and answers them with their reasons, to the scope only", async () => {
    const s = await shop(6, { badRowAt: 2 });
    const sets = (await dataQuality(s.services, s.scope, s.detectorArn))[0]!;
    const bad = sets.intervals.find((q) => Date.parse(q.intervalStart) === LIVE + 2 * HOUR)!;
    const byReason = Object.entries(bad.rejectsByReason).filter(([, n]) => n > 0);
    expect(byReason.reduce((n, [, k]) => n + k, 0)).toBe(bad.rowsRejected + bad.rowsPartial);
    const rows = await rejectedRows(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, MetricSetArn: s.metricSet.MetricSetArn, Timestamp: LIVE + 2 * HOUR + 60_000 });
    expect(rows.length).toBe(2);
    expect(new Set(rows.map((r) => r.reason))).toEqual(new Set(byReason.map(([r]) => r)));
    expect(rows.find((r) => r.detail.includes("lots"))).toBeDefined();
    expect(await rejectedRows(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, MetricSetArn: s.metricSet.MetricSetArn, Timestamp: LIVE + HOUR })).toEqual([]);
    await expect(rejectedRows(s.services, { tenant: "other", accountId: "123456789012" }, { AnomalyDetectorArn: s.detectorArn, MetricSetArn: s.metricSet.MetricSetArn, Timestamp: LIVE + 2 * HOUR })).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(rejectedRows(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, MetricSetArn: s.metricSet.MetricSetArn.replace("orders", "nope"), Timestamp: LIVE })).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("reads no more of an interval's rejects file than its limits, in lines and in bytes", async () => {
    const s = await shop(6, { badRowAt: 2 });
    const t = LIVE + 2 * HOUR;
    // A rejects file past what detection writes now (as one written before its limits could be): 5,000 short lines, then one of 2 MB.
    const line = (i: number, row = "y") => JSON.stringify({ file: "f.csv", line: i, reason: "INVALID_TIMESTAMP", detail: "'never' is not a timestamp", partial: false, row });
    const lines = Array.from({ length: 5_000 }, (_, i) => line(i + 1));
    await s.services.blobs.put(`${intervalUri(metricSetRoot(s.services.resultsRoot, s.metricSet), t)}/rejects.jsonl`, `${lines.join("\n")}\n${line(5_001, "y".repeat(2_000_000))}\n`);
    const ask = (limits?: { lines: number; bytes: number }) => rejectedRows(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, MetricSetArn: s.metricSet.MetricSetArn, Timestamp: t }, limits);
    const numbers = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    const lineOf = (r: Awaited<ReturnType<typeof ask>>[number]) => (isNotKept(r) ? r.firstLine : r.line);
    expect((await ask({ lines: 120, bytes: 1_000_000 })).map(lineOf)).toEqual(numbers(120));
    // 100 whole lines and half of the next: the line the bound cuts is not answered.
    const hundred = Buffer.byteLength(lines.slice(0, 100).join("\n")) + 1;
    expect((await ask({ lines: 100_000, bytes: hundred + 40 })).map(lineOf)).toEqual(numbers(100));
    expect((await ask({ lines: 100_000, bytes: 1_000_000 })).map(lineOf)).toEqual(numbers(5_000));
    // Under the real limits (16 MiB) the whole file is answered.
    expect(await ask()).toHaveLength(5_001);
  });
});
