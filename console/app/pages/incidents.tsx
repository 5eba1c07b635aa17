import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { call, callAll, mapLimited } from "../api.ts";
import { ChoiceField, PageTitle, Severity, Show, useLoad } from "../components/common.tsx";
import { arnName, duration, intervalMs, utc } from "../format.ts";
import { applyFilter, choicesOf, POLL_MS, filterOf, localField, primaryOf, queryOf, topContributors, type IncidentFilter, type IncidentRow } from "../incidents.ts";
import { href, Link, navigate, type Place } from "../router.tsx";
import type { DetectorSummary } from "../wire.ts";

/** Groups whose detail (contributions, other measures) is read for the list; past it, the list shows summaries. */
const DETAILED = 200;
const GROUPS_PER_DETECTOR = 1000;
/** A detector in back-test holds its back-test's groups, not incidents: they are on its page. */
const live = (d: DetectorSummary) => d.Status !== "BACK_TEST_ACTIVE" && d.Status !== "BACK_TEST_COMPLETE";

interface Listing {
  readonly detectors: DetectorSummary[];
  readonly rows: IncidentRow[];
  readonly truncated: boolean;
}

/** Every group of the tenant's detectors at or above the severity asked, with the detail of the most severe. */
async function loadIncidents(severity: number): Promise<Listing> {
  const detectors = (await callAll("ListAnomalyDetectors", { MaxResults: 100 }, (p) => p.AnomalyDetectorSummaryList)).items.filter(live);
  const lists = await mapLimited(detectors, 4, (d) => callAll("ListAnomalyGroupSummaries", { AnomalyDetectorArn: d.AnomalyDetectorArn, SensitivityThreshold: severity, MaxResults: 100 }, (p) => p.AnomalyGroupSummaryList, GROUPS_PER_DETECTOR));
  const summaries = detectors.flatMap((detector, i) => lists[i]!.items.map((summary) => ({ detector, summary })));
  summaries.sort((a, b) => b.summary.AnomalyGroupScore - a.summary.AnomalyGroupScore);
  const detailed = await mapLimited(summaries.slice(0, DETAILED), 6, async (r) => ({ ...r, group: (await call("GetAnomalyGroup", { AnomalyDetectorArn: r.detector.AnomalyDetectorArn, AnomalyGroupId: r.summary.AnomalyGroupId })).AnomalyGroup }));
  return { detectors, rows: [...detailed, ...summaries.slice(DETAILED)], truncated: lists.some((l) => l.truncated) || summaries.length > DETAILED };
}

function Filters(props: { filter: IncidentFilter; listing: Listing }): JSX.Element {
  const { filter, listing } = props;
  const { measures, dimensions } = choicesOf(listing.rows);
  const set = (change: Partial<IncidentFilter>) => {
    const q = queryOf({ ...filter, ...change }).toString();
    navigate(`${href("/")}${q ? `?${q}` : ""}`, { replace: true });
  };
  const time = (value: string) => (value ? Date.parse(`${value}Z`) : undefined);
  return (
    <form class="filters" role="search" aria-label="Filter incidents" onSubmit={(e) => e.preventDefault()}>
      <ChoiceField id="f-detector" label="Detector" value={filter.detector ?? ""} none="All detectors" options={listing.detectors.map((d) => [d.AnomalyDetectorArn, d.AnomalyDetectorName] as const)} onChange={(v) => set({ detector: v || undefined })} />
      <ChoiceField id="f-measure" label="Measure" value={filter.measure ?? ""} none="All measures" options={measures} onChange={(v) => set({ measure: v || undefined })} />
      <ChoiceField id="f-dimension" label="Dimension value" value={filter.dimension ?? ""} none="Any" options={dimensions} onChange={(v) => set({ dimension: v || undefined })} />
      <div class="field">
        <label for="f-severity">Severity at least</label>
        <input id="f-severity" type="number" min={0} max={100} step={1} value={filter.severity} onChange={(e) => set({ severity: Math.max(0, Math.min(100, Math.round(Number(e.currentTarget.value) || 0))) })} />
      </div>
      <div class="field">
        <label for="f-from">From (UTC)</label>
        <input id="f-from" type="datetime-local" value={filter.from === undefined ? "" : localField(filter.from)} onChange={(e) => set({ from: time(e.currentTarget.value) })} />
      </div>
      <div class="field">
        <label for="f-to">To (UTC)</label>
        <input id="f-to" type="datetime-local" value={filter.to === undefined ? "" : localField(filter.to)} onChange={(e) => set({ to: time(e.currentTarget.value) })} />
      </div>
      <div class="field">
        <label for="f-order">Order</label>
        <select id="f-order" value={filter.order} onChange={(e) => set({ order: e.currentTarget.value === "newest" ? "newest" : "severity" })}>
          <option value="severity">Most severe first</option>
          <option value="newest">Newest first</option>
        </select>
      </div>
      <div class="field field-action">
        <button type="button" class="secondary" onClick={() => navigate(href("/"), { replace: true })}>
          Clear filters
        </button>
      </div>
    </form>
  );
}

/** Groups that appeared since the list was read, with their detail. */
async function newIncidents(severity: number, known: ReadonlySet<string>): Promise<IncidentRow[]> {
  const detectors = (await callAll("ListAnomalyDetectors", { MaxResults: 100 }, (p) => p.AnomalyDetectorSummaryList)).items.filter(live);
  const lists = await mapLimited(detectors, 4, (d) => callAll("ListAnomalyGroupSummaries", { AnomalyDetectorArn: d.AnomalyDetectorArn, SensitivityThreshold: severity, MaxResults: 100 }, (p) => p.AnomalyGroupSummaryList, GROUPS_PER_DETECTOR));
  const fresh = detectors.flatMap((detector, i) => lists[i]!.items.filter((summary) => !known.has(summary.AnomalyGroupId)).map((summary) => ({ detector, summary })));
  return mapLimited(fresh.slice(0, DETAILED), 6, async (r) => ({ ...r, group: (await call("GetAnomalyGroup", { AnomalyDetectorArn: r.detector.AnomalyDetectorArn, AnomalyGroupId: r.summary.AnomalyGroupId })).AnomalyGroup }));
}

