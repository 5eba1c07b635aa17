import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetFeedbackCommand, LookoutMetricsClient } from "@aws-sdk/client-lookoutmetrics";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemo, type DemoReport } from "../../cli/demo.ts";
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, serve, tenantsFromEnv } from "../../cli/serve.ts";
import { primaryImpact } from "../../shared/incidents/contribution.ts";
import { localServices } from "../../shared/runtime/local.ts";

/**
 * The console in a real browser (Debian's Chromium, headless) against `vigil serve` over the
 * demo's data: what a person does, checked by what the page draws and what the server keeps.
 */
const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const OTHER = { id: "OTHERKEY", secret: "other-secret" };
const HOUR = 3_600_000;
/** The colours console/app/components/chart.tsx draws with. */
const ACTUAL = [0x1d, 0x4e, 0xd8];
const ONSET = [0xb9, 0x1c, 0x1c];
const LAPTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface Violation {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly nodes: string[];
}

/** axe-core's serious and critical findings on the page as it is now. */
async function seriousViolations(page: Page): Promise<Violation[]> {
  await page.evaluate(axeSource);
  const all = (await page.evaluate(
    "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })))",
  )) as Violation[];
  return all.filter((v) => v.impact === "serious" || v.impact === "critical");
}

interface ChartPixels {
  /** Canvas pixels per CSS pixel. */
  readonly ratio: number;
  /** The plot area inside the canvas, in canvas pixels. */
  readonly plot: { readonly left: number; readonly top: number; readonly width: number; readonly height: number };
  /** Per canvas column: the topmost row drawn in the values' colour, or -1. */
  readonly actualTop: number[];
  /** Per canvas column: how many pixels are in the onset's colour. */
  readonly onsetCount: number[];
}

/** Reads back what uPlot drew on a chart's canvas. */
async function chartPixels(page: Page, seriesId: string): Promise<ChartPixels> {
  const chart = page.locator(`[data-series="${seriesId}"] .chart`);
  await chart.locator("canvas").waitFor();
  return chart.evaluate(
    (el, colours) => {
      const canvas = el.querySelector("canvas")!;
      const over = el.querySelector(".u-over")!;
      const ratio = canvas.width / canvas.getBoundingClientRect().width;
      const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
      const near = (i: number, c: number[]) => data[i + 3]! > 200 && Math.abs(data[i]! - c[0]!) + Math.abs(data[i + 1]! - c[1]!) + Math.abs(data[i + 2]! - c[2]!) < 60;
      const actualTop: number[] = new Array(canvas.width).fill(-1);
      const onsetCount: number[] = new Array(canvas.width).fill(0);
      for (let y = 0; y < canvas.height; y++) {
        for (let x = 0; x < canvas.width; x++) {
          const i = (y * canvas.width + x) * 4;
          if (actualTop[x] === -1 && near(i, colours.actual)) actualTop[x] = y;
          if (near(i, colours.onset)) onsetCount[x]!++;
        }
      }
      const plot = { left: over.offsetLeft * ratio, top: over.offsetTop * ratio, width: over.offsetWidth * ratio, height: over.offsetHeight * ratio };
      return { ratio, plot, actualTop, onsetCount };
    },
    { actual: ACTUAL, onset: ONSET },
  );
}

const noSidewaysScroll = (page: Page) => page.evaluate("document.documentElement.scrollWidth <= window.innerWidth");

