import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, PutObjectTaggingCommand, type S3Client } from "@aws-sdk/client-s3";
import { parseLocation } from "../model/location.ts";
import { assertFolder, assertRange, LISTING_LIMITS, ListingTooLarge, type BlobBody, type BlobKind, type BlobRange, type BlobStore, type ListingLimits } from "./blobs.ts";

/** Blobs in S3 through the AWS SDK v3 client it is given; a listing stops at its limit of keys. */
export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3Client,
    private readonly limits: Pick<ListingLimits, "maxEntries"> = LISTING_LIMITS,
  ) {}

  async get(uri: string): Promise<Uint8Array | undefined> {
    const { bucket, key } = s3Address(uri);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (e) {
      if (isNoSuchKey(e)) return undefined;
      throw e;
    }
  }

  async getRange(uri: string, offset: number, length: number): Promise<BlobRange | undefined> {
    assertRange(offset, length);
    const { bucket, key } = s3Address(uri);
    let out;
    try {
      out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${offset}-${offset + length - 1}` }));
    } catch (e) {
      if (isNoSuchKey(e)) return undefined;
      // A range from the end on: S3 refuses it (416), even from 0 of an empty object.
      if ((e as { name?: string }).name === "InvalidRange" && offset === 0) return { bytes: new Uint8Array(), size: 0, version: "" };
      throw e;
    }
    const body = out.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    try {
      // Only the part asked for is taken: a whole object in its place (a server that ignores ranges), or another part, is exactly the read a range is there to bound.
      const [, start, end, size] = (/^bytes (\d+)-(\d+)\/(\d+)$/.exec(out.ContentRange ?? "") ?? []).map(Number);
      if (size === undefined) throw new Error(`S3 answered a range of ${uri} without a Content-Range (status ${out.$metadata.httpStatusCode})`);
      if (start !== offset || end! < start || end! - start + 1 > length) throw new Error(`S3 answered bytes ${out.ContentRange} of ${uri} for ${length} from ${offset}`);
      return { bytes: body ? await bytesUpTo(body, end! - start + 1, uri) : new Uint8Array(), size, version: out.ETag ?? "" };
    } finally {
      // A body not read to its end keeps its connection from the pool until it is let go.
      body?.destroy?.();
    }
  }

  async read(uri: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const { bucket, key } = s3Address(uri);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (out.Body as AsyncIterable<Uint8Array> | undefined) ?? (async function* () {})();
    } catch (e) {
      if (isNoSuchKey(e)) return undefined;
      throw e;
    }
  }

  async put(uri: string, body: BlobBody, kind?: BlobKind): Promise<void> {
    const { bucket, key } = s3Address(uri);
    // One request per object: parts are joined for it, as the SDK retries a body of bytes and never a stream's (a throttled put would fail at once). Once joined, the parts may be collected while it is sent.
    if (typeof body !== "string" && !(body instanceof Uint8Array)) body = Buffer.concat(body);
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    // Tagged in a second call (any S3 implements it); should it fail, the object is kept longer, never lost.
    if (kind) await this.client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, Tagging: { TagSet: [{ Key: "vigil-kind", Value: kind }] } }));
  }

  async list(prefix: string): Promise<string[]> {
    return this.keys(prefix, this.limits.maxEntries);
  }

  private async keys(prefix: string, maxEntries: number): Promise<string[]> {
    const { bucket, key } = s3Address(prefix);
    const out: string[] = [];
    let seen = 0;
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token }));
      seen += page.Contents?.length ?? 0;
      if (seen > maxEntries) throw new ListingTooLarge(prefix, `it holds more than ${maxEntries} objects`);
      for (const o of page.Contents ?? []) if (o.Key && !o.Key.endsWith("/")) out.push(`s3://${bucket}/${o.Key}`);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  /** Deletes in batches of S3's limit of 1,000 keys; a key S3 could not delete fails the call, so a retry finishes the job. */
  async deleteFolder(folder: string): Promise<number> {
    assertFolder(folder);
    const { bucket } = s3Address(folder);
    // Vigil's own results, however many: not bounded as a listing of customer data is.
    const keys = (await this.keys(folder, Infinity)).map((uri) => s3Address(uri).key);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const out = await this.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      const failed = out.Errors ?? [];
      if (failed.length) throw new Error(`S3 did not delete ${failed.length} of ${batch.length} objects under ${folder}: ${failed[0]?.Key} (${failed[0]?.Code})`);
    }
    return keys.length;
  }
}

const DELETE_BATCH = 1000;

/** S3's answer for an object that is not there (a class of the SDK's, or its name from a server the SDK does not map). */
const isNoSuchKey = (e: unknown) => e instanceof NoSuchKey || (e as { name?: string }).name === "NoSuchKey";

/** A body's bytes, refused past `limit` as they arrive (its framing is the server's word, not a bound). */
async function bytesUpTo(body: AsyncIterable<Uint8Array>, limit: number, uri: string): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  let got = 0;
  for await (const piece of body) {
    got += piece.byteLength;
    if (got > limit) throw new Error(`S3 sent more than the ${limit} bytes of ${uri} its Content-Range named`);
    pieces.push(piece);
  }
  const joined = Buffer.concat(pieces, got);
  return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
}

function s3Address(uri: string): { bucket: string; key: string } {
  const loc = parseLocation(uri);
  if (loc.kind !== "s3") throw new Error(`not an s3:// URI: ${uri}`);
  return loc;
}
