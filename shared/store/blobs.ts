/**
 * The blob port: where metric files, interval results and model snapshots live. Addresses
 * are `s3://bucket/key` URIs or local paths; `list` takes a folder or key prefix.
 */
export interface BlobStore {
  get(uri: string): Promise<Uint8Array | undefined>;
  /** `kind` labels the object (an S3 tag), so retention rules can tell rejects from results. */
  put(uri: string, body: Uint8Array | string, kind?: BlobKind): Promise<void>;
  /** Addresses of every object under `prefix` (a folder, a key prefix or one file), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Deletes every object under the folder `folder` (ending in `/`); answers how many there were. */
  deleteFolder(folder: string): Promise<number>;
}

/** Labels for retention: rejected rows expire sooner than results and models. */
export type BlobKind = "rejects";

/** A folder, not a key prefix: deleting `…/shop/` must not take `…/shop-2/` with it. */
export function assertFolder(folder: string): void {
  if (!folder.endsWith("/")) throw new Error(`not a folder (no trailing /): ${folder}`);
}
