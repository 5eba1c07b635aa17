import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { backtest, backtestSlices, type BacktestResult } from "../../../shared/detect/backtest.ts";
import { detectInterval } from "../../../shared/app/index.ts";
import { notifyReason, nextState, type NotificationState } from "../../../shared/alerts/renotify.ts";
import type { AnomalyGroupEvent } from "../../../shared/model/anomaly-event.ts";
import { FREQUENCIES, intervalMs, type Frequency } from "../../../shared/model/frequency.ts";
import { csvOf, HOUR, localAt, shopOnFiles, T0, tempDir } from "../../builders.ts";
import { backtestOf, oneSeries } from "./one-series.ts";
import { QUIET_MODELS } from "../engine/quiet-series.ts";
import { noise, spikyForGood } from "../engine/series.ts";

const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** An hourly shop-like series: a daily cycle around 1,000 with 2 % noise. */
const hourly = (k: number) => 1000 + 400 * Math.sin((2 * Math.PI * k) / 24) + 20 * noise(k);
const at = (day: number, hour = 0) => day * 24 + hour;
const groupsFrom = (r: BacktestResult, fromMs: number) => r.groups.filter((g) => g.startMs >= fromMs).sort((a, b) => a.startMs - b.startMs);

describe("a back-test run a slice at a time", () => {
  it("pauses after each slice of series-intervals, and answers what the back-test run at once answers", () => {
    const { metricSet, data } = oneSeries("PT1H", at(28), (k) => hourly(k) * (k === at(20, 9) ? 3 : 1));
    const options = { from: T0 + 14 * DAY, slicePoints: 50 };
    const slices = backtestSlices(metricSet, { intervals: data }, options);
    let pauses = 0;
    let next = slices.next();
    for (; !next.done; next = slices.next()) pauses++;
    expect(pauses).toBe(Math.floor(at(28) / 50));
    expect(next.value).toEqual(backtest(metricSet, { intervals: data }, { from: options.from }));
    expect(next.value.anomalies.some((a) => a.timestamp === T0 + at(20, 9) * HOUR)).toBe(true);
  });
});

