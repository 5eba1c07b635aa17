/**
 * A realistic online shop to show Vigil on: views and revenue per platform × marketplace,
 * hourly, with a daily cycle in each marketplace's local time, a weekend lift, noise, and a
 * few injected incidents whose true root cause is known. Seeded: the same every run.
 */

export const PLATFORMS = ["pc_web", "mobile_web", "mobile_app"] as const;
export const MARKETPLACES = ["us", "uk", "de", "fr", "es", "it", "jp"] as const;

const UTC_OFFSET_HOURS: Record<(typeof MARKETPLACES)[number], number> = { us: -5, uk: 0, de: 1, fr: 1, es: 1, it: 1, jp: 9 };
const MARKET_SIZE: Record<(typeof MARKETPLACES)[number], number> = { us: 2400, uk: 900, de: 1100, fr: 700, es: 450, it: 500, jp: 1300 };
const PLATFORM_SHARE: Record<(typeof PLATFORMS)[number], number> = { pc_web: 0.35, mobile_web: 0.3, mobile_app: 0.35 };
const BASKET: Record<(typeof PLATFORMS)[number], number> = { pc_web: 0.42, mobile_web: 0.28, mobile_app: 0.36 };

export interface Incident {
  readonly title: string;
  readonly start: number;
  readonly hours: number;
  /** Dimension values the incident hits; the true root cause. */
  readonly cause: Readonly<Record<string, string>>;
  readonly measure: "views" | "revenue";
  /** Multiplier on the affected measure (revenue follows views). */
  readonly factor: number;
}

export interface ShopRow {
  readonly timestamp: number;
  readonly platform: string;
  readonly marketplace: string;
  readonly views: number;
  readonly revenue: number;
}

const HOUR = 3_600_000;

/** mulberry32: a small, fast, seeded PRNG. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

export interface ShopOptions {
  readonly start: number;
  readonly hours: number;
  readonly incidents: readonly Incident[];
  readonly seed?: number;
}

/** Every row of every hour in [start, start + hours). */
export function generateShop(options: ShopOptions): ShopRow[] {
  const rand = random(options.seed ?? 20210301);
  const rows: ShopRow[] = [];
  for (let h = 0; h < options.hours; h++) {
    const t = options.start + h * HOUR;
    for (const platform of PLATFORMS) {
      for (const marketplace of MARKETPLACES) {
        const local = new Date(t + UTC_OFFSET_HOURS[marketplace] * HOUR);
        const hour = local.getUTCHours();
        const weekend = local.getUTCDay() === 0 || local.getUTCDay() === 6;
        const daily = 0.55 + 0.45 * Math.cos((2 * Math.PI * (hour - 20)) / 24);
        const mean = MARKET_SIZE[marketplace] * PLATFORM_SHARE[platform] * daily * (weekend ? 1.25 : 1);
        let views = Math.max(0, mean + gaussian(rand) * Math.sqrt(mean) * 1.5);
        let conversion = BASKET[platform] * (1 + 0.05 * gaussian(rand));
        for (const inc of options.incidents) {
          const hit = t >= inc.start && t < inc.start + inc.hours * HOUR && Object.entries(inc.cause).every(([d, v]) => (d === "platform" ? platform : marketplace) === v);
          if (!hit) continue;
          if (inc.measure === "views") views *= inc.factor;
          else conversion *= inc.factor;
        }
        views = Math.round(views);
        rows.push({ timestamp: t, platform, marketplace, views, revenue: Math.round(views * conversion * 100) / 100 });
      }
    }
  }
  return rows;
}

/** The demo's story: three incidents in three days of live data. */
export function demoIncidents(liveStart: number): Incident[] {
  return [
    { title: "Checkout payment provider outage in Germany", start: liveStart + 20 * HOUR, hours: 3, cause: { marketplace: "de" }, measure: "revenue", factor: 0.35 },
    { title: "Broken mobile web release", start: liveStart + 38 * HOUR, hours: 2, cause: { platform: "mobile_web" }, measure: "views", factor: 0.3 },
    { title: "Unannounced app campaign in Japan", start: liveStart + 58 * HOUR, hours: 2, cause: { platform: "mobile_app", marketplace: "jp" }, measure: "views", factor: 2.6 },
  ];
}

export const toCsv = (rows: readonly ShopRow[]) =>
  "timestamp,platform,marketplace,views,revenue\n" +
  rows.map((r) => `${new Date(r.timestamp).toISOString().slice(0, 19).replace("T", " ")},${r.platform},${r.marketplace},${r.views},${r.revenue}`).join("\n") +
  "\n";
