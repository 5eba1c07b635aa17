import type { JSX } from "preact";
import { useMemo, useState } from "preact/hooks";
import { ApiError, call } from "../api.ts";
import { Chart } from "../components/chart.tsx";
import { Failure, PageTitle, Severity, ShareBar, Show, useLoad, useMore } from "../components/common.tsx";
import { dimensionText, duration, intervalMs, number, utc } from "../format.ts";
import { href, Link, type Place } from "../router.tsx";
import { feedbackOf, incidentKey, loadIncident, MAX_SERIES, type IncidentData, type MeasureSeries } from "../incident.ts";
import { preloaded } from "../preload.ts";
import { beganBefore, chartDescription, type SeriesChart } from "../series.ts";
import type { Feedback, MetricImpact, RelatedMetric, TimeSeries } from "../wire.ts";
import { DeliveryTable } from "./deliveries.tsx";
import { ValuesTable } from "../components/values.tsx";

/** Series charted at first per measure; the rest on request. */
const FIRST_SERIES = 12;

/** Dimension values shown at first per dimension, largest share first; the rest on request. */
const FIRST_VALUES = 10;

function DimensionShares(props: { dimension: MetricImpact["ContributionMatrix"]["DimensionContributionList"][number] }): JSX.Element {
  const sorted = useMemo(() => [...props.dimension.DimensionValueContributionList].sort((a, b) => b.ContributionScore - a.ContributionScore), [props.dimension]);
  const [shown, more] = useMore(sorted, FIRST_VALUES, "values");
  return (
    <div class="dimension">
      <h4>{props.dimension.DimensionName}</h4>
      <ul class="shares">
        {shown.map((v) => (
          <ShareBar label={v.DimensionValue} percent={v.ContributionScore} />
        ))}
      </ul>
      {more}
    </div>
  );
}

function Contributions(props: { impact: MetricImpact }): JSX.Element {
  const dims = props.impact.ContributionMatrix.DimensionContributionList;
  return (
    <section class="card" aria-labelledby={`contrib-${props.impact.MetricName}`}>
      <h3 id={`contrib-${props.impact.MetricName}`}>
        {props.impact.MetricName}: {props.impact.NumTimeSeries} series
      </h3>
      {dims.length ? dims.map((d) => <DimensionShares dimension={d} />) : <p>No dimensions: the measure is one series.</p>}
    </section>
  );
}

function Related(props: { related: RelatedMetric[]; detectorArn: string; groupId: string }): JSX.Element {
  const list = (type: RelatedMetric["RelationshipType"]) => props.related.filter((r) => r.RelationshipType === type);
  const item = (r: RelatedMetric) => (
    <li>
      {r.AnomalyGroupId === props.groupId ? <strong>{r.MetricName}</strong> : <Link href={href("/incident", { detector: props.detectorArn, group: r.AnomalyGroupId })}>{r.MetricName}</Link>} {r.ContributionPercentage} %
      {r.AnomalyGroupId === props.groupId ? " (in this incident)" : " (another incident)"}
    </li>
  );
  const causes = list("CAUSE_OF_INPUT_ANOMALY_GROUP");
  const effects = list("EFFECT_OF_INPUT_ANOMALY_GROUP");
  return (
    <div class="related">
      <div>
        <h3>Cause: began before</h3>
        {causes.length ? <ul>{causes.map(item)}</ul> : <p>None found.</p>}
      </div>
      <div>
        <h3>Effect: began with or after</h3>
        {effects.length ? <ul>{effects.map(item)}</ul> : <p>None found.</p>}
      </div>
    </div>
  );
}

const verdictText = (v: boolean) => (v ? "relevant (an anomaly)" : "not relevant (not an anomaly)");

/** What the verdict did: the deviation judged, and the tolerance it sets on that side of expected. */
function FeedbackEffect(props: { feedback: Feedback }): JSX.Element | null {
  const { Deviation, Tolerance } = props.feedback;
  if (Deviation === undefined) return null;
  const side = Deviation >= 0 ? "above" : "below";
  return (
    <p class="effect">
      Judged: {number(Math.abs(Deviation))} × the usual spread {side} expected.{" "}
      {Tolerance ? (
        Tolerance.After === Tolerance.Before ? (
          <>Tolerance {Tolerance.Side === "ABOVE" ? "above" : "below"} expected stays {number(Tolerance.Before)} ×.</>
        ) : (
          <>
            Tolerance {Tolerance.Side === "ABOVE" ? "above" : "below"} expected: <strong class="tolerance">{number(Tolerance.Before)} × → {number(Tolerance.After)} ×</strong>, from the next interval detection runs{Tolerance.After > Tolerance.Before ? ": a deviation this size there will no longer alert" : ""}.
          </>
        )
      ) : null}
    </p>
  );
}

