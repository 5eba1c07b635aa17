import type { DrainOptions } from "./delivery.ts";

/**
 * What a drain of the dead letters (delivery.ts' DeadLetters) tells of itself: its counts,
 * and, for the operator's replay of every account, the accounts it stopped. Apart from
 * delivery.ts, which every function loads, so that only those that replay carry it.
 */

/** What a drain sent (or found sent already) and removed, and what it tried and left parked (a stopped account's untried deliveries are not counted). */
export interface DrainCounts {
  readonly retried: number;
  readonly remaining: number;
}

/** One account's drain stopped by a failure: the account, and what was thrown. */
export interface StoppedAccount {
  readonly account: string;
  readonly failure: unknown;
}

/**
 * The operator's replay (every account's) drained the accounts it could and stopped those
 * whose retry threw, or whose parked deliveries could not be read or folded: each is named
 * with its failure, beside the counts of the whole replay.
 */
export class ReplayIncomplete extends Error {
  override readonly name = "ReplayIncomplete";
  readonly code = "ReplayIncomplete";
  constructor(
    readonly stopped: readonly StoppedAccount[],
    readonly counts: DrainCounts,
  ) {
    super(`the replay did not finish for ${stopped.length} account(s): ${stopped.map((s) => `${s.account}: ${s.failure instanceof Error ? s.failure.message : String(s.failure)}`).join("; ")}`);
  }
}

/**
 * What a drain throws once done, if anything (held in an object: a failure may be
 * `undefined` itself): an account's own failure as it was, or the operator's ReplayIncomplete.
 */
export function drainFailure(options: DrainOptions, stopped: readonly StoppedAccount[], counts: DrainCounts): { readonly thrown: unknown } | undefined {
  if (stopped.length === 0) return undefined;
  return { thrown: options.account !== undefined ? stopped[0]!.failure : new ReplayIncomplete(stopped, counts) };
}
