import * as z from "./zod.ts";

/** L4M's frequencies, and PT1M beyond L4M: operations teams watch minute data. */
export const Frequency = z.enum(["PT1M", "PT5M", "PT10M", "PT1H", "P1D"]);
export type Frequency = z.infer<typeof Frequency>;
export const FREQUENCIES: readonly Frequency[] = Frequency.options;

const MINUTE = 60_000;
const INTERVAL_MS: Record<Frequency, number> = { PT1M: MINUTE, PT5M: 5 * MINUTE, PT10M: 10 * MINUTE, PT1H: 60 * MINUTE, P1D: 1440 * MINUTE };

export const intervalMs = (f: Frequency): number => INTERVAL_MS[f];
