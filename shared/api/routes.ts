import { putMetricRows } from "../sources/push.ts";
import type { Runtime } from "../runtime/local.ts";
import type { Routes } from "./router.ts";

export const VERSION = "0.1.0";

/** The operations served; L4M's own join them here. `now` is read once per request, at the edge. */
export function routes(runtime: (now: number) => Runtime, now: () => number): Routes {
  return {
    get: { health: async () => ({ status: "ok", version: VERSION }) },
    post: {
      PutMetricRows: (input, request) => {
        const at = now();
        const rt = runtime(at);
        return putMetricRows(rt, rt.catalog, input, request.requestId, at);
      },
    },
  };
}
