import { createHash } from "node:crypto";
import { RANKINGS } from "../app/rankings.ts";
import type { AnomalyGroupRecord } from "../model/anomaly.ts";
import { ValidationException } from "../model/errors.ts";
import type { PageQuery, RankedQuery, RankedTable, Table } from "./records.ts";

/** A record's entry in its table's ranked index (shared/app/rankings.ts says what it holds). */
export interface IndexEntry {
  readonly partition: string;
  readonly rank: number;
  readonly at: number;
  readonly label: string;
  /** The summary, as JSON. */
  readonly summary: string;
}

/** Derived from the record as every adapter writes it, so no caller can forget it; undefined for tables that are not ranked. */
export function indexEntryOf(table: Table, id: string, value: unknown): IndexEntry | undefined {
  if (!isRanked(table)) return undefined;
  const ranking = RANKINGS[table];
  const group = value as AnomalyGroupRecord;
  const [rank, at] = [ranking.rank(group), ranking.at(group)];
  for (const [name, n] of [["rank", rank], ["at", at]] as const) if (typeof n !== "number" || Number.isNaN(n)) throw new TypeError(`${table}/${id}: its ${name} is not a number`);
  return { partition: partitionOf(id), rank: rank === 0 ? 0 : rank, at: at === 0 ? 0 : at, label: ranking.label(group), summary: JSON.stringify(ranking.summary(group)) };
}

export const isRanked = (table: Table): table is RankedTable => Object.hasOwn(RANKINGS, table);

/** The id up to and including its last "/". */
export const partitionOf = (id: string): string => id.slice(0, id.lastIndexOf("/") + 1);

export const MAX_PAGE = 1000;

export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new ValidationException(`A page holds 1 to ${MAX_PAGE} records, not ${limit}`, { fields: [{ Name: "MaxResults", Message: `must be an integer from 1 to ${MAX_PAGE}` }] });
}

/**
 * Cursors are opaque to callers: the last key given, and a digest of the listing it
 * belongs to, so a cursor from another listing (another tenant's, say) is refused rather
 * than read as a position in this one.
 */
type Listing = { kind: "page"; table: Table; prefix: string } | { kind: "ranked"; table: RankedTable; partition: string; min: number };

export const pageListing = (table: Table, q: PageQuery): Listing => ({ kind: "page", table, prefix: q.prefix ?? "" });
export const rankedListing = (table: RankedTable, q: RankedQuery): Listing => ({ kind: "ranked", table, partition: q.partition, min: q.min ?? -Infinity });

const digest = (listing: Listing) => createHash("sha256").update(JSON.stringify([listing.kind, listing.table, listing.kind === "page" ? listing.prefix : listing.partition, listing.kind === "ranked" ? String(listing.min) : ""])).digest("base64url").slice(0, 12);

/** After an id (a page listing) or after a rank, tie-break and id (a ranked one). */
export interface CursorKey {
  readonly id: string;
  readonly rank?: number;
  readonly at?: number;
}

export function encodeCursor(listing: Listing, key: CursorKey): string {
  const ranked = key.rank === undefined ? [] : [numberText(key.rank), numberText(key.at ?? 0)];
  return Buffer.from(JSON.stringify([digest(listing), key.id, ...ranked])).toString("base64url");
}

export function decodeCursor(listing: Listing, cursor: string): CursorKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed[0] === digest(listing) && typeof parsed[1] === "string") {
    const id: string = parsed[1];
    if (listing.kind === "page" && parsed.length === 2 && id.startsWith(listing.prefix)) return { id };
    const [rank, at] = [parsed[2], parsed[3]].map((n) => (typeof n === "string" ? Number(n) : NaN));
    if (listing.kind === "ranked" && parsed.length === 4 && id.startsWith(listing.partition) && !Number.isNaN(rank) && !Number.isNaN(at)) return { id, rank: rank!, at: at! };
  }
  throw new ValidationException("NextToken does not belong to this request", { fields: [{ Name: "NextToken", Message: "is not a token this listing gave" }] });
}

// JSON has no Infinity; ranks may be infinite.
const numberText = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? "Infinity" : "-Infinity");

/**
 * Where a page listing of `prefix` starts: the id it starts after (a cursor's, or the
 * query's `after` when it lies within the prefix); undefined at the prefix's first id (an
 * `after` below the prefix); "past" when `after` lies beyond every id of the prefix, so the
 * page is empty. An `after` never widens a listing beyond its prefix.
 */
export function pageStart(prefix: string, after: string | undefined): string | undefined | "past" {
  if (after === undefined || after.startsWith(prefix)) return after;
  return after < prefix ? undefined : "past";
}

/** The least string greater than every string starting with `prefix`, in code point (UTF-8 byte) order; undefined when none is. */
export function prefixEnd(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length) {
    const last = points.pop()!.codePointAt(0)!;
    if (last === 0x10ffff) continue;
    const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
    return points.join("") + String.fromCodePoint(next);
  }
  return undefined;
}
