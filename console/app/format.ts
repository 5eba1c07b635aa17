/** How the console writes times, durations and dimension values: UTC always, as the data's intervals are, and as alert messages do. */
export { duration, utc } from "../../shared/channels/common/format.ts";
import type { Frequency } from "../../shared/model/frequency.ts";

// Every frequency Vigil takes, checked against its list (a type only: the console's bundle loads no schema).
const INTERVAL_MS: Readonly<Record<Frequency, number>> = { PT1M: 60_000, PT5M: 300_000, PT10M: 600_000, PT1H: 3_600_000, P1D: 86_400_000 };
const SAID: Readonly<Record<Frequency, string>> = { PT1M: "every minute", PT5M: "every 5 minutes", PT10M: "every 10 minutes", PT1H: "hourly", P1D: "daily" };
const known = (f: string | undefined): f is Frequency => f !== undefined && Object.hasOwn(INTERVAL_MS, f);

/** The length of one interval of a frequency (0 if unknown). */
export const intervalMs = (f: string | undefined) => (known(f) ? INTERVAL_MS[f] : 0);

/** The frequencies as people say them. */
export const frequency = (f: string | undefined): string => (known(f) ? SAID[f] : (f ?? "unknown"));

export const dimensionText = (dims: readonly { DimensionName: string; DimensionValue: string }[]) => (dims.length ? dims.map((d) => `${d.DimensionName}=${d.DimensionValue}`).join(", ") : "all rows");

export type SeverityBand = "high" | "medium" | "low";

/** The bands an alert threshold usually falls in (L4M's console coloured groups the same way). */
export const severityBand = (score: number): SeverityBand => (score >= 70 ? "high" : score >= 40 ? "medium" : "low");

// One formatter each, made once: a page formats thousands of figures.
const WHOLE = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const FINE = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
export const number = (x: number) => (Math.abs(x) >= 100 ? WHOLE : FINE).format(x);

/** The resource name at the end of an ARN (`…:AnomalyDetector:shop` → `shop`). */
export const arnName = (arn: string) => arn.slice(Math.max(arn.lastIndexOf(":"), arn.lastIndexOf("/")) + 1);
