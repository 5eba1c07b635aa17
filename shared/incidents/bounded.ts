import fixedReverseHeap from "mnemonist/fixed-reverse-heap.js";
import type { AnomalyGroupRecord, MeasureImpact } from "../model/anomaly.ts";
import { own, setOwn } from "../model/shapes.ts";
import { AFFECTED_SHARE, deviationTotalOf, seriesCountOf } from "./contribution.ts";
import { seriesPeaksOf } from "./grouping.ts";

/**
 * What a group's stored record keeps of it. A record is one item of the record store, and a
 * DynamoDB item holds 400 KB at most: a group that held every series of a wide outage (tens
 * of thousands of series and more; a million at raised quotas) would be refused, and its
 * interval's commit with it. So each measure keeps its GROUP_SERIES_KEPT most severe series
 * (largest deviation, its seriesPeak; then by id), and of each dimension the
 * GROUP_VALUES_KEPT values that carry most of its deviation, all within GROUP_RECORD_BYTES
 * shared by the group's measures, however long their dimension values. What is counted or
 * summed stays the figure of all its series: `seriesCount`, `deviationTotal`, anomalyCount,
 * actual, expected, strength. The model carries the open group with the record's series and
 * more of its values (carriedGroup), and an interval's anomalies are added to it and the record
 * made again: a series that turns more severe later takes the place of a weaker one (one let
 * go of had a smaller peak than every kept one, and the kept peaks only rise). Membership is
 * not read from it (MemberTally).
 */
export const GROUP_SERIES_KEPT = 500;
export const GROUP_VALUES_KEPT = 100;
/**
 * UTF-8 bytes a record's kept series (ids, dimension names and values, peaks) and kept
 * deviation values may take in all, shared by its measures (what one needs less than an
 * equal share of is left to the others): with the rest of the record (names, figures, a few
 * hundred bytes a measure), far below an item's 400 KB, even where gzip gains nothing. A
 * series or value longer than its share is left out.
 */
export const GROUP_RECORD_BYTES = 240 * 1024;
/** Of GROUP_RECORD_BYTES, the series' part; the deviation values have the rest. */
const SERIES_BYTES = 192 * 1024;
/** A number as JSON writes it (17 significant digits, sign, exponent) with its separator. */
const NUMBER_BYTES = 26;

/** What a group keeps of each dimension's values: how many, in how many bytes in all, and how many of the first whatever their bytes. */
interface ValueBounds {
  readonly kept: number;
  readonly bytes: number;
  readonly anyway: number;
}

const RECORD_VALUES: ValueBounds = { kept: GROUP_VALUES_KEPT, bytes: GROUP_RECORD_BYTES - SERIES_BYTES, anyway: 0 };
/**
 * What the model carries of each dimension's values from interval to interval: a value's
 * deviation is a sum over the group's intervals, and one let go of that deviates again would
 * count from then on, so it keeps many more than the record (exact up to CARRIED_VALUES values
 * a dimension); and the values that may count as affected (at most 100 / AFFECTED_SHARE can
 * each carry that share) whatever their bytes, so an event's affected values, which silences
 * and alerts' filters match, stay those of the whole group.
 */
export const CARRIED_VALUES = 10_000;
const CARRIED: ValueBounds = { kept: CARRIED_VALUES, bytes: 4 * 1024 * 1024, anyway: Math.floor(100 / AFFECTED_SHARE) };

/** The group as the model carries it from interval to interval: its record's series, and more of its values (CARRIED). */
export const carriedGroup = (group: AnomalyGroupRecord) => boundedGroup(group, CARRIED);

/** Whether a measure of the group holds more series than its record keeps: a group a model of the format before carried, with every series. */
export const holdsMore = (group: AnomalyGroupRecord) => Object.values(group.impacts).some((impact) => Object.keys(impact.series).length > GROUP_SERIES_KEPT);

/** The record that stores `group` (or, with CARRIED, the group the model carries): itself where every measure is within its bounds. */
export function boundedGroup(group: AnomalyGroupRecord, bounds: ValueBounds = RECORD_VALUES): AnomalyGroupRecord {
  const impacts = Object.keys(group.impacts).map((m) => own(group.impacts, m)!);
  const series = impacts.map(severest);
  const values = impacts.map((impact) => Object.keys(impact.deviation).map((name) => largest(own(impact.deviation, name)!, bounds.kept)));
  // What a measure or dimension needs less than its equal share of the bytes is left to the others.
  const seriesBytes = sharesOf(series.map((s) => s.bytes), SERIES_BYTES);
  const valuesBytes = sharesOf(values.flat().map((v) => v.bytes), bounds.bytes);
  let d = 0;
  let changed = false;
  const bounded: Record<string, MeasureImpact> = {};
  impacts.forEach((impact, m) => {
    const kept = boundedImpact(impact, firstWithin(series[m]!, seriesBytes[m]!), values[m]!.map((v) => firstWithin(v, valuesBytes[d++]!, bounds.anyway)));
    changed ||= kept !== impact;
    bounded[impact.measure] = kept;
  });
  return changed ? { ...group, impacts: bounded } : group;
}

