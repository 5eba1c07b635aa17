import { Catalog } from "../catalog/catalog.ts";
import { readAndAggregate, readableOf, ReadStopped, ReadTooLarge } from "../detect/read-files.ts";
import { L4M_QUOTAS, QUOTA_CODES } from "../model/quotas.ts";
import { metricSetRoot, tenantFailureReason } from "../detect/results.ts";
import { ServiceQuotaExceededException, ValidationException } from "../model/errors.ts";
import { intervalMs } from "../model/frequency.ts";
import { arnAccount, resourceKey } from "../model/ids.ts";
import type { AnomalyDetector } from "../model/detector.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { BACK_TESTING, backTestPrefixes, backTestWindowKey, reportUri, type BacktestReport, type BackTestStop, type BackTestWindow } from "./backtest.ts";
import { metricSetFiles } from "./data.ts";
import { catalogOf, systemScope } from "./scope.ts";
import { leaseTime, visiting } from "./under-way.ts";
import type { Services } from "./services.ts";

/**
 * Running the back-tests asked for (BackTestAnomalyDetector, backtest.ts): the detect function
 * loads this only when a detector has one (backTestsAsked), so an invocation that runs none
 * never loads it.
 */

/** L4M's backtest: the first 70% of the history teaches, the last 30% is scored and its groups kept. */
const BACKTEST_LEARN_SHARE = 0.7;

/** The engine's slices, loaded with the first back-test. */
const backTestSlicer = async () => (await import("../detect/backtest.ts")).backtestSlices;

/** A back-test stopped while its history was read or between two slices (a drain, or the end of the time it was given); `detail` says how far a read got. */
export class BackTestInterrupted extends Error {
  override readonly name = "BackTestInterrupted";
  constructor(readonly metricSetArn: string, readonly detail?: string) {
    super(detail ?? `the back-test of ${metricSetArn} was stopped before it finished`);
  }
}

/**
 * Runs every back-test asked for (and any a stopped process left BACK_TEST_ACTIVE): each
 * metric set's history is read, the first 70 % teaches, what the rest raised is kept in its
 * report, with the spans in its data quality. Answers how many ran. The engine runs in
 * slices, and other work of the process goes on between them; `stop` stops it between two
 * (or while its history is read, between two pieces of it), and no other back-test starts.
 * A drain (`stop.then: "wait"`) leaves the detector BACK_TEST_ACTIVE for the next start; the
 * end of the time an invocation gives back-tests (`"fail"`) fails it with the reason (and
 * how far its history was read, when that was not done), since the next invocation would
 * give it no longer.
 */
export async function runBackTests(services: Services, stop: BackTestStop = { signal: new AbortController().signal, then: "wait" }): Promise<number> {
  let ran = 0;
  for (const listed of await Catalog.allDetectors(services.records)) {
    if (stop.signal.aborted) return ran;
    if (!BACK_TESTING.has(listed.Status)) continue;
    const arn = listed.AnomalyDetectorArn;
    // One runner at a time: another detect invocation, or process, running it leaves it be.
    const lease = backTestLease(arn);
    const claimedAt = services.linkClock();
    const until = claimedAt + BACK_TEST_LEASE_MS;
    if (!(await services.records.claim(lease, until, claimedAt))) continue;
    try {
      const outcome = await runDetectorBackTest(services, listed, stop);
      if (outcome !== "skipped") ran++;
      if (outcome === "stopped") return ran;
    } finally {
      await services.records.release(lease, until);
    }
  }
  return ran;
}

/** A held lease on a detector's back-test outlasts any one run of it (a detect invocation's 15 minutes). */
const BACK_TEST_LEASE_MS = 15 * 60_000;
const backTestLease = (arn: string) => `backtest/${resourceKey(arn)}`;

/**
 * The back-test leases a stopped process left held (a crash mid-back-test): released at the
 * start of the only process that runs back-tests (`vigil serve`, which holds its data
 * directory), so its back-tests run again at once, not once the leases run out. Answers how many.
 */
export async function releaseStaleBackTestLeases(services: Services): Promise<number> {
  let released = 0;
  for (const detector of await Catalog.allDetectors(services.records)) {
    if (!BACK_TESTING.has(detector.Status)) continue;
    if (!(await services.records.get("leases", backTestLease(detector.AnomalyDetectorArn)))) continue;
    await services.records.delete("leases", backTestLease(detector.AnomalyDetectorArn));
    released++;
  }
  return released;
}

/**
 * One detector's back-test, its status moved only from where the back-test left it: one
 * a request changed meanwhile (deactivated, activated, deleted) is left as the request
 * left it, with no report. "skipped": it was no longer asked for; "stopped": `stop` came.
 */
