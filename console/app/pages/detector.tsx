import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { call, callAll, mapLimited } from "../api.ts";
import { Failure, PageTitle, Show, Table, useLoad, useMore } from "../components/common.tsx";
import { frequency, number, utc } from "../format.ts";
import { href, Link, type Place } from "../router.tsx";
import type { Detector, Execution, IntervalQuality, MetricSet } from "../wire.ts";
import { BackTest } from "./backtest.tsx";
import { downloadRejects } from "../download.ts";
import { Alerts } from "./alerts.tsx";
import { Silences } from "./silences.tsx";

const FIRST_ROWS = 10;

interface DetectorData {
  readonly detector: Detector;
  readonly metricSets: MetricSet[];
  readonly executions: { items: Execution[]; truncated: boolean };
  readonly quality: IntervalQuality[];
  /** The history each metric set last learned, as read. */
  readonly histories: IntervalQuality[];
}

/** The history's entry (HISTORY_* figures beside the rows'), apart from the intervals'. */
const isHistory = (q: IntervalQuality) => q.MetricSetDataQualityMetricList.some((m) => m.DataQualityMetricList.some((x) => x.MetricType === "HISTORY_READ_TIME_STAMP"));

async function loadDetector(arn: string): Promise<DetectorData> {
  const ref = { AnomalyDetectorArn: arn };
  const detector = await call("DescribeAnomalyDetector", ref);
  const [sets, executions, quality] = await Promise.all([
    callAll("ListMetricSets", { ...ref, MaxResults: 100 }, (p) => p.MetricSetSummaryList),
    callAll("DescribeAnomalyDetectionExecutions", { ...ref, MaxResults: 100 }, (p) => p.ExecutionList, 2000),
    call("GetDataQualityMetrics", ref),
  ]);
  const metricSets = await mapLimited(sets.items, 4, (m) => call("DescribeMetricSet", { MetricSetArn: m.MetricSetArn }));
  const newestFirst = quality.AnomalyDetectorDataQualityMetricList.filter((q) => !isHistory(q)).sort((a, b) => b.StartTimestamp - a.StartTimestamp);
  return { detector, metricSets, executions, quality: newestFirst, histories: quality.AnomalyDetectorDataQualityMetricList.filter(isHistory) };
}

function Executions(props: { executions: DetectorData["executions"] }): JSX.Element {
  const [failuresOnly, setFailuresOnly] = useState(false);
  const failed = props.executions.items.filter((e) => e.Status === "FAILED");
  const [shown, more] = useMore(failuresOnly ? failed : props.executions.items, FIRST_ROWS);
  return (
    <section aria-labelledby="executions">
      <h2 id="executions">Executions</h2>
      <p>
        {props.executions.items.length}
        {props.executions.truncated ? "+" : ""} interval{props.executions.items.length === 1 ? "" : "s"} run, {failed.length} failed.{" "}
        <label class="inline">
          <input type="checkbox" checked={failuresOnly} onChange={(e) => setFailuresOnly(e.currentTarget.checked)} /> Failures only
        </label>
      </p>
      <Table label="Executions, newest first" columns={["Interval (UTC)", "Status", "Reason"]} rows={shown.map((e) => ({ cells: [utc(Date.parse(e.Timestamp)), e.Status, e.FailureReason ?? ""], marked: e.Status === "FAILED" }))} />
      {more}
    </section>
  );
}

const metricOf = (q: IntervalQuality, type: string) => q.MetricSetDataQualityMetricList.flatMap((m) => m.DataQualityMetricList).filter((x) => x.MetricType === type && !x.RelatedColumnName).reduce((sum, x) => sum + x.MetricValue, 0);

const REASON_TEXT: Readonly<Record<string, string>> = {
  MALFORMED_RECORD: "unreadable row",
  UNREADABLE_FILE: "unreadable file",
  EXTRA_CELLS: "extra cells",
  MISSING_COLUMN: "missing column",
  INVALID_TIMESTAMP: "bad timestamp",
  OUTSIDE_INTERVAL: "outside the interval",
  MISSING_DIMENSION_VALUE: "no dimension value",
  FILTERED_DIMENSION_VALUE: "filtered out",
  DIMENSION_VALUES_TOO_LONG: "dimension values too long",
  MISSING_MEASURE_VALUE: "no measure value",
  NON_NUMERIC_MEASURE: "measure not a number",
};

/** Rows kept aside in one interval, by reason, summed over its metric sets. */
function byReason(q: IntervalQuality): [string, number][] {
  const sums = new Map<string, number>();
  for (const m of q.MetricSetDataQualityMetricList) for (const [reason, n] of Object.entries(m.RejectedRowsByReason ?? {})) sums.set(reason, (sums.get(reason) ?? 0) + n);
  return [...sums].sort((a, b) => b[1] - a[1]);
}

