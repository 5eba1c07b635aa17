import type { JSX } from "preact";
import { useMemo, useState } from "preact/hooks";
import { ApiError, call, callAll, mapLimited } from "../api.ts";
import { Chart, ScoreChart } from "../components/chart.tsx";
import { Failure, PageTitle, Show, Table, useLoad } from "../components/common.tsx";
import { ValuesTable } from "../components/values.tsx";
import { dimensionText, duration, intervalMs, number, utc } from "../format.ts";
import { localField } from "../incidents.ts";
import { href, Link, navigate, type Place } from "../router.tsx";
import { chartDescription, rangeChart, type SeriesChart } from "../series.ts";
import type { AlertExplanation, AlertSummary, Detector, Explanation, SeriesHistory } from "../wire.ts";

const HOUR = 3_600_000;
/** Without a range asked, the days around the time asked (or the last week). */
const BEFORE = 72 * HOUR;
const AFTER = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString().replace(".000", "");

interface SeriesData {
  readonly detector: Detector;
  readonly history: SeriesHistory;
  readonly chart: SeriesChart;
  readonly alerts: AlertSummary[];
}

/** The series' history over the range, from whichever of the detector's metric sets holds it. */
async function loadSeries(detectorArn: string, id: string, from: number, to: number, at: number | undefined): Promise<SeriesData> {
  const detector = await call("DescribeAnomalyDetector", { AnomalyDetectorArn: detectorArn });
  const [sets, alerts] = await Promise.all([callAll("ListMetricSets", { AnomalyDetectorArn: detectorArn, MaxResults: 100 }, (p) => p.MetricSetSummaryList), callAll("ListAlerts", { AnomalyDetectorArn: detectorArn, MaxResults: 100 }, (p) => p.AlertSummaryList)]);
  const histories = await mapLimited(sets.items, 2, (m) => call("GetTimeSeriesHistory", { MetricSetArn: m.MetricSetArn, TimeSeriesId: id, StartTime: iso(from), EndTime: iso(to) }));
  const history = histories.find((h) => h.MetricName) ?? histories.find((h) => h.MetricValueList.some((v) => v !== null)) ?? histories[0];
  if (!history) throw new ApiError("ResourceNotFoundException", `No metric set in ${detectorArn}`, 400);
  const base = rangeChart(history.TimestampList, history.MetricValueList, history);
  const step = intervalMs(detector.AnomalyDetectorConfig.AnomalyDetectorFrequency) / 1000;
  const mark = at === undefined ? {} : { onset: Math.floor(at / 1000 / step) * step, end: Math.floor(at / 1000 / step) * step + step };
  return { detector, history, chart: { ...base, ...mark, onsetIndex: mark.onset === undefined ? base.times.length : Math.max(0, base.times.indexOf(mark.onset)) }, alerts: alerts.items };
}

const told = (a: AlertExplanation) => (a.LastNotifiedTime ? ` (last told ${utc(Date.parse(a.LastNotifiedTime))})` : "");

/** Each alert's decision, in words. */
export function reasonText(a: AlertExplanation, e: Explanation): string {
  switch (a.Reason) {
    case "NOT_ANOMALOUS":
      return `Not alerted: the series was not anomalous then (${e.ScoreKind === "BELOW_FLOOR" ? `it scored below ${e.MinAnomalyScore}` : e.ScoreKind === "LEARNED" ? "the interval was learned from history, not scored" : "detection kept nothing of it then"}), and no incident held it.`;
    case "NO_GROUP":
      return "Not alerted: anomalous, but in no incident of this detector then.";
    case "ALERT_INACTIVE":
      return "Not alerted: the alert is inactive.";
    case "BELOW_THRESHOLD":
      return `Not alerted: the incident's severity ${number(a.GroupScore ?? 0)} was below this alert's ${a.AlertSensitivityThreshold}.`;
    case "FILTERED_OUT":
      return "Not alerted: the alert's measure or dimension filters did not match the incident.";
    case "SILENCED":
      return `Not alerted: silenced${a.SilenceReason ? ` (“${a.SilenceReason}”)` : ""}.`;
    case "ALREADY_NOTIFIED":
      return `Not told again${told(a)}: nothing new since (no higher severity band, no new dimension value, and less than ${duration(e.RepeatIntervalSeconds * 1000)} since).`;
    case "NOTIFIED":
      return `Alerted${a.NotifyReason ? ` (${a.NotifyReason})` : ""}: the message was ${a.DeliveryStatus === "PARKED" ? "parked after failing (see Deliveries)" : a.DeliveryStatus === "PENDING" ? "queued" : "sent"}.`;
    case "NOT_ROUTED":
      return "No routing was recorded for the incident then (alerting had not run on it, or the record expired).";
  }
}

