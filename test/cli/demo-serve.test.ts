import { describe, expect, it } from "vitest";
import { runDemo } from "../../cli/demo.ts";
import { liveIncidents, serveDemo } from "../../cli/demo-serve.ts";
import { DEMO_LIVE_START, LIVE_HOURS } from "../../cli/demo.ts";
import { HOUR, tempDir } from "../builders.ts";

const DAY = 24 * HOUR;
const stamp = (t: number) => new Date(t).toISOString().slice(0, 16).replace("T", " ") + " UTC";

describe("the demo, live", () => {
  it("schedules one incident a day, six kinds in turn, so that no series is hit twice in six days", () => {
    const incidents = liveIncidents(0, 12);
    const days = incidents.map((i) => Math.floor(i.start / DAY));
    expect(days).toEqual(Array.from({ length: 12 }, (_, k) => k));
    expect(new Set(incidents.slice(0, 6).map((i) => i.title)).size).toBe(6);
    for (let k = 0; k < 6; k++) expect(incidents[k + 6]).toMatchObject({ title: incidents[k]!.title, start: incidents[k]!.start + 6 * DAY });
  });

  it("keeps the demo's detector running on a simulated clock: hours land and are detected, and each of the first six incidents is alerted at its onset", async () => {
    const dir = await tempDir();
    const report = await runDemo(dir, () => {});
    const incidents = liveIncidents(DEMO_LIVE_START + LIVE_HOURS * HOUR, 6);
    const last = incidents.at(-1)!;
    const through = stamp(last.start + last.hours * HOUR);
    const lines: string[] = [];
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    const running = await serveDemo(report, {
      port: 0,
      rate: 36_000,
      log: (line) => {
        lines.push(line);
        if (line.startsWith(`${through}: `)) done();
      },
    });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not through ${through}:\n${lines.join("\n")}`)), 150_000));
    await Promise.race([finished, timeout]);
    expect(await running.stop()).toBe("drained");
    for (const incident of incidents) {
      const at = stamp(incident.start);
      expect(lines, incident.title).toContain(`  (${at}: "${incident.title}" begins in the shop's data)`);
      // The hour it begins opens a group that starts then: the alert goes out at the onset.
      expect(lines.some((l) => l.startsWith(`${at}: `) && l.includes(`${at} for 1 h`)), `${incident.title} at ${at}:\n${lines.join("\n")}`).toBe(true);
    }
    expect(lines.filter((l) => /^ {2}ALERT sent: shop-severe\/.*#1$/.test(l)).length).toBeGreaterThanOrEqual(incidents.length);
  }, 180_000);
});