/** What each metric set's history held when it was last learned: its rows kept aside, with a download, and those too old to learn. */
function Histories(props: { detectorArn: string; histories: IntervalQuality[]; names: ReadonlyMap<string, string> }): JSX.Element | null {
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const reads = props.histories.flatMap((q) => q.MetricSetDataQualityMetricList.map((m) => ({ q: { ...q, MetricSetDataQualityMetricList: [m] }, m })));
  if (!reads.length) return null;
  const download = async (metricSetArn: string) => {
    setBusy(metricSetArn);
    setError(undefined);
    try {
      await downloadRejects(props.detectorArn, metricSetArn, "history");
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <>
      {reads.map(({ q, m }) => {
        const bad = metricOf(q, "INVALID_ROWS_COMPLIANCE");
        const files = metricOf(q, "HISTORY_FILES");
        const tooOld = metricOf(q, "HISTORY_ROWS_BEFORE_REACH");
        const reasons = Object.entries(m.RejectedRowsByReason ?? {}).sort((a, b) => b[1] - a[1]);
        const name = props.names.get(m.MetricSetArn) ?? m.MetricSetArn;
        return (
          <p>
            History of {name}, read {utc(metricOf(q, "HISTORY_READ_TIME_STAMP") * 1000)}: {number(metricOf(q, "ROWS_PROCESSED"))} rows in {number(files)} file{files === 1 ? "" : "s"}, {number(metricOf(q, "HISTORY_INTERVALS_READ"))} intervals to learn; {number(bad)} row{bad === 1 ? "" : "s"} could not be used, {number(metricOf(q, "ROWS_PARTIAL_COMPLIANCE"))} partial
            {reasons.length ? ` (${reasons.map(([r, n]) => `${REASON_TEXT[r] ?? r}: ${n}`).join(", ")})` : ""}
            {tooOld ? `; ${number(tooOld)} rows before ${utc(q.StartTimestamp * 1000)} were too old to learn` : ""}.{" "}
            {reasons.length ? (
              <button type="button" class="secondary" disabled={busy !== undefined} onClick={() => download(m.MetricSetArn)} aria-label={`Download the rows of ${name}'s history kept aside`}>
                {busy === m.MetricSetArn ? "Downloading…" : "Download"}
              </button>
            ) : null}
          </p>
        );
      })}
      {error ? <Failure error={error} /> : null}
    </>
  );
}

function Quality(props: { detectorArn: string; quality: IntervalQuality[]; histories: IntervalQuality[]; names: ReadonlyMap<string, string> }): JSX.Element {
  const [shown, more] = useMore(props.quality, FIRST_ROWS);
  const [busy, setBusy] = useState<number | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const rejected = props.quality.reduce((sum, q) => sum + metricOf(q, "INVALID_ROWS_COMPLIANCE"), 0);
  const totals = new Map<string, number>();
  for (const q of props.quality) for (const [r, n] of byReason(q)) totals.set(r, (totals.get(r) ?? 0) + n);
  const download = async (q: IntervalQuality) => {
    setBusy(q.StartTimestamp);
    setError(undefined);
    try {
      for (const m of q.MetricSetDataQualityMetricList) await downloadRejects(props.detectorArn, m.MetricSetArn, q.StartTimestamp * 1000);
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <section aria-labelledby="quality">
      <h2 id="quality">Data quality per interval</h2>
      <p>
        {props.quality.length} interval{props.quality.length === 1 ? "" : "s"} read; {rejected} row{rejected === 1 ? "" : "s"} could not be used
        {totals.size ? ` (${[...totals].map(([r, n]) => `${REASON_TEXT[r] ?? r}: ${n}`).join(", ")})` : ""}. Each interval's rows kept aside can be downloaded with their reasons.
      </p>
      <Histories detectorArn={props.detectorArn} histories={props.histories} names={props.names} />
      {error ? <Failure error={error} /> : null}
      <Table
        wide
        label="Data quality per interval, newest first"
        columns={["Interval (UTC)", "Rows read", "Partial rows", "Rejected rows", "Why", "Series", ""]}
        rows={shown.map((q) => {
          const bad = metricOf(q, "INVALID_ROWS_COMPLIANCE");
          const reasons = byReason(q);
          return {
            cells: [
              utc(q.StartTimestamp * 1000),
              number(metricOf(q, "ROWS_PROCESSED")),
              number(metricOf(q, "ROWS_PARTIAL_COMPLIANCE")),
              number(bad),
              reasons.map(([r, n]) => `${REASON_TEXT[r] ?? r} ${n}`).join(", "),
              number(metricOf(q, "TIME_SERIES_COUNT")),
              reasons.length ? (
                <button type="button" class="secondary" disabled={busy !== undefined} onClick={() => download(q)} aria-label={`Download the rows kept aside at ${utc(q.StartTimestamp * 1000)}`}>
                  {busy === q.StartTimestamp ? "Downloading…" : "Download"}
                </button>
              ) : (
                ""
              ),
            ],
            marked: bad > 0,
          };
        })}
      />
      {more}
    </section>
  );
}

/** A metric set's configuration, as CreateMetricSet took it. */
function MetricSetConfig(props: { metricSet: MetricSet }): JSX.Element {
  const m = props.metricSet;
  const source = Object.entries(m.MetricSource)[0];
  const rows: [string, string][] = [
    ["Measures", m.MetricList.map((x) => `${x.MetricName} (${x.AggregationFunction})`).join(", ")],
    ["Dimensions", m.DimensionList?.join(", ") || "none"],
    ["Frequency", frequency(m.MetricSetFrequency)],
    ["Timestamp column", m.TimestampColumn ? `${m.TimestampColumn.ColumnName ?? "?"}${m.TimestampColumn.ColumnFormat ? ` (${m.TimestampColumn.ColumnFormat})` : ""}` : "none"],
    ["Time zone", m.Timezone ?? "UTC"],
    ["Offset", `${m.Offset ?? 0} s`],
    ["Filters", m.DimensionFilterList?.map((f) => `${f.Name} ${f.FilterList.map((x) => `${x.FilterOperation} ${x.DimensionValue}`).join(" or ")}`).join("; ") || "none"],
  ];
  return (
    <section class="card" aria-labelledby={`ms-${m.MetricSetName}`}>
      <h3 id={`ms-${m.MetricSetName}`}>Metric set {m.MetricSetName}</h3>
      {m.MetricSetDescription ? <p>{m.MetricSetDescription}</p> : null}
      <dl class="config">
        {rows.map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </>
        ))}
        <dt>Source</dt>
        <dd>
          {source ? (
            <>
              {source[0]}
              <pre>{JSON.stringify(source[1], null, 2)}</pre>
            </>
          ) : (
            "none"
          )}
        </dd>
      </dl>
    </section>
  );
}

