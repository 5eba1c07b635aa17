import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { L4M_QUOTAS } from "../../../shared/model/quotas.ts";
import { describe, expect, it } from "vitest";
import { activateDetector, backTestDetector, backTestReports, createDetector, createMetricSet, deactivateDetector, deleteDetector, describeDetector, detectDue, getGroup, listGroupSummaries, listMetricSets, OPERATOR, runBackTests, type Services } from "../../../shared/app/index.ts";
import { backTestWindowKey } from "../../../shared/app/backtest.ts";
import type { AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import { ResourceNotFoundException, ValidationException } from "../../../shared/model/errors.ts";
import { csvOf, HOUR, localAt, metricSetRequest, shopPoints, T0, tempDir, type ShopPoint, liveFolder } from "../../builders.ts";

const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
const SPIKE = T0 + 12 * 24 * HOUR + 5 * HOUR;
const spike = (p: ShopPoint): ShopPoint => (p.marketplace === "fr" && p.t === SPIKE ? { ...p, views: Number(p.views) * 4 } : p);

describe("the back-test report, kept apart from live detection", () => {
  it("reports what a configuration would have raised over history, answers its groups while in back-test, and its live ones once active", async () => {
    const dir = await tempDir();
    let now = T0 + 14 * 24 * HOUR;
    const s = localAt(dir, () => now);
    await s.blobs.put(join(dir, "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES, spike)));
    for (let h = 0; h < 3; h++) await s.blobs.put(join(dir, "live", liveFolder(now + h * HOUR), "p.csv"), csvOf(shopPoints(now + h * HOUR, 1, SERIES)));
    const d = await createDetector(s, OPERATOR, { AnomalyDetectorName: "trial", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const ms = await createMetricSet(s, OPERATOR, metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(dir, "live/{{yyyyMMdd}}/{{HHmm}}")], HistoricalDataPathList: [join(dir, "history")] } } }));
    // Asked for, then run apart (the service loop's or the detect function's work).
    await backTestDetector(s, OPERATOR, d.AnomalyDetectorArn);
    expect(await runBackTests(s)).toBe(1);

    const [one, ...rest] = await backTestReports(s, OPERATOR, d.AnomalyDetectorArn);
    expect(rest).toEqual([]);
    const { report, groups } = one!;
    expect(report.MetricSetArn).toBe(ms.MetricSetArn);
    // The last 30 % of 14 days is scored; the rest teaches.
    expect(report.intervalsLearned + report.intervalsScored).toBe(14 * 24);
    expect(report.from).toBe(T0 + Math.floor((14 * 24 - 1) * 0.7) * HOUR);
    expect(report.to).toBe(T0 + 14 * 24 * HOUR);
    const found = groups.find((g) => g.StartTime === new Date(SPIKE).toISOString().replace(".000", ""));
    expect(found).toBeDefined();
    expect(report.peaks.find(([t]) => t === SPIKE)![1]).toBeGreaterThanOrEqual(60);
    expect(report.peaks.every(([t]) => t >= report.from && t < report.to)).toBe(true);

    // Nothing joined the live groups; in back-test, the group operations answer the back-test's.
    expect(await s.records.list<AnomalyGroupRecord>("groups")).toEqual([]);
    expect((await listGroupSummaries(s, OPERATOR, d.AnomalyDetectorArn, 0, { limit: 100 })).groups.map((g) => g.AnomalyGroupId).sort()).toEqual(groups.map((g) => g.AnomalyGroupId).sort());
    expect(await getGroup(s, OPERATOR, d.AnomalyDetectorArn, found!.AnomalyGroupId)).toEqual(found);
    // Paged as L4M pages: most severe first, then oldest first.
    const first = await listGroupSummaries(s, OPERATOR, d.AnomalyDetectorArn, 0, { limit: 1 });
    expect(first.totalCount).toBe(groups.length);
    if (groups.length > 1) expect((await listGroupSummaries(s, OPERATOR, d.AnomalyDetectorArn, 0, { limit: 1, cursor: first.next })).groups[0]!.AnomalyGroupScore).toBeLessThanOrEqual(first.groups[0]!.AnomalyGroupScore);

    // Made live: its own groups only (none in three quiet hours), the report still there; no back-test while live.
    await activateDetector(s, OPERATOR, d.AnomalyDetectorArn);
    await expect(backTestDetector(s, OPERATOR, d.AnomalyDetectorArn)).rejects.toBeInstanceOf(ValidationException);
    for (let h = 1; h <= 3; h++) {
      now += HOUR;
      await detectDue(s, now);
    }
    expect((await listGroupSummaries(s, OPERATOR, d.AnomalyDetectorArn, 0, { limit: 100 })).groups).toEqual([]);
    await expect(getGroup(s, OPERATOR, d.AnomalyDetectorArn, found!.AnomalyGroupId)).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect((await backTestReports(s, OPERATOR, d.AnomalyDetectorArn))[0]!.groups).toEqual(groups);
    await expect(backTestReports(s, { tenant: "other", accountId: "123456789012" }, d.AnomalyDetectorArn)).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

/**
 * A detector asked to back-test two weeks of `series` series, in `files` history files of as
 * many hours each (GZIP files of the text `gzipped` makes of each, when given); `during` runs
 * once, while the back-test first lists its files, and `reading` as it opens each history
 * file (the how-manyth read, from 1).
 */
async function backTestAsked(options: { series?: number; files?: number; name?: string; during?: (s: Services, arn: string) => Promise<void>; reading?: (n: number) => void; gzipped?: (csv: string) => string } = {}) {
  const dir = await tempDir();
  const base = localAt(dir, () => T0 + 14 * 24 * HOUR);
  const series = Array.from({ length: options.series ?? 2 }, (_, i) => ({ platform: "web", marketplace: `m${i}`, base: 300 + 10 * i }));
  const files = options.files ?? 1;
  const hours = (14 * 24) / files;
  for (let f = 0; f < files; f++) {
    const csv = csvOf(shopPoints(T0 + f * hours * HOUR, hours, series));
    const name = files === 1 ? "all.csv" : `part-${f}.csv`;
    if (options.gzipped) await base.blobs.put(join(dir, "history", `${name}.gz`), gzipSync(options.gzipped(csv)));
    else await base.blobs.put(join(dir, "history", name), csv);
  }
  let arn = "";
  let listed = 0;
  let reads = 0;
  const s: Services = {
    ...base,
    dataFiles: (grant) => {
      const files = base.dataFiles(grant);
      return {
        ...files,
        list: async (prefix) => {
          if (prefix.includes("history") && listed++ === 0) await options.during?.(s, arn);
          return files.list(prefix);
        },
        read: async (file) => {
          if (file.includes("history")) options.reading?.(++reads);
          return files.read(file);
        },
      };
    },
  };
  const d = await createDetector(s, OPERATOR, { AnomalyDetectorName: "trial", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  arn = d.AnomalyDetectorArn;
  await createMetricSet(s, OPERATOR, metricSetRequest({ AnomalyDetectorArn: arn, ...(options.name ? { MetricSetName: options.name } : {}), MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "history")] } } }));
  await backTestDetector(s, OPERATOR, arn);
  return { s, arn, dir, listings: () => listed, reads: () => reads };
}

describe("a back-test and what requests do while it runs", () => {
  it("leaves an activation asked for while it ran as the request left it (the detector detects)", async () => {
    const { s, arn } = await backTestAsked({
      during: async (s, arn) => {
        await deactivateDetector(s, OPERATOR, arn);
        await activateDetector(s, OPERATOR, arn);
      },
    });
    expect(await runBackTests(s)).toBe(1);
    expect((await describeDetector(s, OPERATOR, arn)).Status).toBe("ACTIVATING");
    expect(await backTestReports(s, OPERATOR, arn)).toEqual([]);
  });

  it("holds off a deletion asked for while it runs, and leaves no report once deleted: one made again under the name starts afresh", async () => {
    let refused: unknown;
    const { s, arn, dir } = await backTestAsked({
      during: async (s, arn) => {
        await deactivateDetector(s, OPERATOR, arn);
        refused = await deleteDetector(s, OPERATOR, arn).catch((e: unknown) => e);
      },
    });
    await runBackTests(s);
    expect(refused).toMatchObject({ name: "ConflictException" });
    await deleteDetector(s, OPERATOR, arn);
    const again = await createDetector(s, OPERATOR, { AnomalyDetectorName: "trial", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    expect(again.AnomalyDetectorArn).toBe(arn);
    await createMetricSet(s, OPERATOR, metricSetRequest({ AnomalyDetectorArn: arn, MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "history")] } } }));
    expect(await backTestReports(s, OPERATOR, arn)).toEqual([]);
  });

  it("is run once by 50 runners at once (detect invocations racing on one records store)", async () => {
    const { s, arn } = await backTestAsked();
    const ran = await Promise.all(Array.from({ length: 50 }, () => runBackTests(s)));
    expect(ran.reduce((a, b) => a + b, 0)).toBe(1);
    expect((await describeDetector(s, OPERATOR, arn)).Status).toBe("BACK_TEST_COMPLETE");
    expect(await backTestReports(s, OPERATOR, arn)).toHaveLength(1);
  });

  it("is run by one runner at a time: a second (another detect invocation) leaves the one the first holds", async () => {
    let second: number | undefined;
    const { s, arn } = await backTestAsked({ during: async (s) => void (second = await runBackTests(s)) });
    expect(await runBackTests(s)).toBe(1);
    expect(second).toBe(0);
    expect((await describeDetector(s, OPERATOR, arn)).Status).toBe("BACK_TEST_COMPLETE");
  });
});

