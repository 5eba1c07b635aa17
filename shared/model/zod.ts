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
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";

/** What a `superRefine` is handed, to report issues with. */
export type RefinementCtx<T = unknown> = core.$RefinementCtx<T>;