export function DetectorPage(props: { place: Place }): JSX.Element {
  const arn = props.place.query.get("arn") ?? "";
  const [loaded, retry] = useLoad(() => loadDetector(arn), [arn]);
  return (
    <Show loaded={loaded} what="the detector" retry={retry}>
      {(data) => (
        <>
          <PageTitle sub={data.detector.AnomalyDetectorDescription ?? ""}>{`Detector ${data.detector.AnomalyDetectorName}`}</PageTitle>
          <dl class="facts">
            <dt>Status</dt>
            <dd class={`status status-${data.detector.Status.toLowerCase()}`}>{data.detector.Status}</dd>
            <dt>Runs</dt>
            <dd>{frequency(data.detector.AnomalyDetectorConfig.AnomalyDetectorFrequency)}</dd>
            <dt>Created</dt>
            <dd>{utc(data.detector.CreationTime * 1000)}</dd>
            <dt>Changed</dt>
            <dd>{utc(data.detector.LastModificationTime * 1000)}</dd>
          </dl>
          <p>
            <Link href={href("/", { detector: data.detector.AnomalyDetectorArn })}>Its incidents</Link>
          </p>
          <Executions executions={data.executions} />
          <Quality detectorArn={data.detector.AnomalyDetectorArn} quality={data.quality} histories={data.histories} names={new Map(data.metricSets.map((m) => [m.MetricSetArn, m.MetricSetName]))} />
          <section aria-labelledby="configuration">
            <h2 id="configuration">Configuration</h2>
            {data.metricSets.length ? data.metricSets.map((m) => <MetricSetConfig metricSet={m} />) : <p>No metric set yet.</p>}
          </section>
          <Alerts detector={data.detector} metricSets={data.metricSets} />
          <Silences detector={data.detector} metricSets={data.metricSets} />
          <BackTest detector={data.detector} onRun={retry} />
        </>
      )}
    </Show>
  );
}

export function Detectors(): JSX.Element {
  const [loaded, retry] = useLoad(() => callAll("ListAnomalyDetectors", { MaxResults: 100 }, (p) => p.AnomalyDetectorSummaryList), []);
  return (
    <>
      <PageTitle>Detectors</PageTitle>
      <Show loaded={loaded} what="detectors" retry={retry}>
        {({ items }) =>
          items.length ? (
            <ul class="detectors">
              {items.map((d) => (
                <li>
                  <Link href={href("/detector", { arn: d.AnomalyDetectorArn })}>{d.AnomalyDetectorName}</Link> <span class={`status status-${d.Status.toLowerCase()}`}>{d.Status}</span> {frequency(d.AnomalyDetectorConfig?.AnomalyDetectorFrequency)}
                  {d.AnomalyDetectorDescription ? ` · ${d.AnomalyDetectorDescription}` : ""}
                </li>
              ))}
            </ul>
          ) : (
            <p>No detector yet: create one with the SDK or the CLI.</p>
          )
        }
      </Show>
    </>
  );
}
