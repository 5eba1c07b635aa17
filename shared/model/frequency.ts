import * as z from "zod";

export const Frequency = z.enum(["PT5M", "PT10M", "PT1H", "P1D"]);
export type Frequency = z.infer<typeof Frequency>;

const MINUTE = 60_000;
const INTERVAL_MS: Record<Frequency, number> = { PT5M: 5 * MINUTE, PT10M: 10 * MINUTE, PT1H: 60 * MINUTE, P1D: 1440 * MINUTE };

export const intervalMs = (f: Frequency): number => INTERVAL_MS[f];

