import { describe, expect, it } from "vitest";
import { runDemo } from "../../cli/demo.ts";
import { liveIncidents, serveDemo } from "../../cli/demo-serve.ts";
import { tempDir } from "../builders.ts";

describe("the demo, live", () => {
  it("schedules an incident every twelve hours, cycling through three kinds", () => {
    const incidents = liveIncidents(0, 4);
    expect(incidents.map((i) => i.start / 3_600_000)).toEqual([4, 16, 28, 40]);
    expect(incidents[3]!.title).toBe(incidents[0]!.title);
  });

  it("keeps the demo's detector running on a simulated clock: hours land and are detected, an incident's alert is sent", async () => {
    const dir = await tempDir();
    const report = await runDemo(dir, () => {});
    const lines: string[] = [];
    let alerted: () => void = () => {};
    const alert = new Promise<void>((resolve) => (alerted = resolve));
    const running = await serveDemo(report, {
      port: 0,
      rate: 36_000,
      log: (line) => {
        lines.push(line);
        if (/^ {2}ALERT sent: shop-severe\//.test(line) && lines.some((l) => /begins in the shop's data/.test(l))) alerted();
      },
    });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no live alert:\n${lines.join("\n")}`)), 50_000));
    await Promise.race([alert, timeout]);
    expect(await running.stop()).toBe("drained");
    expect(lines.some((l) => /^2021-03-04 \d\d:00 UTC: 21 rows, \d+ anomal/.test(l))).toBe(true);
  });
});
