/**
 * zod's functional build (`zod/mini`), with zod's English messages: every schema of Vigil is
 * declared through this module. The chained build (`zod`) puts every method of every schema
 * type in each bundle that names it (93 KB minified, against 21 KB here, +9.6 against +2.8 ms
 * of a cold start on Node 22: docs/scaling.md, "Cold start"), and every function parses its
 * settings and its event at each cold start. The same core parses either way: issues, paths
 * and messages are the same. `zod/mini` sets no locale of its own ("Invalid input" for every
 * issue), so this module sets zod's English one before any schema is used.
 */
import { config, type core } from "zod/mini";
import * as zm from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";

/** What a `superRefine` is handed, to report issues with. */
export type RefinementCtx<T = unknown> = core.$RefinementCtx<T>;

/**
 * zod's `maxLength`, which stops the checks after it once it fails: zod runs every check of
 * a schema in turn whatever the ones before found, so a pattern or refinement after a length
 * bound would otherwise read a string of any length a body holds (megabytes, each check at its
 * own cost). Every bound of Vigil's schemas is this one (this module's export replaces zod's).
 */
export function maxLength(maximum: number, params?: string | Parameters<typeof zm.maxLength>[1]): ReturnType<typeof zm.maxLength> {
  return zm.maxLength(maximum, { ...(typeof params === "string" ? { error: params } : params), abort: true });
}
