/**
 * The blob port: where metric files, interval results and model snapshots live. Addresses
 * are `s3://bucket/key` URIs or local paths; `list` takes a folder or key prefix.
 */
export interface BlobStore {
  get(uri: string): Promise<Uint8Array | undefined>;
  put(uri: string, body: Uint8Array | string): Promise<void>;
  /** Addresses of every object under `prefix` (a folder, a key prefix or one file), sorted. */
  list(prefix: string): Promise<string[]>;
}

/** Joins address parts with `/`, whatever the scheme. */
export const joinUri = (base: string, ...parts: string[]) => [base.replace(/\/+$/, ""), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ""))].join("/");
