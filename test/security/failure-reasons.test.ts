import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { accountOf } from "../../cli/serve.ts";
import { activateDetector, backTestDetector, createDetector, createMetricSet, describeDetector, detectDue, executions, runBackTests, silentObserver, type Observer, type Scope } from "../../shared/app/index.ts";
import { metricSetRoot } from "../../shared/detect/results.ts";
import { streamRecords } from "../../shared/ingest/readers.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { csvOf, HOUR, metricSetRequest, shopPoints, T0, liveFolder, CSV_FILES } from "../builders.ts";
import { tempDirOnce } from "../servers.ts";

/**
 * Finding: an interval's FailureReason (DescribeAnomalyDetectionExecutions), an activation's
 * or a back-test's (DescribeAnomalyDetector) carried the error's message as it was. A system
 * error (ENOENT, ENOTDIR, EACCES…) names the absolute path it failed on: the server's data
 * directory, Vigil's results store. Now a reason shows the paths the tenant may read (its
 * data roots) and those it named, as it named them, and no other; the operator's log has the
 * error whole.
 */
const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
const LIVE = T0 + 14 * 24 * HOUR;

/** A tenant of vigil serve with its data root, a detector and a metric set reading it; the errors the operator was told of. */
async function tenantWithMetricSet(activate = true) {
  const base = await tempDirOnce();
  const root = join(base, "b");
  const told: unknown[] = [];
  const observer: Observer = { ...silentObserver, failed: (_what, error) => void told.push(error) };
  const rt = localServices(join(base, "vigil"), { clock: () => LIVE, dataRootsOf: (account) => (account === accountOf("b") ? [root] : []), observer });
  await rt.blobs.put(join(root, "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES)));
  await rt.blobs.put(join(root, "live", liveFolder(LIVE), "part.csv"), csvOf(shopPoints(LIVE, 1, SERIES)));
  const scope: Scope = { tenant: "b", accountId: accountOf("b"), dataRoots: [root] };
  const detector = await createDetector(rt, scope, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const metricSet = await createMetricSet(rt, scope, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(root, "live", "{{yyyyMMdd}}", "{{HHmm}}")], HistoricalDataPathList: [join(root, "history")], ...CSV_FILES } } }));
  if (activate) await activateDetector(rt, scope, detector.AnomalyDetectorArn);
  /** The metric set's model folder made a file: reading the model fails with ENOTDIR, naming a path in Vigil's results store. */
  const breakModel = async () => {
    const model = join(metricSetRoot(rt.resultsRoot, metricSet), "model");
    await rename(model, `${model}-was`).catch(() => undefined);
    await mkdir(dirname(model), { recursive: true });
    await writeFile(model, "not a folder");
    return model;
  };
  /** Where the back-test's report goes made a folder with a file in it: writing the report fails, naming a path in Vigil's results store. */
  const breakReport = async () => {
    const report = join(metricSetRoot(rt.resultsRoot, metricSet), "backtest.json");
    await mkdir(report, { recursive: true });
    await writeFile(join(report, "in-the-way"), "");
    return report;
  };
  return { base, root, rt, scope, detector, told, breakModel, breakReport };
}

describe("failure reasons a tenant reads", () => {
  it("an interval failing on Vigil's results store says the error and what failed, not the server's path; the operator is told the path", async () => {
    const { base, rt, scope, detector, told, breakModel } = await tenantWithMetricSet();
    expect((await detectDue(rt, LIVE)).map((r) => r.outcome.kind)).not.toContain("failed");
    const model = await breakModel();
    await detectDue(rt, LIVE + HOUR).catch(() => undefined);
    const [execution] = await executions(rt, scope, detector.AnomalyDetectorArn, undefined);
    expect(execution).toMatchObject({ Status: "FAILED", FailureReason: expect.stringContaining("ENOTDIR") });
    expect(execution!.FailureReason).not.toContain(base);
    expect(execution!.FailureReason).not.toContain(rt.resultsRoot);
    expect(execution!.FailureReason).toContain("ENOTDIR: not a directory, open <results store>");
    // The operator's log has the error whole.
    expect(told.map(String).join("\n")).toContain(model);
  });

  it("an activation failing on the results store says so without the path", async () => {
    const { base, rt, scope, detector, breakModel } = await tenantWithMetricSet();
    await breakModel();
    await detectDue(rt, LIVE).catch(() => undefined);
    const described = await describeDetector(rt, scope, detector.AnomalyDetectorArn);
    expect(described).toMatchObject({ Status: "FAILED", FailureType: "ACTIVATION_FAILURE", FailureReason: expect.stringContaining("ENOTDIR") });
    expect(described.FailureReason).not.toContain(base);
  });

  it("a back-test failing on the results store says so without the path; the operator is told the path", async () => {
    const { base, rt, scope, detector, told, breakReport } = await tenantWithMetricSet(false);
    const report = await breakReport();
    await backTestDetector(rt, scope, detector.AnomalyDetectorArn);
    await runBackTests(rt);
    const described = await describeDetector(rt, scope, detector.AnomalyDetectorArn);
    expect(described).toMatchObject({ Status: "FAILED", FailureType: "BACK_TEST_ACTIVATION_FAILURE", FailureReason: expect.stringMatching(/^E[A-Z]+: .*<results store>/) });
    expect(described.FailureReason).not.toContain(base);
    expect(told.map(String).join("\n")).toContain(report);
  });

  it("a GZIP file whose stream fails names no server path in its reject", async () => {
    const error = Object.assign(new Error("EACCES: permission denied, open '/srv/vigil/state/records.db'"), { code: "EACCES", syscall: "open", path: "/srv/vigil/state/records.db" });
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([0x1f, 0x8b]);
      throw error;
    }
    const details: string[] = [];
    for await (const batch of streamRecords("/data/b/live/part.csv.gz", failing(), CSV_FILES.FileFormatDescriptor)) for (const item of batch) if ("malformed" in item) details.push(item.malformed.detail);
    expect(details).toHaveLength(1);
    expect(details[0]).toContain("EACCES");
    expect(details[0]).not.toContain("/srv/vigil");
  });
});
