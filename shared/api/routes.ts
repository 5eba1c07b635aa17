import { putMetricRows } from "../sources/push.ts";
import type { Runtime } from "../runtime/local.ts";
import { l4mRoutes } from "./l4m.ts";
import type { Routes } from "./router.ts";

export const VERSION = "0.1.0";

/** Every operation served: L4M's, Vigil's PutMetricRows, and health. `now` is read once per request, at the edge. */
export function routes(runtime: (now: number) => Runtime, now: () => number): Routes {
  const l4m = l4mRoutes(runtime, now);
  return {
    get: { health: async () => ({ status: "ok", version: VERSION }) },
    post: {
      ...l4m.post,
      PutMetricRows: async (input, request) => {
        const at = now();
        const rt = runtime(at);
        return putMetricRows(rt, rt.catalog, input, request.requestId, at);
      },
    },
    ...(l4m.tags ? { tags: l4m.tags } : {}),
  };
}