describe("a back-test stopped", () => {
  it("by a drain before it begins, reads nothing, and stays BACK_TEST_ACTIVATING for the next start", async () => {
    const { s, arn, listings } = await backTestAsked();
    const drained = new AbortController();
    drained.abort();
    expect(await runBackTests(s, { signal: drained.signal, then: "wait" })).toBe(0);
    expect(listings()).toBe(0);
    expect((await describeDetector(s, OPERATOR, arn)).Status).toBe("BACK_TEST_ACTIVATING");
  });

  it("by a drain between two slices of the engine, stays BACK_TEST_ACTIVE with no report, and is run whole by the next start", async () => {
    // 16 series over two weeks: more series-intervals than one slice.
    const { s, arn } = await backTestAsked({ series: 16 });
    const drained = new AbortController();
    let turns = 0;
    const timer: Services["timer"] = { random: Math.random, sleep: async () => void (turns++, drained.abort()) };
    expect(await runBackTests({ ...s, timer }, { signal: drained.signal, then: "wait" })).toBe(1);
    expect(turns).toBe(1);
    expect((await describeDetector(s, OPERATOR, arn)).Status).toBe("BACK_TEST_ACTIVE");
    expect(await backTestReports(s, OPERATOR, arn)).toEqual([]);
    expect(await runBackTests(s)).toBe(1);
    expect((await describeDetector(s, OPERATOR, arn)).Status).toBe("BACK_TEST_COMPLETE");
  });

  it("whose history holds more values than ValuesPerBackTest is refused as it is read, with the quota's reason and no report", async () => {
    // Three files of 112 hours of 4 series: 448 values each; the quota is passed in the second.
    const { s, arn, reads } = await backTestAsked({ series: 4, files: 3, reading: () => {} });
    const quotas = { ...L4M_QUOTAS, valuesPerBackTest: 600 };
    await runBackTests({ ...s, quotas }, { signal: new AbortController().signal, then: "fail" });
    expect(reads()).toBe(2);
    expect(await describeDetector(s, OPERATOR, arn)).toMatchObject({ Status: "FAILED", FailureType: "BACK_TEST_ACTIVATION_FAILURE", FailureReason: expect.stringMatching(/^The history of metric set orders holds more than 600 values \(series × intervals\), the most one back-test holds/) });
    expect(await backTestReports(s, OPERATOR, arn)).toEqual([]);
    // Within the quota, the same history is back-tested.
    const roomy = await backTestAsked({ series: 4, files: 3 });
    await runBackTests({ ...roomy.s, quotas: { ...L4M_QUOTAS, valuesPerBackTest: 4 * 14 * 24 } }, { signal: new AbortController().signal, then: "fail" });
    expect((await describeDetector(roomy.s, OPERATOR, roomy.arn)).Status).toBe("BACK_TEST_COMPLETE");
  });

  it("whose history inflates past BytesPerHistory (a GZIP bomb) is refused with the quota's reason and no report", async () => {
    // Two weeks of 2 series, each row repeated 200 times: 672 values, but ~6 MB inflated from a few kilobytes of GZIP.
    const repeated = (csv: string) => {
      const [header, ...rows] = csv.trimEnd().split("\n");
      return [header, ...rows.flatMap((r) => Array<string>(200).fill(r))].join("\n") + "\n";
    };
    const { s, arn } = await backTestAsked({ gzipped: repeated });
    const quotas = { ...L4M_QUOTAS, bytesPerHistory: { ...L4M_QUOTAS.bytesPerHistory, PT1H: 1024 * 1024 } };
    await runBackTests({ ...s, quotas }, { signal: new AbortController().signal, then: "fail" });
    expect(await describeDetector(s, OPERATOR, arn)).toMatchObject({ Status: "FAILED", FailureType: "BACK_TEST_ACTIVATION_FAILURE", FailureReason: expect.stringMatching(/^The history of metric set orders holds more than 1048576 bytes as read .*the BytesPerHistory quota/) });
    expect(await backTestReports(s, OPERATOR, arn)).toEqual([]);
    // Within the quota, the same history is back-tested.
    const roomy = await backTestAsked({ gzipped: repeated });
    await runBackTests({ ...roomy.s, quotas: { ...L4M_QUOTAS, bytesPerHistory: { ...L4M_QUOTAS.bytesPerHistory, PT1H: 16 * 1024 * 1024 } } }, { signal: new AbortController().signal, then: "fail" });
    expect((await describeDetector(roomy.s, OPERATOR, roomy.arn)).Status).toBe("BACK_TEST_COMPLETE");
  });

  it("reads a history of many small files whose count alone would pass BytesPerHistory (a week of minute files, say): files cost only their bytes", async () => {
    // 56 files of 6 hours of 2 series, a few kilobytes each; 56 files at 16 KiB an opening would be 896 KiB, past the quota of 512 KiB.
    const { s, arn } = await backTestAsked({ files: 56 });
    const quotas = { ...L4M_QUOTAS, bytesPerHistory: { ...L4M_QUOTAS.bytesPerHistory, PT1H: 512 * 1024 } };
    await runBackTests({ ...s, quotas }, { signal: new AbortController().signal, then: "fail" });
    expect((await describeDetector(s, OPERATOR, arn)).Status).toBe("BACK_TEST_COMPLETE");
  });

  it("by the end of its share of an invocation, fails with the reason given", async () => {
    const { s, arn } = await backTestAsked({ series: 16 });
    const ended = new AbortController();
    const timer: Services["timer"] = { random: Math.random, sleep: async () => void ended.abort() };
    await runBackTests({ ...s, timer }, { signal: ended.signal, then: "fail", reason: "no time left" });
    expect(await describeDetector(s, OPERATOR, arn)).toMatchObject({ Status: "FAILED", FailureType: "BACK_TEST_ACTIVATION_FAILURE", FailureReason: "no time left" });
  });

  it("by the end of its share of an invocation while its history is read, stops reading at once and fails saying how far it read, with no report", async () => {
    const ended = new AbortController();
    // Three files of 112 hours of 2 series: the time ends as the second is opened.
    const { s, arn, reads } = await backTestAsked({ files: 3, reading: (n) => n === 2 && ended.abort() });
    let turns = 0;
    const timer: Services["timer"] = { random: Math.random, sleep: async () => void turns++ };
    expect(await runBackTests({ ...s, timer }, { signal: ended.signal, then: "fail", reason: "no time left" })).toBe(1);
    expect(reads()).toBe(2);
    expect(turns).toBe(0);
    expect(await describeDetector(s, OPERATOR, arn)).toMatchObject({
      Status: "FAILED",
      FailureType: "BACK_TEST_ACTIVATION_FAILURE",
      FailureReason: "The history of metric set orders could not be read within the time given (224 rows of 2 files read). no time left",
    });
    expect(await backTestReports(s, OPERATOR, arn)).toEqual([]);
    const [metricSet] = await listMetricSets(s, OPERATOR, arn);
    expect(await s.records.get("quality", backTestWindowKey(metricSet!))).toBeUndefined();
  });

  it("by a drain while its history is read, stays BACK_TEST_ACTIVE with no report, and is read whole by the next start", async () => {
    const drained = new AbortController();
    const { s, arn, reads } = await backTestAsked({ files: 3, reading: (n) => n === 2 && drained.abort() });
    expect(await runBackTests(s, { signal: drained.signal, then: "wait" })).toBe(1);
    expect(reads()).toBe(2);
    expect((await describeDetector(s, OPERATOR, arn)).Status).toBe("BACK_TEST_ACTIVE");
    expect(await backTestReports(s, OPERATOR, arn)).toEqual([]);
    expect(await runBackTests(s)).toBe(1);
    expect(reads()).toBe(5);
    expect((await describeDetector(s, OPERATOR, arn)).Status).toBe("BACK_TEST_COMPLETE");
    const [one] = await backTestReports(s, OPERATOR, arn);
    expect(one!.report.intervalsLearned + one!.report.intervalsScored).toBe(14 * 24);
    expect(await s.records.get("quality", backTestWindowKey(one!.metricSet))).toMatchObject({ trainingStart: T0, inferenceEnd: T0 + (14 * 24 - 1) * HOUR });
  });
  it("stopped while its history is read, with a long name and the detect function's long reason, fails with a reason of at most 256 characters", async () => {
    const ended = new AbortController();
    const name = "m".repeat(63);
    const { s, arn } = await backTestAsked({ files: 3, name, reading: (n) => n === 2 && ended.abort() });
    const reason = "The back-test did not finish within the 450 s a detect invocation gives back-tests (half of its time); back-test a shorter history";
    await runBackTests(s, { signal: ended.signal, then: "fail", reason });
    const described = await describeDetector(s, OPERATOR, arn);
    expect(described).toMatchObject({ Status: "FAILED", FailureReason: expect.stringContaining(`The history of metric set ${name} could not be read`) });
    expect(described.FailureReason!.length).toBeLessThanOrEqual(256);
  });
});
