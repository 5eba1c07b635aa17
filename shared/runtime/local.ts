import { join, resolve } from "node:path";
import { Catalog } from "../catalog/catalog.ts";
import type { DetectDeps } from "../detect/detect-interval.ts";
import { LOCAL_ARN_SCOPE } from "../model/ids.ts";
import { LocalBlobStore } from "../store/local-blobs.ts";
import { LocalRecordStore } from "../store/local-records.ts";
import { RoutingBlobStore } from "../store/routing-blobs.ts";

/** Everything the local mode needs, under one data directory: records, results, model snapshots. */
export interface LocalRuntime extends DetectDeps {
  readonly dataDir: string;
  readonly catalog: Catalog;
}

export function localRuntime(dataDir: string, now: () => number): LocalRuntime {
  const dir = resolve(dataDir);
  const records = new LocalRecordStore(join(dir, "state"));
  return {
    dataDir: dir,
    records,
    blobs: new RoutingBlobStore({ local: new LocalBlobStore() }),
    resultsRoot: join(dir, "results"),
    catalog: new Catalog({ records, scope: LOCAL_ARN_SCOPE, now }),
  };
}