describe("what a user expects of anomaly groups", () => {
  it("raises an incident at its onset, at alert severity, in one group for as long as it lasts, and closes it after", () => {
    const start = at(20, 10);
    const r = backtestOf("PT1H", at(30), (k) => hourly(k) * (k >= start && k < start + 6 ? 0.4 : 1));
    const groups = groupsFrom(r, T0 + 14 * DAY);
    expect(groups).toHaveLength(1);
    const [group] = groups;
    expect(group!.startMs).toBe(T0 + start * HOUR);
    const onset = r.anomalies.find((a) => a.timestamp === T0 + start * HOUR)!;
    expect(onset.score).toBeGreaterThanOrEqual(70);
    expect(onset.direction).toBe("DOWN");
    expect(group!.endMs).toBeGreaterThanOrEqual(T0 + (start + 5) * HOUR);
    expect(group!.endMs).toBeLessThan(T0 + (start + 9) * HOUR);
  });

  it("keeps one group while the deviation persists, through a calm interval in the middle", () => {
    const start = at(20, 9);
    const r = backtestOf("PT1H", at(30), (k) => hourly(k) * (k >= start && k < start + 7 && k !== start + 3 ? 0.4 : 1));
    expect(groupsFrom(r, T0 + 14 * DAY)).toHaveLength(1);
  });

  it("alerts an incident that comes over an hour after the last one's last anomaly at its own onset, in a group of its own", () => {
    // Five-minute data; two bursts of 15 minutes, the second 75 minutes after the first ends.
    const first = 15 * 288 + 100;
    const second = first + 3 + 15;
    const burst = (k: number) => (k >= first && k < first + 3) || (k >= second && k < second + 3);
    const r = backtestOf("PT5M", 16 * 288, (k) => 100 + 2 * noise(k) + (burst(k) ? 40 : 0));
    const groups = groupsFrom(r, T0 + 14 * DAY);
    expect(groups.map((g) => (g.startMs - T0) / (5 * 60_000))).toEqual([first, second]);
  });

  it("reports an incident that comes back an hour after a two- or three-hour one at PT1M within its first minutes: the first did not teach the tails", () => {
    // Minute data; the level triples for two or three hours, calm returns for 75 minutes, then the level triples again, starting at any minute of the hour.
    // The long incident's 120 or 180 points would lift the tails' 95th percentile four- to five-fold were they learned.
    for (const offset of [0, 17, 35, 50])
      for (const length of [120, 180]) {
        const first = 4 * 1440 + 600 + offset;
        const again = first + length + 75;
        const incident = (k: number) => (k >= first && k < first + length) || (k >= again && k < again + 30);
        const r = backtestOf("PT1M", again + 120, (k) => 100 + 2 * noise(k) + (incident(k) ? 200 : 0), 3);
        const onset = r.anomalies.filter((a) => a.timestamp >= T0 + again * 60_000 && a.timestamp < T0 + (again + 8) * 60_000);
        expect(Math.max(0, ...onset.map((a) => a.score)), `${length} minutes from minute ${offset} of the hour`).toBeGreaterThanOrEqual(70);
      }
  });

  it("learns a minute series that turns spiky for good: the incident it opens closes within half a day, the tails held only for its first six hours", () => {
    // Minute data, calm for four days, then a tenth of its minutes spike by 30-90 times the noise's spread, for good.
    const change = 4 * 1440 + 600;
    const hours: number[] = [];
    for (const seed of [1, 4, 6, 8]) {
      const r = backtestOf("PT1M", change + 2 * 1440, spikyForGood(change, seed), 3);
      const [first] = groupsFrom(r, T0 + change * 60_000);
      expect(first!.startMs).toBeLessThan(T0 + (change + 10) * 60_000);
      hours.push((first!.endMs - first!.startMs) / HOUR);
    }
    // Held for the whole event, the tails learned no spike while it was open, and each of these stayed open 23 hours (9-10 now; 11 were they held 8 hours).
    for (const h of hours) expect(h).toBeLessThan(12);
  });

  it("lets the group's severity follow its worst interval, recording a larger deviation after the onset: no quiet period hides it", () => {
    const start = at(20, 9);
    const r = backtestOf("PT1H", at(30), (k) => hourly(k) * (k >= start && k < start + 2 ? 0.75 : k >= start + 2 && k < start + 4 ? 0.1 : 1));
    const [group] = groupsFrom(r, T0 + 14 * DAY);
    const mine = r.anomalies.filter((a) => a.anomalyGroupId === group!.AnomalyGroupId);
    const first = mine[0]!;
    const worst = mine.reduce((a, b) => (b.score > a.score ? b : a));
    expect(worst.timestamp).toBeGreaterThan(first.timestamp);
    expect(worst.score).toBeGreaterThan(first.score);
    expect(group!.score).toBe(worst.score);
  });

  it("reports a larger burst an hour after a reported one, in full: no quiet period after a report", () => {
    const start = at(20, 9);
    const r = backtestOf("PT1H", at(30), (k) => hourly(k) * (k === start ? 0.75 : k === start + 2 ? 0.1 : 1));
    const onset = r.anomalies.find((a) => a.timestamp === T0 + start * HOUR)!;
    const burst = r.anomalies.find((a) => a.timestamp === T0 + (start + 2) * HOUR)!;
    expect(onset.score).toBeGreaterThanOrEqual(70);
    expect(burst.score).toBeGreaterThan(onset.score);
    expect(burst.score).toBeGreaterThanOrEqual(90);
    const group = r.groups.find((g) => g.AnomalyGroupId === burst.anomalyGroupId)!;
    expect(group.score).toBe(burst.score);
  });

  it("re-notifies an alert when the incident worsens into a higher severity band (severityChanged)", async () => {
    const dir = await tempDir();
    const events: AnomalyGroupEvent[] = [];
    const rt = { ...localAt(join(dir, "vigil")), events: { publish: async (e: AnomalyGroupEvent) => void events.push(e) } };
    const files = join(dir, "files");
    const live = T0 + 21 * DAY + 9 * HOUR;
    // A dip of about 4.5 residual scales for two hours (HIGH), then the series all but stops for two (CRITICAL).
    const change = (t: number, v: number) => (t >= live && t < live + 2 * HOUR ? v - 90 : t >= live + 2 * HOUR && t < live + 4 * HOUR ? v * 0.05 : v);
    const points = Array.from({ length: 21 * 24 + 16 }, (_, h) => {
      const t = T0 + h * HOUR;
      const v = Math.round(change(t, 1000 + 400 * Math.sin((2 * Math.PI * h) / 24) + 20 * noise(h)));
      return { t, platform: "web", marketplace: "de", views: v, revenue: v };
    });
    await rt.blobs.put(join(files, "history", "all.csv"), csvOf(points.filter((p) => p.t < live - 3 * HOUR)));
    for (const p of points.filter((q) => q.t >= live - 3 * HOUR)) {
      const iso = new Date(p.t).toISOString();
      await rt.blobs.put(join(files, "live", iso.slice(0, 10).replaceAll("-", ""), iso.slice(11, 16).replace(":", ""), "part.csv"), csvOf([p]));
    }
    const { metricSet } = await shopOnFiles(rt, files);
    for (let h = -3; h < 8; h++) await detectInterval(rt, metricSet, live + h * HOUR, live + (h + 1) * HOUR);
    const changed = events.filter((e) => e.type === "AnomalyGroupChanged" && e.summary.measure === "views");
    expect(new Set(changed.map((e) => e.anomalyGroup.AnomalyGroupId)).size).toBe(1);
    let told: NotificationState | undefined;
    const reasons: string[] = [];
    for (const e of changed) {
      const reason = notifyReason(told, e);
      reasons.push(reason);
      told = nextState(told, e, reason);
    }
    expect(reasons[0]).toBe("first");
    expect(changed[0]!.anomalyGroup.AnomalyGroupScore).toBeLessThan(85);
    expect(reasons).toContain("severityChanged");
    expect(changed[changed.length - 1]!.anomalyGroup.AnomalyGroupScore).toBeGreaterThan(changed[0]!.anomalyGroup.AnomalyGroupScore);
  });
});