/** The first of a list in order of precedence, at most as many as a record keeps, each with its size; `bytes` their sum; `all`, the list's length. */
interface Candidates<T> {
  readonly first: readonly T[];
  readonly sizes: readonly number[];
  readonly bytes: number;
  readonly all: number;
}

function candidates<T>(items: readonly T[], count: number, before: (a: T, b: T) => number, size: (x: T) => number): Candidates<T> {
  const first = firstOf(items, count, before);
  const sizes = first.map(size);
  return { first, sizes, bytes: sizes.reduce((s, b) => s + b, 0), all: items.length };
}

// A CommonJS module whose typings declare an ES default export: imported, the default is the class itself.
const FixedReverseHeap = fixedReverseHeap as unknown as typeof fixedReverseHeap.default;

/** The `k` first of `items` in the order `before` gives, in that order: through a heap of k, not a sort of all (a wide outage's million series). */
function firstOf<T>(items: readonly T[], k: number, before: (a: T, b: T) => number): T[] {
  if (k <= 0) return [];
  const heap = new FixedReverseHeap<T>(Array, before, k);
  for (const x of items) heap.push(x);
  return [...heap.consume()];
}

/** The measure's series, most severe (largest deviation: seriesPeak) first, then by id, as their positions in `series`. */
function severest(impact: MeasureImpact): Candidates<number> {
  const ids = Object.keys(impact.series);
  const peaks = seriesPeaksOf(impact);
  const severity = (k: number) => Math.abs(peaks?.[k] ?? 0);
  const size = (k: number) => utf8Bytes(JSON.stringify(ids[k])) + utf8Bytes(JSON.stringify(impact.series[ids[k]!])) + NUMBER_BYTES;
  return candidates(ids.map((_, k) => k), GROUP_SERIES_KEPT, (a, b) => severity(b) - severity(a) || (ids[a]! < ids[b]! ? -1 : 1), size);
}

/** A dimension's `count` largest values, largest deviation first, then by value. */
function largest(byValue: Readonly<Record<string, number>>, count: number): Candidates<string> {
  return candidates(Object.keys(byValue), count, (a, b) => own(byValue, b)! - own(byValue, a)! || (a < b ? -1 : 1), (v) => utf8Bytes(JSON.stringify(v)) + NUMBER_BYTES);
}

/** What a record keeps of a list: `all` where that is all of it. */
interface Kept<T> {
  readonly kept: readonly T[];
  readonly all: boolean;
}

/**
 * The candidates in order that fit in `bytes`: one too long for what is left is passed over
 * and the next taken, so a long value or series first in line leaves out itself alone, not
 * all that come after it. The first `anyway` are taken whatever their bytes.
 */
function firstWithin<T>(c: Candidates<T>, bytes: number, anyway = 0): Kept<T> {
  let used = 0;
  const kept: T[] = [];
  c.first.forEach((x, n) => {
    if (n >= anyway && used + c.sizes[n]! > bytes) return;
    used += c.sizes[n]!;
    kept.push(x);
  });
  return { kept, all: kept.length === c.all };
}

/**
 * `budget` split among needs: in order of need, least first, each its need where that is at
 * most an equal share of what is left, else that share.
 */
function sharesOf(needs: readonly number[], budget: number): number[] {
  const out: number[] = new Array<number>(needs.length).fill(0);
  let left = budget;
  needs
    .map((_, k) => k)
    .sort((a, b) => needs[a]! - needs[b]! || a - b)
    .forEach((k, j, order) => {
      out[k] = Math.min(needs[k]!, left / (order.length - j));
      left -= out[k];
    });
  return out;
}

/** The impact with the series (positions in `series`) and each dimension's values (in the order of `deviation`) its record keeps. */
function boundedImpact(impact: MeasureImpact, series: Kept<number>, values: readonly Kept<string>[]): MeasureImpact {
  if (series.all && values.every((v) => v.all)) return impact;
  const names = Object.keys(impact.deviation);
  const deviation: Record<string, Record<string, number>> = {};
  const totals: Record<string, number> = { ...impact.deviationTotal };
  names.forEach((name, k) => {
    const byValue = own(impact.deviation, name)!;
    if (values[k]!.all) return void (deviation[name] = byValue);
    const kept = Object.create(null) as Record<string, number>;
    for (const v of values[k]!.kept) setOwn(kept, v, own(byValue, v)!);
    deviation[name] = kept;
    totals[name] = deviationTotalOf(impact, name);
  });
  const bounded: MeasureImpact = { ...impact, deviation, ...(values.every((v) => v.all) ? {} : { deviationTotal: totals }) };
  if (series.all) return bounded;
  const ids = Object.keys(impact.series);
  bounded.series = Object.fromEntries(series.kept.map((k) => [ids[k]!, impact.series[ids[k]!]!]));
  bounded.seriesCount = seriesCountOf(impact);
  const peaks = seriesPeaksOf(impact);
  if (peaks) bounded.seriesPeak = series.kept.map((k) => peaks[k]!);
  else delete bounded.seriesPeak;
  return bounded;
}

/** UTF-8 bytes of a string JSON.stringify made. */
const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");