function ExplanationView(props: { e: Explanation; detectorArn: string }): JSX.Element {
  const { e } = props;
  return (
    <div class="explanation" aria-live="polite">
      <p>
        At <strong>{utc(Date.parse(e.Timestamp))}</strong>:{" "}
        {e.ActualValue === null ? (
          "detection kept nothing of this series then."
        ) : (
          <>
            value {number(e.ActualValue)}
            {e.ExpectedValue !== null ? `, expected ${number(e.ExpectedValue)}` : ""}
            {e.LowerBound !== null && e.UpperBound !== null ? ` (band ${number(e.LowerBound)} to ${number(e.UpperBound)})` : ""};{" "}
            {e.ScoreKind === "ANOMALY" ? (
              <>
                anomaly score <strong class="score">{number(e.AnomalyScore ?? 0)}</strong>: an anomaly.
              </>
            ) : e.ScoreKind === "BELOW_FLOOR" ? (
              <>
                <strong class="score">scored below {e.MinAnomalyScore}</strong>: not an anomaly.
              </>
            ) : (
              "learned from history, not scored."
            )}
          </>
        )}
      </p>
      <p>
        {e.AnomalyGroup ? (
          <>
            {e.AnomalyGroup.ContainsTimeSeries ? "In " : "The series was not in it, but "}
            <Link href={href("/incident", { detector: props.detectorArn, group: e.AnomalyGroup.AnomalyGroupId })}>
              the {e.AnomalyGroup.PrimaryMetricName} incident of severity {number(e.AnomalyGroup.AnomalyGroupScore)}
            </Link>{" "}
            from {utc(Date.parse(e.AnomalyGroup.StartTime))}
            {e.AnomalyGroup.ContainsTimeSeries ? "." : " was open then."}
          </>
        ) : (
          "No incident of this detector was open then."
        )}
      </p>
      {e.Alerts.length ? (
        <Table wide label="Each alert's decision" columns={["Alert", "Severity at least", "Decision"]} rows={e.Alerts.map((a) => ({ cells: [a.AlertName, a.AlertSensitivityThreshold, reasonText(a, e)], marked: a.Reason !== "NOTIFIED" }))} />
      ) : (
        <p>The detector has no alert: nobody is told of its incidents.</p>
      )}
      <h3>Silences in force then</h3>
      {e.Silences.length ? (
        <ul>
          {e.Silences.map((s) => (
            <li>
              “{s.Reason}”, {utc(Date.parse(s.StartsAt))} to {utc(Date.parse(s.EndsAt))}
            </li>
          ))}
        </ul>
      ) : (
        <p>None.</p>
      )}
      <p class="hint">An alert tells of an incident again only when it grows more severe, spreads to new dimension values, or after {duration(e.RepeatIntervalSeconds * 1000)} while it lasts.</p>
    </div>
  );
}