describe("what the engine learns", () => {
  // Known gap: the job still alarms on 5 nights (at 71–81, once at 98): its residual varies by more than 1.28x from night to night as the slots partly learn it, and a job a little higher than any before is a record. Excusing both (records at routine times; "like" at 1.45x) passes this but costs 9 points of NAB's development set (docs/engine.md). It.fails keeps the gap in view: when it is fixed, this turns red and becomes an it.
  it.fails("learns a daily routine that comes a few minutes early or late: it alarms the first night only", () => {
    // Five-minute data; a job every night at 03:15, give or take ten minutes, lifts the series for ten minutes.
    const perDay = 288;
    const job = (k: number) => {
      const day = Math.floor(k / perDay);
      const at = 39 + ((day * 7) % 5) - 2; // 03:15 ± 10 minutes
      return k % perDay >= at && k % perDay < at + 2;
    };
    const r = backtestOf("PT5M", perDay * 24, (k) => 50 + 2 * noise(k) + (job(k) ? 40 : 0), 0);
    const nights = new Set(r.groups.map((g) => Math.floor((g.startMs - T0) / DAY)));
    expect(nights.size).toBeLessThanOrEqual(1);
    const jobAnomalies = r.anomalies.filter((a) => job((a.timestamp - T0) / (5 * 60_000)));
    expect(new Set(jobAnomalies.map((a) => Math.floor((a.timestamp - T0) / DAY))).size).toBeLessThanOrEqual(1);
  });

  it("learns a weekly routine (a report every Thursday at 09:00): it stops alarming by its third week", () => {
    const thursdayNine = (k: number) => new Date(T0 + k * HOUR).getUTCDay() === 4 && new Date(T0 + k * HOUR).getUTCHours() === 9;
    const r = backtestOf("PT1H", at(70), (k) => hourly(k) + (thursdayNine(k) ? 500 : 0), 14);
    const thursdays = r.anomalies.filter((a) => thursdayNine((a.timestamp - T0) / HOUR)).map((a) => Math.floor((a.timestamp - T0) / WEEK));
    const weeks = [...new Set(thursdays)];
    expect(weeks.length).toBeLessThanOrEqual(2);
    expect(Math.max(...weeks, 0)).toBeLessThanOrEqual(4);
  });

  it("does not predict a past incident back: a week after it, the same hours are not anomalous either way", () => {
    const start = at(17, 14);
    const r = backtestOf("PT1H", at(35), (k) => hourly(k) * (k >= start && k < start + 3 ? 0.3 : 1), 15);
    const later = r.anomalies.filter((a) => a.timestamp >= T0 + (start + 24) * HOUR);
    expect(later).toEqual([]);
    expect(r.anomalies.some((a) => a.timestamp === T0 + start * HOUR)).toBe(true);
  });

  it("reports a slow drift (the level moving 3 scales over three days) once, as a drift", () => {
    const from = at(21);
    const level = (k: number) => (k < from ? 0 : k < from + 72 ? (60 * (k - from)) / 72 : 60);
    const r = backtestOf("PT1H", at(35), (k) => 1000 + 400 * Math.sin((2 * Math.PI * k) / 24) + level(k) + 20 * noise(k), 14);
    const drifts = r.anomalies.filter((a) => a.kind === "drift");
    expect(drifts).toHaveLength(1);
    expect(drifts[0]!.direction).toBe("UP");
    expect(drifts[0]!.timestamp).toBeGreaterThan(T0 + from * HOUR);
    expect(r.anomalies.filter((a) => a.kind !== "drift")).toEqual([]);
  });

  it("alerts on an incident that comes soon after a drift report at the incident's own onset: the drift does not hold its group open", () => {
    const from = at(21);
    const level = (k: number) => (k < from ? 0 : k < from + 72 ? (60 * (k - from)) / 72 : 60);
    const drifting = (k: number) => 1000 + 400 * Math.sin((2 * Math.PI * k) / 24) + level(k) + 20 * noise(k);
    const drift = backtestOf("PT1H", at(35), drifting, 14).anomalies.find((a) => a.kind === "drift")!;
    const start = (drift.timestamp - T0) / HOUR + 2;
    const r = backtestOf("PT1H", at(35), (k) => drifting(k) * (k >= start && k < start + 3 ? 0.4 : 1), 14);
    const incident = r.groups.find((g) => g.startMs === T0 + start * HOUR);
    expect(incident?.score).toBeGreaterThanOrEqual(90);
    const driftGroup = r.groups.find((g) => g.AnomalyGroupId === r.anomalies.find((a) => a.kind === "drift")!.anomalyGroupId)!;
    expect(driftGroup.AnomalyGroupId).not.toBe(incident!.AnomalyGroupId);
    expect(driftGroup.score).toBe(70);
  });

  it("does not report as a drift a level whose wander is its habit: a random walk, or two-week swings of ±6 scales", () => {
    let walk = 0;
    const walked = Array.from({ length: at(70) }, (_, k) => (walk += 10 * noise(k, 77)));
    const swings = backtestOf("PT1H", at(70), (k) => hourly(k) + 120 * Math.sin((2 * Math.PI * k) / at(14)), 35);
    const randomWalk = backtestOf("PT1H", at(70), (k) => hourly(k) + walked[k]!, 35);
    expect(swings.anomalies.filter((a) => a.kind === "drift")).toEqual([]);
    expect(randomWalk.anomalies.filter((a) => a.kind === "drift")).toEqual([]);
  });

  it("watches every frequency, PT1M to P1D: alerts on its normal no more often than severity 70 means (one interval in 2,000), an incident found at its start and ranked above them", () => {
    for (const f of FREQUENCIES) {
      const len = intervalMs(f);
      const perDay = Math.max(1, Math.round(DAY / len));
      const history = f === "P1D" ? 400 : perDay * 21;
      const start = history + (f === "P1D" ? 3 : perDay * 2 + Math.round(perDay / 3));
      const fromDay = Math.ceil((history * len) / DAY) - 7;
      const cycle = (k: number) => (f === "P1D" ? 1000 + 300 * Math.sin((2 * Math.PI * k) / 7) : 1000 + 300 * Math.sin((2 * Math.PI * k) / perDay));
      const r = backtestOf(f, start + 40, (k) => (cycle(k) + 15 * noise(k)) * (k >= start && k < start + 3 ? 0.3 : 1), fromDay);
      const alerts = r.groups.filter((g) => g.score >= 70);
      const before = alerts.filter((g) => g.startMs < T0 + start * len);
      const normalIntervals = start - (fromDay * DAY) / len;
      expect(before.length, f).toBeLessThanOrEqual(normalIntervals / 2000 + 1);
      const incident = alerts.find((g) => g.startMs >= T0 + start * len);
      expect(incident?.startMs, f).toBe(T0 + start * len);
      expect(incident!.score, f).toBeGreaterThanOrEqual(90);
      for (const g of before) expect(g.score, f).toBeLessThan(incident!.score);
    }
  });
});

