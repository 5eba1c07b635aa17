import type { JSX } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { call } from "../api.ts";
import { atSeverity, rateText } from "../backtest.ts";
import { PeakChart } from "../components/chart.tsx";
import { Failure, Severity, Show, Table, useLoad } from "../components/common.tsx";
import { duration, utc } from "../format.ts";
import type { BackTestReport, Detector } from "../wire.ts";

const LIVE = new Set(["ACTIVE", "ACTIVATING", "LEARNING"]);
const RUNNING = new Set(["BACK_TEST_ACTIVATING", "BACK_TEST_ACTIVE"]);
/** How often the page asks how far a back-test got: it runs apart from the request (the service loop, or the detect function). */
const BACK_TEST_POLL_MS = 2000;

function Report(props: { report: BackTestReport; threshold: number }): JSX.Element {
  const r = props.report;
  const from = Date.parse(r.StartTime);
  const to = Date.parse(r.EndTime);
  const times = useMemo(() => r.PeakList.map((p) => Date.parse(p.Timestamp) / 1000), [r]);
  const scores = useMemo(() => r.PeakList.map((p) => p.Score), [r]);
  const { groups, perWeek } = atSeverity(r.AnomalyGroupList, props.threshold, from, to);
  return (
    <div class="card backtest-report">
      <h3>Metric set {r.MetricSetArn.slice(r.MetricSetArn.lastIndexOf("/") + 1)}</h3>
      <p>
        Scored {utc(from)} to {utc(to)} ({duration(to - from)}, {r.IntervalsScored} intervals, after learning from the {r.IntervalsLearned} before).
      </p>
      <p class="rate" aria-live="polite">
        <strong>
          {rateText(perWeek)} at severity ≥ {props.threshold}
        </strong>{" "}
        ({groups.length} of the {r.AnomalyGroupList.length} incidents it would have raised).
      </p>
      <PeakChart from={from / 1000} to={to / 1000} times={times} scores={scores} threshold={props.threshold} description={`Highest anomaly score of each interval with an anomaly, ${r.PeakList.length} intervals, against the least severity ${props.threshold}.`} />
      {groups.length ? (
        <details class="values">
          <summary>Incidents at severity ≥ {props.threshold}</summary>
          <Table label={`Back-test incidents at severity ${props.threshold} or more`} columns={["Start (UTC)", "Severity", "Measure", "Length"]} rows={groups.map((g) => ({ cells: [utc(Date.parse(g.StartTime)), <Severity score={g.AnomalyGroupScore} />, g.PrimaryMetricName, duration(Date.parse(g.EndTime) - Date.parse(g.StartTime) + r.IntervalSeconds * 1000)] }))} />
        </details>
      ) : null}
    </div>
  );
}

/**
 * The back-test: the detector's configuration run over its history before it goes live,
 * reported apart from live incidents, as a chart and as "N incidents a week at severity ≥ T"
 * for a threshold chosen on a slider.
 */
export function BackTest(props: { detector: Detector; onRun: () => void }): JSX.Element {
  const arn = props.detector.AnomalyDetectorArn;
  const [status, setStatus] = useState(props.detector.Status);
  const [loaded, retry] = useLoad(() => call("GetBackTestReport", { AnomalyDetectorArn: arn }), [arn, status]);
  const [threshold, setThreshold] = useState(70);
  const [error, setError] = useState<Error | undefined>();
  const live = LIVE.has(status);
  const busy = RUNNING.has(status);
  // While it runs, ask how far it got; when it is done, the report is read again.
  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => {
      call("DescribeAnomalyDetector", { AnomalyDetectorArn: arn }).then(
        (d) => {
          if (RUNNING.has(d.Status)) return;
          setStatus(d.Status);
          if (d.Status === "FAILED") setError(new Error(d.FailureReason ?? "The back-test failed"));
          props.onRun();
        },
        () => undefined, // the next poll tries again
      );
    }, BACK_TEST_POLL_MS);
    return () => clearInterval(timer);
  }, [busy, arn]);
  const run = async () => {
    setError(undefined);
    try {
      await call("BackTestAnomalyDetector", { AnomalyDetectorArn: arn });
      setStatus("BACK_TEST_ACTIVATING");
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  return (
    <section aria-labelledby="backtest">
      <h2 id="backtest">Back-test</h2>
      <p class="hint">Runs this configuration over the metric set's history (the first 70 % teaches, the rest is scored) and reports what it would have raised, kept apart from live incidents.</p>
      {live ? (
        <p>The detector is live: a back-test runs before a detector goes live.</p>
      ) : (
        <p>
          <button type="button" disabled={busy} onClick={run}>
            {busy ? "Running the back-test…" : "Run back-test"}
          </button>
        </p>
      )}
      <p role="status" class="count">
        {busy ? "Running the back-test over the history…" : ""}
      </p>
      {error ? <Failure error={error} /> : null}
      <Show loaded={loaded} what="the back-test report" retry={retry}>
        {({ BackTestReportList }) =>
          BackTestReportList.length ? (
            <>
              <div class="field slider">
                <label for="bt-threshold">Least severity: {threshold}</label>
                <input id="bt-threshold" type="range" min={0} max={100} step={1} value={threshold} onInput={(e) => setThreshold(Number(e.currentTarget.value))} />
              </div>
              {BackTestReportList.map((r) => (
                <Report report={r} threshold={threshold} />
              ))}
            </>
          ) : (
            <p>No back-test yet.</p>
          )
        }
      </Show>
    </section>
  );
}
