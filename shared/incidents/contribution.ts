import type { AnomalyGroup, AnomalyGroupRecord, ContributionMatrix, MeasureImpact } from "../model/anomaly.ts";
import { own } from "../model/shapes.ts";

/** How many series a measure has in its group, those its stored record did not keep (incidents/bounded.ts) included. */
export const seriesCountOf = (impact: MeasureImpact) => impact.seriesCount ?? Object.keys(impact.series).length;

/** Whether a measure's stored record let go of some of its series (incidents/bounded.ts). */
export const keptFewer = (impact: MeasureImpact) => seriesCountOf(impact) > Object.keys(impact.series).length;

/**
 * Root cause as L4M shows it: for each measure and dimension, each value's share (0–100)
 * of the group's absolute deviation from expected. A value that carries the whole
 * deviation of its dimension scores 100. Of a stored record past its bound (boundedGroup),
 * the values it kept, each with its share of all of them (deviationTotal).
 */
export function contributionMatrix(impact: MeasureImpact, dimensionNames: readonly string[]): ContributionMatrix {
  return {
    DimensionContributionList: dimensionNames.map((name) => {
      const byValue = impact.deviation[name] ?? {};
      const total = deviationTotalOf(impact, name);
      return {
        DimensionName: name,
        DimensionValueContributionList: Object.entries(byValue)
          .map(([value, dev]) => ({ DimensionValue: value, ContributionScore: contributionScore(dev, total) }))
          .sort((a, b) => b.ContributionScore - a.ContributionScore || a.DimensionValue.localeCompare(b.DimensionValue)),
      };
    }),
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** A dimension's deviation over all its values (deviationTotal where the record kept fewer). */
export const deviationTotalOf = (impact: MeasureImpact, name: string) => own(impact.deviationTotal ?? {}, name) ?? Object.values(impact.deviation[name] ?? {}).reduce((s, v) => s + v, 0);

/** A dimension value with this share (0–100) of a measure's deviation counts as affected: what alerts' dimension filters and silences match (detect/group-event.ts). */
export const AFFECTED_SHARE = 10;

/** A value's share (0–100) of its dimension's deviation `total`, as the contribution matrix scores it. */
export const contributionScore = (dev: number, total: number) => (total > 0 ? round2((100 * dev) / total) : 0);

/**
 * The measure that leads the incident: highest peak score, then the one furthest outside
 * its normal band (scores saturate at 100; the distance does not).
 */
export function primaryImpact(group: AnomalyGroupRecord): MeasureImpact {
  const impacts = Object.values(group.impacts);
  return impacts.reduce((best, i) => (i.peakScore > best.peakScore || (i.peakScore === best.peakScore && i.strength > best.strength) ? i : best));
}

/** Change of a measure over the group, in % of expected. */
export const changePercent = (impact: MeasureImpact) => (100 * (impact.actual - impact.expected)) / Math.max(Math.abs(impact.expected), 1e-9);

/** The dimension values that carry the deviation, strongest first, one per dimension. */
export function topContributors(impact: MeasureImpact, dimensionNames: readonly string[]): { name: string; value: string; share: number }[] {
  return contributionMatrix(impact, dimensionNames)
    .DimensionContributionList.flatMap((d) => {
      const top = d.DimensionValueContributionList[0];
      return top ? [{ name: d.DimensionName, value: top.DimensionValue, share: top.ContributionScore }] : [];
    })
    .sort((a, b) => b.share - a.share);
}

const YEAR_1000 = Date.UTC(1000, 0, 1);
const YEAR_10000 = Date.UTC(10000, 0, 1);
const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/** L4M's timestamp form for groups: second precision, UTC. */
export const l4mTime = (ms: number): string => (ms >= YEAR_1000 && ms < YEAR_10000 ? utcSeconds(ms) : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z"));

/**
 * `yyyy-MM-ddTHH:mm:ssZ` by arithmetic (the civil-from-days algorithm): a list renders two per
 * group, and Date's own formatting was a tenth of ListAnomalyGroupSummaries' CPU.
 */
function utcSeconds(ms: number): string {
  const s = Math.floor(ms / 1000);
  const days = Math.floor(s / 86_400);
  const inDay = s - days * 86_400;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${two(month)}-${two(day)}T${two(Math.floor(inDay / 3600))}:${two(Math.floor(inDay / 60) % 60)}:${two(inDay % 60)}Z`;
}

export function toAnomalyGroup(group: AnomalyGroupRecord): AnomalyGroup {
  const primary = primaryImpact(group);
  const ordered = [primary, ...Object.values(group.impacts).filter((i) => i !== primary)];
  return {
    AnomalyGroupId: group.AnomalyGroupId,
    StartTime: l4mTime(group.startMs),
    EndTime: l4mTime(group.endMs),
    AnomalyGroupScore: round2(group.score),
    PrimaryMetricName: primary.measure,
    MetricLevelImpactList: ordered.map((i) => ({
      MetricName: i.measure,
      NumTimeSeries: seriesCountOf(i),
      ContributionMatrix: contributionMatrix(i, group.dimensionNames),
    })),
  };
}
