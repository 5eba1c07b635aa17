import { ValidationException } from "../model/errors.ts";

/**
 * The blob port: where metric files, interval results and model snapshots live. Addresses
 * are `s3://bucket/key` URIs or local paths; `list` takes a folder or key prefix, and
 * stops with ListingTooLarge past LISTING_LIMITS.
 */
export interface BlobStore {
  get(uri: string): Promise<Uint8Array | undefined>;
  /** At most `length` bytes from `offset`, with the object's whole size; undefined when there is none. For files of fixed-width columns read a few values at a time. */
  getRange(uri: string, offset: number, length: number): Promise<BlobRange | undefined>;
  /** The object's bytes as they arrive, for a reader that keeps none of them longer than it needs; undefined when there is none. */
  read(uri: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** `kind` labels the object (an S3 tag), so retention rules can tell rejects from results. */
  put(uri: string, body: BlobBody, kind?: BlobKind): Promise<void>;
  /** Addresses of every object under `prefix` (a folder, a key prefix or one file), sorted; ListingTooLarge past the limits. */
  list(prefix: string): Promise<string[]>;
  /** Deletes every object under the folder `folder` (ending in `/`); answers how many there were. */
  deleteFolder(folder: string): Promise<number>;
}

/** Part of an object: its bytes from the offset asked for (fewer than asked at its end), how many bytes the whole object holds, and which object it was. */
export interface BlobRange {
  readonly bytes: Uint8Array;
  readonly size: number;
  /** Which object was read (S3's ETag; a local file's inode and time of change): ranges of a file replaced between them differ here, even at the same size. */
  readonly version: string;
}

/** An object's bytes: one buffer, text, or parts that follow one another (a large object written without being joined into one buffer first). */
export type BlobBody = Uint8Array | string | readonly Uint8Array[];

/** Labels for retention: rejected rows expire sooner than results and models. */
export type BlobKind = "rejects";

/** A range is whole bytes from a place in the object: a length of 0 or a fraction would be a caller's slip, not a read. */
export function assertRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 1) throw new Error(`not a byte range: ${length} bytes from ${offset}`);
}

/** A folder, not a key prefix: deleting `…/shop/` must not take `…/shop-2/` with it. */
export function assertFolder(folder: string): void {
  if (!folder.endsWith("/")) throw new Error(`not a folder (no trailing /): ${folder}`);
}

/**
 * How much one listing may walk: entries seen (files and folders) and folder depth below the
 * prefix. A year of 5-minute intervals, one folder and one file each, is 210,000 entries;
 * path templates nest 2 to 5 folders deep.
 */
export interface ListingLimits {
  readonly maxEntries: number;
  readonly maxDepth: number;
}

export const LISTING_LIMITS: ListingLimits = { maxEntries: 250_000, maxDepth: 16 };

/** A listing stopped at its bound: the path names too broad a folder. */
export class ListingTooLarge extends ValidationException {
  constructor(
    readonly prefix: string,
    detail: string,
  ) {
    super(`Listing ${prefix} stopped: ${detail}; name a narrower folder`);
  }
}
