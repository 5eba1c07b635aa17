import { parseLocation } from "../model/location.ts";
import type { BlobBody, BlobKind, BlobStore } from "./blobs.ts";

/** One BlobStore over several: `s3://` addresses go to S3, everything else to local disk. */
export class RoutingBlobStore implements BlobStore {
  constructor(private readonly stores: { readonly local: BlobStore; readonly s3?: BlobStore }) {}

  async get(uri: string) {
    return this.pick(uri).get(uri);
  }
  async getRange(uri: string, offset: number, length: number) {
    return this.pick(uri).getRange(uri, offset, length);
  }
  async read(uri: string) {
    return this.pick(uri).read(uri);
  }
  async put(uri: string, body: BlobBody, kind?: BlobKind) {
    return this.pick(uri).put(uri, body, kind);
  }
  async list(prefix: string) {
    return this.pick(prefix).list(prefix);
  }
  async deleteFolder(folder: string) {
    return this.pick(folder).deleteFolder(folder);
  }

  private pick(uri: string): BlobStore {
    if (parseLocation(uri).kind === "local") return this.stores.local;
    if (!this.stores.s3) throw new Error(`no S3 client is configured to read ${uri}`);
    return this.stores.s3;
  }
}