async function runDetectorBackTest(services: Services, listed: AnomalyDetector, stop: BackTestStop): Promise<"ran" | "skipped" | "stopped"> {
  const arn = listed.AnomalyDetectorArn;
  const catalog = catalogOf(services, systemScope(services, arnAccount(arn)));
  if (!(await catalog.moveDetectorStatus(listed, ["BACK_TEST_ACTIVATING", "BACK_TEST_ACTIVE"], "BACK_TEST_ACTIVE"))) return "skipped";
  const stillAsked = async () => (await catalog.getDetector(arn).catch(() => undefined))?.Status === "BACK_TEST_ACTIVE";
  let sets: readonly MetricSet[] = [];
  try {
    sets = await catalog.listMetricSets(arn);
    // Each while it stands, its visit recorded: a deletion waits for it, and one that came first stops it (under-way.ts).
    for (const metricSet of sets) if (!(await visiting(services.records, metricSet, leaseTime(services, services.clock()), async () => (await backTestMetricSet(services, metricSet, stop.signal, stillAsked), true)))) throw new BackTestCalledOff();
    await catalog.moveDetectorStatus(listed, ["BACK_TEST_ACTIVE"], "BACK_TEST_COMPLETE");
    return "ran";
  } catch (e) {
    if (e instanceof BackTestCalledOff) return "ran";
    if (e instanceof BackTestInterrupted && stop.then === "wait") return "stopped";
    if (!(e instanceof BackTestInterrupted)) services.observer.failed("back-test", e, { anomalyDetectorArn: arn });
    // The tenant reads the reason: the paths it may see shown, the server's hidden; the operator has the error whole (above). At most 256 characters, as every FailureReason.
    const reason = e instanceof BackTestInterrupted ? ([e.detail, stop.reason].filter(Boolean).join(". ") || e.message).slice(0, 256) : tenantFailureReason(services, arnAccount(arn), e, sets);
    await catalog.moveDetectorStatus(listed, ["BACK_TEST_ACTIVE"], "FAILED", { FailureType: "BACK_TEST_ACTIVATION_FAILURE", FailureReason: reason });
    return e instanceof BackTestInterrupted ? "stopped" : "ran";
  }
}

/** A back-test whose detector a request changed while it ran: nothing more of it is written. */
class BackTestCalledOff extends Error {
  override readonly name = "BackTestCalledOff";
}

/** One metric set's back-test, reading its files as its tenant may (its data roots, or its role). */
async function backTestMetricSet(services: Services, metricSet: MetricSet, signal: AbortSignal, stillAsked: () => Promise<boolean>): Promise<void> {
  if (signal.aborted) throw new BackTestInterrupted(metricSet.MetricSetArn);
  const readable = readableOf(metricSet, metricSetRoot(services.resultsRoot, metricSet));
  const prefixes = backTestPrefixes(readable);
  const files = metricSetFiles(services, systemScope(services, arnAccount(metricSet.MetricSetArn)), metricSet);
  // A history too long to read in the time given is stopped as it is read: read whole, it would outlast the invocation, and every next one.
  // Its aggregate is held in memory while it runs: a history past the quota is refused as it is read (a file of endless new series or timestamps, too).
  const quotas = services.quotas ?? L4M_QUOTAS;
  const maxCells = quotas.valuesPerBackTest;
  // Its bytes as learning a history reads them: a GZIP that inflates without end stops at BytesPerHistory, not at the values it makes.
  // Its files cost nothing beside their bytes: a week of minute files (10,080) would pass the budget on their count alone, and the time given bounds how many are opened.
  const maxBytes = quotas.bytesPerHistory[metricSet.MetricSetFrequency];
  const data = await readAndAggregate(files, readable, prefixes, { signal, maxCells, maxBytes, fileCost: 0 }).catch((e: unknown) => {
    if (e instanceof ReadTooLarge) throw new ServiceQuotaExceededException(`The history of metric set ${metricSet.MetricSetName} holds more than ${maxCells} values (series × intervals), the most one back-test holds (${e.rows} rows of ${e.files} files read): back-test a shorter history`, metricSet.MetricSetArn, "MetricSet", QUOTA_CODES.valuesPerBackTest);
    throw e instanceof ReadStopped ? new BackTestInterrupted(metricSet.MetricSetArn, `The history of metric set ${metricSet.MetricSetName} could not be read within the time given (${e.rows} rows of ${e.files} files read)`) : e;
  });
  // Back-tested in part, it would report on a history other than the one asked for.
  if (data.overBudget) throw new ServiceQuotaExceededException(`The history of metric set ${metricSet.MetricSetName} holds more than ${maxBytes} bytes as read (compressed or inflated, whichever is more), the ${QUOTA_CODES.bytesPerHistory} quota: back-test a shorter history`, metricSet.MetricSetArn, "MetricSet", QUOTA_CODES.bytesPerHistory);
  const starts = [...data.intervals.keys()].sort((a, b) => a - b);
  if (starts.length < 2) throw new ValidationException(`Metric set ${metricSet.MetricSetName} has no history to back-test under ${prefixes.join(", ")}`);
  const len = intervalMs(metricSet.MetricSetFrequency);
  const first = starts[0]!;
  const last = starts.at(-1)!;
  const from = first + Math.floor(((last - first) / len) * BACKTEST_LEARN_SHARE) * len;
  if (signal.aborted) throw new BackTestInterrupted(metricSet.MetricSetArn);
  const slices = (await backTestSlicer())(metricSet, data, { from });
  let slice = slices.next();
  while (!slice.done) {
    // A turn for the process's other work (detection, requests), which a back-test of many series would hold up for minutes.
    await services.timer.sleep(0, signal);
    if (signal.aborted) throw new BackTestInterrupted(metricSet.MetricSetArn);
    slice = slices.next();
  }
  // Its groups are kept in its report, apart from live ones; none for a detector a request changed meanwhile.
  const result = slice.value;
  if (!(await stillAsked())) throw new BackTestCalledOff();
  const peaks = new Map<number, number>();
  for (const a of result.anomalies) peaks.set(a.timestamp, Math.max(peaks.get(a.timestamp) ?? 0, a.score));
  const report: BacktestReport = { MetricSetArn: metricSet.MetricSetArn, from, to: last + len, intervalMs: len, intervalsLearned: result.intervalsLearned, intervalsScored: result.intervalsScored, peaks: [...peaks].sort((a, b) => a[0] - b[0]), groups: result.groups };
  await services.blobs.put(reportUri(services, metricSet), JSON.stringify(report));
  const window: BackTestWindow = { MetricSetArn: metricSet.MetricSetArn, trainingStart: first, trainingEnd: from - len, inferenceStart: from, inferenceEnd: last };
  await services.records.put("quality", backTestWindowKey(metricSet), window);
}
