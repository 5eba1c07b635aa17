import { primaryImpact } from "../incidents/contribution.ts";
import type { AnomalyGroupRecord } from "../model/anomaly.ts";
import type { RankedSummaries, RankedTable, Ranking } from "../store/records.ts";

/**
 * How the record stores index each ranked table, so its lists are answered from the index:
 * anomaly groups as ListAnomalyGroupSummaries shows them, most severe first, then oldest
 * first, counted per primary measure, with their span.
 */
export const RANKINGS: { readonly [K in RankedTable]: Ranking<AnomalyGroupRecord, RankedSummaries[K]> } = {
  groups: {
    rank: (g) => g.score,
    at: (g) => g.startMs,
    label: (g) => (Object.keys(g.impacts).length ? primaryImpact(g).measure : ""),
    summary: (g) => ({ startMs: g.startMs, endMs: g.endMs }),
  },
};