/** Asks for new groups every POLL_MS while the page is open; they are added to the list, marked new, and announced. */
function useNewIncidents(listing: Listing | undefined, severity: number): { rows: IncidentRow[]; fresh: ReadonlySet<string>; announced: string } {
  const [added, setAdded] = useState<IncidentRow[]>([]);
  const [announced, setAnnounced] = useState("");
  useEffect(() => {
    setAdded([]);
    setAnnounced("");
    if (!listing) return;
    let known = new Set(listing.rows.map((r) => r.summary.AnomalyGroupId));
    let stopped = false;
    const timer = setInterval(() => {
      newIncidents(severity, known).then(
        (rows) => {
          if (stopped || !rows.length) return;
          known = new Set([...known, ...rows.map((r) => r.summary.AnomalyGroupId)]);
          setAdded((a) => [...rows, ...a]);
          setAnnounced(`${rows.length} new incident${rows.length === 1 ? "" : "s"}: ${rows.map((r) => `${r.summary.PrimaryMetricName} on ${r.detector.AnomalyDetectorName}, severity ${Math.round(r.summary.AnomalyGroupScore)}`).join("; ")}`);
        },
        () => undefined, // the next poll tries again
      );
    }, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [listing, severity]);
  return { rows: added, fresh: new Set(added.map((r) => r.summary.AnomalyGroupId)), announced };
}

function IncidentItem(props: { row: IncidentRow; fresh?: boolean }): JSX.Element {
  const { detector, summary, group } = props.row;
  const start = Date.parse(summary.StartTime);
  const span = Date.parse(summary.EndTime) - start + intervalMs(detector.AnomalyDetectorConfig?.AnomalyDetectorFrequency);
  const contributors = topContributors(group ? primaryOf(group) : undefined);
  const others = (group?.MetricLevelImpactList ?? []).map((m) => m.MetricName).filter((m) => m !== summary.PrimaryMetricName);
  return (
    <li class={`incident${props.fresh ? " fresh" : ""}`}>
      <Severity score={summary.AnomalyGroupScore} />
      <div class="incident-body">
        <h2>
          <Link href={href("/incident", { detector: detector.AnomalyDetectorArn, group: summary.AnomalyGroupId })}>
            {summary.PrimaryMetricName} on {detector.AnomalyDetectorName}, {utc(start)}
          </Link>
        </h2>
        <p class="meta">
          {props.fresh ? <span class="new-badge">New</span> : null}
          {span ? `${duration(span)} long` : `through ${utc(Date.parse(summary.EndTime))}`}
          {others.length ? ` · also ${others.join(", ")}` : ""}
        </p>
        {contributors.length ? (
          <p class="contributors">
            <span class="visually-hidden">Carried by </span>
            {contributors.map((c) => (
              <span class="chip">
                {c.name}={c.value} {Math.round(c.score)} %
              </span>
            ))}
          </p>
        ) : null}
      </div>
    </li>
  );
}

export function Incidents(props: { place: Place }): JSX.Element {
  const filter = filterOf(props.place.query);
  const [loaded, retry] = useLoad(() => loadIncidents(filter.severity), [filter.severity]);
  // The filters stay in place (and keep the focus) while a new severity loads.
  const last = useRef<Listing | undefined>(undefined);
  if (loaded.state === "done") last.current = loaded.value;
  const added = useNewIncidents(loaded.state === "done" ? loaded.value : undefined, filter.severity);
  return (
    <>
      <PageTitle sub="Anomaly groups of every detector of your tenant; new ones appear as detection finds them.">Incidents</PageTitle>
      {last.current ? <Filters filter={filter} listing={last.current} /> : null}
      <p class="visually-hidden" role="status" aria-live="polite">
        {added.announced}
      </p>
      <Show loaded={loaded} what="incidents" retry={retry}>
        {(loadedListing) => {
          const listing = { ...loadedListing, rows: [...added.rows, ...loadedListing.rows] };
          const rows = applyFilter(listing.rows, filter);
          return (
            <>
              <p class="count" role="status">
                {rows.length} of {listing.rows.length} incident{listing.rows.length === 1 ? "" : "s"} shown
                {listing.truncated ? `; the measure and dimension filters see the ${DETAILED} most severe` : ""}
              </p>
              {rows.length ? (
                <ol class="incidents">
                  {rows.map((r) => (
                    <IncidentItem key={`${r.detector.AnomalyDetectorArn} ${r.summary.AnomalyGroupId}`} row={r} fresh={added.fresh.has(r.summary.AnomalyGroupId)} />
                  ))}
                </ol>
              ) : (
                <p class="empty">{listing.rows.length ? "No incident matches these filters." : listing.detectors.length ? "No incident yet." : "No detector yet: create one with the SDK or the CLI."}</p>
              )}
              {listing.detectors.length ? (
                <p class="more">
                  Detectors:{" "}
                  {listing.detectors.map((d, i) => (
                    <>
                      {i ? ", " : ""}
                      <Link href={href("/detector", { arn: d.AnomalyDetectorArn })}>{arnName(d.AnomalyDetectorArn)}</Link>
                    </>
                  ))}
                </p>
              ) : null}
            </>
          );
        }}
      </Show>
    </>
  );
}