describe.skipIf(!existsSync(CHROMIUM) && !process.env["CI"])("the console in Chromium, over the demo", () => {
  let dir: string;
  let report: DemoReport;
  let server: Server;
  let url: string;
  let browser: Browser;
  let mine: BrowserContext;
  const sdk = () => new LookoutMetricsClient({ endpoint: url, region: "us-east-1", credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY }, maxAttempts: 1 });

  async function signIn(context: BrowserContext, id: string, secret: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${url}/console/`);
    await page.getByLabel("Access key ID").fill(id);
    await page.getByLabel("Secret access key").fill(secret);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Incidents" }).waitFor();
    return page;
  }

  const mostSevere = () => report.groups.reduce((a, b) => (b.group.score > a.group.score ? b : a)).group;
  const incidentUrl = (g: { AnomalyDetectorArn: string; AnomalyGroupId: string }) => `${url}/console/incident?${new URLSearchParams({ detector: g.AnomalyDetectorArn, group: g.AnomalyGroupId })}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-console-"));
    report = await runDemo(dir, () => {});
    ({ server, url } = await serve({ port: 0, services: localServices(report.dataDir), tenants: tenantsFromEnv({ VIGIL_TENANTS: `other:${OTHER.id}:${OTHER.secret}` }) }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    mine = await browser.newContext({ viewport: LAPTOP });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await rm(dir, { recursive: true, force: true });
  });

  it("signs in, lists the incidents most severe first, and draws the most severe one's chart", async () => {
    const page = await signIn(mine, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY);
    const cookies = await mine.cookies();
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([["vigil_session", true, "Strict"]]);
    const items = page.locator("ol.incidents > li");
    await expect.poll(() => items.count()).toBe(report.groups.length);
    const scores = (await items.locator(".severity").allTextContents()).map((t) => Number(t.replace(/\D/g, "")));
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(await seriousViolations(page)).toEqual([]);

    // The filters: a dimension value (read from each group's detail), then a least severity (asked of the server).
    const withDe = report.groups.filter((g) => Object.values(g.group.impacts).some((i) => Object.values(i.series).some((d) => d["marketplace"] === "de")));
    expect(withDe.length).toBeGreaterThan(0);
    expect(withDe.length).toBeLessThan(report.groups.length);
    await page.getByLabel("Dimension value").selectOption("marketplace=de");
    await expect.poll(() => items.count()).toBe(withDe.length);
    expect(new URL(page.url()).searchParams.get("dimension")).toBe("marketplace=de");
    await page.getByLabel("Dimension value").selectOption("");
    await page.getByLabel("Severity at least").fill("95");
    await page.getByLabel("Severity at least").press("Enter");
    await expect.poll(() => items.count()).toBe(report.groups.filter((g) => g.group.score >= 95).length);
    await page.getByRole("button", { name: "Clear filters" }).click();
    await expect.poll(() => items.count()).toBe(report.groups.length);

    const top = mostSevere();
    await items.first().getByRole("link").click();
    await page.waitForURL(incidentUrl(top));
    await page.getByRole("heading", { level: 1, name: `${primaryImpact(top).measure} incident` }).waitFor();

    // The chart of the series that carries the incident, as drawn on its canvas.
    const [seriesId] = Object.keys(primaryImpact(top).series);
    const px = await chartPixels(page, seriesId!);
    const columns = px.plot.width;
    const drawn = px.actualTop.slice(px.plot.left, px.plot.left + columns).filter((y) => y >= 0).length;
    expect(drawn / columns).toBeGreaterThan(0.8); // the values run across the plot

    // The onset: a full-height line where the group starts, 24 intervals into the window.
    const onsetX = px.onsetCount.indexOf(Math.max(...px.onsetCount));
    expect(px.onsetCount[onsetX]).toBeGreaterThan(0.9 * px.plot.height);
    const first = top.startMs - 24 * HOUR;
    const last = top.endMs + HOUR;
    expect(Math.abs(onsetX - (px.plot.left + ((top.startMs - first) / (last - first)) * px.plot.width))).toBeLessThan(3 * px.ratio);

    // The demo's spike (a campaign, +183 %) is the highest point drawn, and it is after the onset.
    const inPlot = px.actualTop.map((y, x) => ({ x, y })).filter((p) => p.y >= 0 && p.x >= px.plot.left && p.x < px.plot.left + columns);
    const peak = inPlot.reduce((a, b) => (b.y < a.y ? b : a));
    expect(peak.x).toBeGreaterThanOrEqual(onsetX - 2 * px.ratio);
    // Before the rise into the onset (the interval ahead of it), the line stays well below the peak.
    const intervalPx = (px.plot.width * HOUR) / (last - first);
    const before = inPlot.filter((p) => p.x < onsetX - intervalPx).map((p) => p.y);
    expect(Math.min(...before) - peak.y).toBeGreaterThan(0.3 * px.plot.height);
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it("marks a series not relevant: PutFeedback records it, and the page shows what GetFeedback answers", async () => {
    const top = mostSevere();
    const page = await mine.newPage();
    await page.goto(incidentUrl(top));
    const card = page.locator("li.series").first();
    const seriesId = (await card.getAttribute("data-series"))!;
    await expect.poll(() => card.getByRole("status").textContent()).toBe("No feedback yet");
    await card.getByRole("button", { name: "Not relevant" }).click();
    await expect.poll(() => card.getByRole("status").textContent()).toBe("Recorded: not relevant (not an anomaly)");
    expect(await card.getByRole("button", { name: "Not relevant" }).getAttribute("aria-pressed")).toBe("true");

    const kept = await sdk().send(new GetFeedbackCommand({ AnomalyDetectorArn: top.AnomalyDetectorArn, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: top.AnomalyGroupId, TimeSeriesId: seriesId } }));
    expect(kept.AnomalyGroupTimeSeriesFeedback).toEqual([expect.objectContaining({ TimeSeriesId: seriesId, IsAnomaly: false })]);
    await page.reload();
    await expect.poll(() => page.locator(`li.series[data-series="${seriesId}"]`).getByRole("status").textContent()).toBe("Recorded: not relevant (not an anomaly)");
    await page.close();
  });

  it("keeps another tenant's incident unreachable, even by its URL", async () => {
    const theirs = await browser.newContext({ viewport: LAPTOP });
    try {
      const page = await signIn(theirs, OTHER.id, OTHER.secret);
      await page.getByText("No detector yet").waitFor();
      await page.goto(incidentUrl(mostSevere()));
      const alert = page.getByRole("alert");
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(/^ResourceNotFoundException: No anomaly detector /);
      expect(await page.locator("canvas").count()).toBe(0);
      expect(await page.locator("li.series").count()).toBe(0);
    } finally {
      await theirs.close();
    }
  });

  it("shows a detector: its executions, data quality with the demo's rejected rows, configuration and alert", async () => {
    const page = await mine.newPage();
    await page.goto(`${url}/console/detector?arn=${encodeURIComponent(mostSevere().AnomalyDetectorArn)}`);
    await page.getByRole("heading", { level: 1, name: "Detector shop" }).waitFor();
    expect(await page.getByText("72 intervals run, 0 failed.").count()).toBe(1);
    expect(await page.getByText(`${report.rowsRejected} rows could not be used`, { exact: false }).count()).toBe(1);
    expect(await page.locator("dl.config").textContent()).toContain("views (SUM), revenue (SUM)");
    expect(await page.getByRole("cell", { name: "shop-severe" }).count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it("reads on a phone: no sideways scrolling, and no serious accessibility violation", async () => {
    const top = mostSevere();
    const page = await mine.newPage();
    await page.setViewportSize(PHONE);
    const found: Record<string, Violation[]> = {};
    for (const [name, address, ready] of [
      ["incidents", `${url}/console/`, "ol.incidents > li"],
      ["incident", incidentUrl(top), ".chart canvas"],
      ["detector", `${url}/console/detector?arn=${encodeURIComponent(top.AnomalyDetectorArn)}`, "section[aria-labelledby=quality] tbody tr"],
    ] as const) {
      await page.goto(address);
      await page.locator(ready).first().waitFor();
      expect(await noSidewaysScroll(page), `${name} at phone width`).toBe(true);
      found[name] = await seriousViolations(page);
    }
    expect(found).toEqual({ incidents: [], incident: [], detector: [] });
    await page.close();
  });

  it("tells a bad key pair plainly, and signs out (on a phone)", async () => {
    const context = await browser.newContext({ viewport: PHONE });
    try {
      const page = await context.newPage();
      await page.goto(`${url}/console/`);
      await page.getByRole("button", { name: "Sign in" }).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByLabel("Access key ID").fill(DEFAULT_ACCESS_KEY_ID);
      await page.getByLabel("Secret access key").fill("not-the-secret");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").waitFor();
      expect(await page.getByRole("alert").textContent()).toBe("The access key ID and secret access key do not match any tenant's: check both and try again");
      expect(await context.cookies()).toEqual([]);

      await page.getByLabel("Secret access key").fill(DEFAULT_SECRET_ACCESS_KEY);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { level: 1, name: "Incidents" }).waitFor();
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { level: 1, name: "Sign in to Vigil" }).waitFor();
      expect(await context.cookies()).toEqual([]);
      await page.reload();
      await page.getByRole("heading", { level: 1, name: "Sign in to Vigil" }).waitFor();
    } finally {
      await context.close();
    }
  });
});