function WhyNotAlerted(props: { detectorArn: string; metricSetArn: string; id: string; at: number | undefined }): JSX.Element {
  const [time, setTime] = useState(props.at === undefined ? "" : localField(props.at));
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Explanation | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const explain = async (e: Event) => {
    e.preventDefault();
    if (!time) return;
    setBusy(true);
    setError(undefined);
    try {
      setResult(await call("ExplainAlerting", { AnomalyDetectorArn: props.detectorArn, MetricSetArn: props.metricSetArn, TimeSeriesId: props.id, Timestamp: iso(Date.parse(`${time}Z`)) }));
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="why">
      <h2 id="why">Why was I not alerted?</h2>
      <form class="inline-form" onSubmit={explain}>
        <div class="field">
          <label for="why-at">Time (UTC)</label>
          <input id="why-at" type="datetime-local" required value={time} onChange={(e) => setTime(e.currentTarget.value)} />
        </div>
        <button type="submit" disabled={busy}>
          Explain
        </button>
      </form>
      {busy ? <p role="status">Looking…</p> : null}
      {error ? <Failure error={error} /> : null}
      {result ? <ExplanationView e={result} detectorArn={props.detectorArn} /> : null}
    </section>
  );
}

export function Series(props: { place: Place }): JSX.Element {
  const q = props.place.query;
  const detectorArn = q.get("detector") ?? "";
  const id = q.get("id") ?? "";
  const atText = q.get("at");
  const at = atText ? Date.parse(atText) : undefined;
  const anchor = at ?? Date.now();
  const from = q.get("from") ? Date.parse(q.get("from")!) : anchor - BEFORE;
  const to = q.get("to") ? Date.parse(q.get("to")!) : anchor + (at === undefined ? 0 : AFTER);
  const [loaded, retry] = useLoad(() => loadSeries(detectorArn, id, from, to, at), [detectorArn, id, from, to, at]);
  const [range, setRange] = useState({ from: localField(from), to: localField(to) });
  const show = (e: Event) => {
    e.preventDefault();
    navigate(href("/series", { ...Object.fromEntries(q), from: iso(Date.parse(`${range.from}Z`)), to: iso(Date.parse(`${range.to}Z`)) }));
  };
  return (
    <Show loaded={loaded} what="the series" retry={retry}>
      {(data) => <SeriesView data={data} detectorArn={detectorArn} id={id} at={at} range={range} setRange={setRange} show={show} />}
    </Show>
  );
}

function SeriesView(props: { data: SeriesData; detectorArn: string; id: string; at: number | undefined; range: { from: string; to: string }; setRange: (r: { from: string; to: string }) => void; show: (e: Event) => void }): JSX.Element {
  const { data } = props;
  const measure = data.history.MetricName ?? "value";
  const dims = data.history.DimensionList ? dimensionText(data.history.DimensionList) : props.id.slice(0, 16);
  const description = useMemo(() => chartDescription(measure, data.chart, dims), [data.chart, measure, dims]);
  const kept = data.chart.values.filter((v) => v !== null).length;
  const thresholds = [...new Set(data.alerts.map((a) => a.AlertSensitivityThreshold).filter((t): t is number => t !== undefined))];
  return (
    <>
      <PageTitle
        sub={
          <>
            {dims} · detector <Link href={href("/detector", { arn: data.detector.AnomalyDetectorArn })}>{data.detector.AnomalyDetectorName}</Link>
          </>
        }
      >{`${measure} series`}</PageTitle>
      <form class="filters" aria-label="Range" onSubmit={props.show}>
        <div class="field">
          <label for="s-from">From (UTC)</label>
          <input id="s-from" type="datetime-local" required value={props.range.from} onChange={(e) => props.setRange({ ...props.range, from: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="s-to">To (UTC)</label>
          <input id="s-to" type="datetime-local" required value={props.range.to} onChange={(e) => props.setRange({ ...props.range, to: e.currentTarget.value })} />
        </div>
        <div class="field field-action">
          <button type="submit">Show</button>
        </div>
      </form>
      <section aria-labelledby="history">
        <h2 id="history">Values against the expected band</h2>
        <p class="hint">
          {kept} of {data.chart.times.length} intervals kept by detection{props.at !== undefined ? "; the red line marks the time asked" : ""}.
        </p>
        <div class="card">
          <Chart measure={measure} chart={data.chart} description={description} />
          <ValuesTable chart={data.chart} measure={measure} dims={dims} />
        </div>
        <h3>Anomaly score</h3>
        <p class="hint">Points: each anomaly's score. Shaded: intervals scored below 60 (the dashed line), where nothing is an anomaly and no alert can go out. Red: each alert's least severity.</p>
        <div class="card">
          <ScoreChart
            times={data.chart.times}
            scores={data.chart.scores}
            below={data.chart.kinds.map((k) => k === "BELOW_FLOOR")}
            floor={60}
            thresholds={thresholds}
            description={`Anomaly score of ${measure} for ${dims}: ${data.chart.kinds.filter((k) => k === "ANOMALY").length} anomalies (highest ${number(Math.max(0, ...data.chart.scores.filter((s): s is number => s !== null)))}), ${data.chart.kinds.filter((k) => k === "BELOW_FLOOR").length} intervals scored below 60.`}
          />
        </div>
      </section>
      <WhyNotAlerted detectorArn={props.detectorArn} metricSetArn={data.history.MetricSetArn} id={props.id} at={props.at} />
    </>
  );
}