describe("severity is calibrated", () => {
  it("gives a quiet series fewer than one alert at 70 per 30 days of hourly data: Gaussian, Poisson counts, heavy tails, zeros", () => {
    const SERIES = 8;
    const DAYS = 60;
    for (const [name, model] of Object.entries(QUIET_MODELS)) {
      let alerts = 0;
      for (let s = 1; s <= SERIES; s++) alerts += backtestOf("PT1H", at(14 + DAYS), (k) => model(k, s)).groups.filter((g) => g.score >= 70).length;
      expect(alerts / SERIES / (DAYS / 30), name).toBeLessThan(1);
    }
  });

  it("judges a minute series per five minutes: a quiet series alarms no more often a day at PT1M than at PT5M", () => {
    const SERIES = 6;
    const DAYS = 30;
    const alertsPerDay = (frequency: Frequency) => {
      const perDay = DAY / intervalMs(frequency);
      const daily = (k: number) => Math.sin((2 * Math.PI * k) / perDay);
      let alerts = 0;
      for (let s = 1; s <= SERIES; s++) alerts += backtestOf(frequency, (14 + DAYS) * perDay, (k) => 100 + 20 * daily(k) + 5 * noise(k, s)).groups.filter((g) => g.score >= 70).length;
      return alerts / SERIES / DAYS;
    };
    const fiveMinutes = alertsPerDay("PT5M");
    const minutes = alertsPerDay("PT1M");
    // Judged per interval, the minute series would alarm about five times as often.
    expect(fiveMinutes).toBeGreaterThan(0);
    expect(minutes).toBeLessThan(1.5 * fiveMinutes);
  });
});