function SeriesCard(props: { detectorArn: string; groupId: string; measure: string; ts: TimeSeries; chart: SeriesChart; recorded: Feedback | undefined; at: string }): JSX.Element {
  const [recorded, setRecorded] = useState(props.recorded);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const dims = dimensionText(props.ts.DimensionList);
  const description = useMemo(() => chartDescription(props.measure, props.chart, dims), [props.chart, props.measure, dims]);
  const give = async (isAnomaly: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      await call("PutFeedback", { AnomalyDetectorArn: props.detectorArn, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: props.groupId, TimeSeriesId: props.ts.TimeSeriesId, IsAnomaly: isAnomaly } });
      // What the server now holds, not what was clicked.
      setRecorded((await feedbackOf(props.detectorArn, props.groupId, props.ts.TimeSeriesId))[0]);
    } catch (e) {
      setError(e instanceof Error ? e : new ApiError("Error", String(e), 0));
    } finally {
      setBusy(false);
    }
  };
  const headingId = `s-${props.ts.TimeSeriesId.slice(0, 16)}`;
  return (
    <li class="series card" data-series={props.ts.TimeSeriesId} aria-labelledby={headingId}>
      <h4 id={headingId}>{dims}</h4>
      <Chart measure={props.measure} chart={props.chart} description={description} />
      <ValuesTable chart={props.chart} measure={props.measure} dims={dims} />
      <p class="series-links">
        <Link href={href("/series", { detector: props.detectorArn, id: props.ts.TimeSeriesId, at: props.at })}>History and “why was I not alerted?”</Link>
      </p>
      <div class="feedback" role="group" aria-label={`Is this series relevant to the incident? ${dims}`}>
        <span class="feedback-question">Relevant to this incident?</span>
        <button type="button" aria-pressed={recorded?.IsAnomaly === true} disabled={busy} onClick={() => give(true)}>
          Relevant
        </button>
        <button type="button" aria-pressed={recorded?.IsAnomaly === false} disabled={busy} onClick={() => give(false)}>
          Not relevant
        </button>
        <span class="feedback-state" role="status">
          {busy ? "Saving…" : recorded === undefined ? "No feedback yet" : `Recorded: ${verdictText(recorded.IsAnomaly)}`}
        </span>
      </div>
      {recorded && !busy ? <FeedbackEffect feedback={recorded} /> : null}
      {error ? <Failure error={error} /> : null}
    </li>
  );
}

function MeasureCharts(props: { data: IncidentData; measure: MeasureSeries }): JSX.Element {
  const { data, measure } = props;
  const [shown, more] = useMore(measure.series, FIRST_SERIES, "series");
  const newest = measure.series.find((s) => beganBefore(s.chart))?.chart;
  return (
    <section aria-labelledby={`series-${measure.measure}`}>
      <h3 id={`series-${measure.measure}`}>
        {measure.measure}: {measure.series.length} series{measure.truncated ? ` (the first ${MAX_SERIES})` : measure.total > measure.series.length ? `, the most severe of its ${measure.total}` : ""}, largest movement first
      </h3>
      {newest ? <p class="hint">The incident is longer than a chart shows: each shows its newest {newest.times.length} intervals, from {utc(newest.times[0]! * 1000)}; a series' history shows the rest.</p> : null}
      <ul class="series-list">
        {shown.map((s) => (
          <SeriesCard key={s.ts.TimeSeriesId} detectorArn={data.detector.AnomalyDetectorArn} groupId={data.group.AnomalyGroupId} measure={measure.measure} ts={s.ts} chart={s.chart} recorded={data.feedback.get(s.ts.TimeSeriesId)} at={data.group.StartTime} />
        ))}
      </ul>
      {more}
    </section>
  );
}

export function Incident(props: { place: Place }): JSX.Element {
  const detectorArn = props.place.query.get("detector") ?? "";
  const groupId = props.place.query.get("group") ?? "";
  // Asked by the early script (start.ts) when the console opened on this incident.
  const [loaded, retry] = useLoad(() => preloaded(incidentKey(detectorArn, groupId), () => loadIncident(detectorArn, groupId)), [detectorArn, groupId]);
  return (
    <Show loaded={loaded} what="the incident" retry={retry}>
      {(data) => {
        const { group, detector } = data;
        const start = Date.parse(group.StartTime);
        const span = Date.parse(group.EndTime) - start + intervalMs(detector.AnomalyDetectorConfig.AnomalyDetectorFrequency);
        return (
          <>
            <PageTitle
              sub={
                <>
                  <Severity score={group.AnomalyGroupScore} /> {utc(start)}, {duration(span)} · detector <Link href={href("/detector", { arn: detector.AnomalyDetectorArn })}>{detector.AnomalyDetectorName}</Link>
                </>
              }
            >{`${group.PrimaryMetricName} incident`}</PageTitle>
            <section aria-labelledby="where">
              <h2 id="where">Where it happened</h2>
              <p class="hint">Each dimension value's share of the measure's deviation.</p>
              <div class="grid">
                {group.MetricLevelImpactList.map((m) => (
                  <Contributions impact={m} />
                ))}
              </div>
            </section>
            <section aria-labelledby="related">
              <h2 id="related">Related measures</h2>
              <Related related={data.related} detectorArn={detector.AnomalyDetectorArn} groupId={group.AnomalyGroupId} />
            </section>
            <section aria-labelledby="told">
              <h2 id="told">Alerts sent</h2>
              <DeliveryTable deliveries={data.deliveries} label="Alerts sent for this incident, newest first" empty="No alert told anyone of this incident (none matched it, or it was silenced: see “why was I not alerted?” on a series)." />
            </section>
            <section aria-labelledby="series">
              <h2 id="series">Affected series</h2>
              <p class="hint">
                Each chart shows the intervals before the incident and through it against the expected band (shaded; dashed: the expected value); the red span is the incident, the red line its onset. Marking a series not relevant teaches the detector that a deviation of that size there is not an anomaly.
              </p>
              {data.measures.map((m) => (
                <MeasureCharts data={data} measure={m} />
              ))}
            </section>
          </>
        );
      }}
    </Show>
  );
}
