import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetFeedbackCommand, LookoutMetricsClient } from "@aws-sdk/client-lookoutmetrics";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_LIVE_START, runDemo, type DemoReport } from "../../cli/demo.ts";
import { DEFAULT_ACCESS_KEY_ID, serve, tenantsFromConfig } from "../../cli/serve.ts";
import { POLL_MS } from "../../console/app/incidents.ts";
import { backTestReports, runBackTests, createDetector, createMetricSet, describeMetricSet, detectDue, findSilences, groupTimeSeries, listAlerts, listDeliveries, listMetricSets, OPERATOR, type Services } from "../../shared/app/index.ts";
import { primaryImpact } from "../../shared/incidents/contribution.ts";
import { groupIdOf, seriesPeakOf } from "../../shared/incidents/grouping.ts";
import { groupKey } from "../../shared/app/detect.ts";
import { GROUP_WINDOW_INTERVALS } from "../../shared/app/groups.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { HttpReceiver } from "../receivers/http-receiver.ts";
import { MIN_ANOMALY_SCORE } from "../../shared/detect/score-interval.ts";

/**
 * The console in a real browser (Debian's Chromium, headless) against `vigil serve` over the
 * demo's data: what a person does, checked by what the page draws and what the server keeps.
 */
const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const OTHER = { id: "OTHERKEY", secret: "other-secret" };
/** The default tenant's secret: the public default is refused beside other tenants. */
const OWN_SECRET = "the-operator-own-secret";
const HOUR = 3_600_000;
/** The colours console/app/components/chart.tsx draws with. */
const ACTUAL = [0x1d, 0x4e, 0xd8];
const ONSET = [0xb9, 0x1c, 0x1c];
/** The band's fill, rgba(37, 99, 235, 0.16): the canvas keeps it unblended (the page behind is white). */
const BAND = [37, 99, 235];
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
  /** Per canvas column: how many pixels are in the band's colour. */
  readonly bandCount: number[];
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
      const bandCount: number[] = new Array(canvas.width).fill(0);
      const close = (i: number, c: number[]) => data[i + 3]! > 25 && data[i + 3]! < 60 && Math.abs(data[i]! - c[0]!) + Math.abs(data[i + 1]! - c[1]!) + Math.abs(data[i + 2]! - c[2]!) < 12;
      for (let y = 0; y < canvas.height; y++) {
        for (let x = 0; x < canvas.width; x++) {
          const i = (y * canvas.width + x) * 4;
          if (actualTop[x] === -1 && near(i, colours.actual)) actualTop[x] = y;
          if (near(i, colours.onset)) onsetCount[x]!++;
          if (close(i, colours.band)) bandCount[x]!++;
        }
      }
      const plot = { left: over.offsetLeft * ratio, top: over.offsetTop * ratio, width: over.offsetWidth * ratio, height: over.offsetHeight * ratio };
      return { ratio, plot, actualTop, onsetCount, bandCount };
    },
    { actual: ACTUAL, onset: ONSET, band: BAND },
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
  let services: Services;
  let receiver: HttpReceiver;
  /** A detector over the demo's history, not live: for the back-test. */
  let trial: string;
  const sdk = () => new LookoutMetricsClient({ endpoint: url, region: "us-east-1", credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: OWN_SECRET }, maxAttempts: 1 });

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
    // The demo's webhook alert goes to a receiver that refuses (410), so its deliveries are parked.
    receiver = await HttpReceiver.start();
    receiver.answer(...Array.from({ length: 200 }, () => ({ status: 410 })));
    report = await runDemo(dir, () => {}, { webhook: `${receiver.url}/hook` });
    // Served as the demo's live mode serves it: the store's clock where the demo stopped (it
    // judges the records' expiry), the real one for sessions, signatures and links.
    const tenants = await tenantsFromConfig({ dataDir: report.dataDir, secretAccessKey: OWN_SECRET, tenants: [{ name: "other", accessKeyId: OTHER.id, secretAccessKey: OTHER.secret }] });
    services = localServices(report.dataDir, { clock: () => DEMO_LIVE_START + 72 * HOUR, linkClock: Date.now, dataRootsOf: tenants.dataRootsOf });
    const shop = await describeMetricSet(services, OPERATOR, report.groups[0]!.group.MetricSetArn);
    const created = await createDetector(services, OPERATOR, { AnomalyDetectorName: "shop-trial", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const { MetricSetArn: _, AnomalyDetectorArn: __, CreationTime: ___, LastModificationTime: ____, Tags: _____, ...config } = shop as typeof shop & { Tags?: unknown };
    await createMetricSet(services, OPERATOR, { ...config, AnomalyDetectorArn: created.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { ...config.MetricSource.S3SourceConfig, TemplatedPathList: undefined } } });
    trial = created.AnomalyDetectorArn;
    ({ server, url } = await serve({ port: 0, services, tenants }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    mine = await browser.newContext({ viewport: LAPTOP });
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.stop();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await rm(dir, { recursive: true, force: true });
  });

  it("signs in, lists the incidents most severe first, and draws the most severe one's chart", async () => {
    const page = await signIn(mine, DEFAULT_ACCESS_KEY_ID, OWN_SECRET);
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

    // The expected band: the chart holds the band detection kept (as the operation answers it),
    // and draws it, shaded, across the intervals before the onset; the spike is far above it.
    const kept = await groupTimeSeries(services, OPERATOR, { AnomalyDetectorArn: top.AnomalyDetectorArn, AnomalyGroupId: top.AnomalyGroupId, MetricName: primaryImpact(top).measure }, (ids) => ids.filter((i) => i === seriesId));
    const band = kept.series[0]!.band;
    const chartData = (await page.locator(`[data-series="${seriesId}"] .chart`).evaluate((el) => (el as unknown as { uplotData: (number | null)[][] }).uplotData)) as (number | null)[][];
    const near = (drawn: (number | null)[], want: (number | undefined)[]) => drawn.every((x, i) => (want[i] === undefined ? x === null : x !== null && Math.abs(x - want[i]!) <= 1e-6 * Math.abs(want[i]!) + 1e-6));
    expect(band.every((p) => p !== undefined)).toBe(true);
    expect(near(chartData[2]!, band.map((p) => p?.expected))).toBe(true);
    expect(near(chartData[3]!, band.map((p) => p?.lower))).toBe(true);
    expect(near(chartData[4]!, band.map((p) => p?.upper))).toBe(true);
    const shaded = px.bandCount.slice(px.plot.left, Math.floor(onsetX - intervalPx)).filter((n) => n > 2).length;
    expect(shaded / (onsetX - intervalPx - px.plot.left)).toBeGreaterThan(0.8);
    const spikeAt = kept.starts.indexOf(top.startMs);
    expect(kept.series[0]!.values[spikeAt]!).toBeGreaterThan(band[spikeAt]!.upper);
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it("opens an incident by its address with its data asked for before the console runs, and from a link on another site too", async () => {
    const top = mostSevere();
    const page = await mine.newPage();
    const asked: string[] = [];
    page.on("request", (r) => asked.push(new URL(r.url()).pathname));
    await page.goto(incidentUrl(top));
    await page.locator("li.series .chart canvas").first().waitFor();
    // The page came with its session, and the early script asked for the incident before the
    // console itself ran; the console took that answer instead of asking again.
    expect(asked.filter((p) => p === "/console/session" || p === "/console/config.json")).toEqual([]);
    expect(asked.filter((p) => p === "/console/api/GetAnomalyGroup")).toHaveLength(1);
    const [askedAt, consoleAt] = (await page.evaluate(`[performance.getEntriesByType("resource").find((e) => e.name.endsWith("/console/api/GetAnomalyGroup")).startTime, performance.getEntriesByName("vigil:console")[0].startTime]`)) as [number, number];
    expect(askedAt).toBeLessThan(consoleAt);

    // Followed from another site (a chat, a ticket): the SameSite=Strict cookie is not sent with
    // that navigation, so the page comes without the session; the console asks for it itself.
    await page.route("http://chat.example/", (r) => r.fulfill({ contentType: "text/html", body: `<a href="${incidentUrl(top)}">the incident</a>` }));
    await page.goto("http://chat.example/");
    await page.getByRole("link", { name: "the incident" }).click();
    await page.locator("li.series .chart canvas").first().waitFor();
    expect(await page.getByRole("button", { name: "Sign in" }).count()).toBe(0);
    expect((await mine.cookies()).filter((c) => c.name === "vigil_session")).toHaveLength(1);
    await page.close();
  });

  it("marks a series not relevant: PutFeedback records it, and the page shows what GetFeedback answers and the tolerance it sets", async () => {
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
    // Its effect: the tolerance on the side judged, widened, as the server reckons the engine will set it.
    const { Tolerance } = kept.AnomalyGroupTimeSeriesFeedback![0] as { Tolerance: { Side: string; Before: number; After: number } };
    expect(Tolerance.After).toBeGreaterThan(Tolerance.Before);
    const fmt = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: 2 });
    expect(await card.locator(".effect").textContent()).toContain(`Tolerance ${Tolerance.Side === "ABOVE" ? "above" : "below"} expected: ${fmt(Tolerance.Before)} × → ${fmt(Tolerance.After)} ×`);
    await page.reload();
    await expect.poll(() => page.locator(`li.series[data-series="${seriesId}"]`).getByRole("status").textContent()).toBe("Recorded: not relevant (not an anomaly)");
    expect(await page.locator(`li.series[data-series="${seriesId}"] .effect`).textContent()).toContain(`${fmt(Tolerance.After)} ×`);
    await page.close();
  });

  it("shows the alerts sent for an incident and to whom, and a series' history with why it was (not) alerted", async () => {
    const top = mostSevere();
    const page = await mine.newPage();
    await page.goto(incidentUrl(top));
    const told = page.getByRole("region", { name: "Alerts sent for this incident, newest first" });
    await told.waitFor();
    const sent = await listDeliveries(services, OPERATOR, { AnomalyGroupId: top.AnomalyGroupId });
    expect(sent.length).toBeGreaterThan(0);
    expect(await told.locator("tbody tr").count()).toBe(sent.length);
    expect(await told.textContent()).toContain(`WEBHOOK ${receiver.url}/hook`);
    expect(await told.textContent()).toContain("parked, 1 attempt: HTTP 410");

    await page.locator("li.series").first().getByRole("link", { name: /why was I not alerted/ }).click();
    await page.getByRole("heading", { level: 2, name: "Why was I not alerted?" }).waitFor();
    await page.locator(".band-chart canvas").waitFor();
    const drawn = (await page.locator(".band-chart").evaluate((el) => (el as unknown as { uplotData: (number | null)[][] }).uplotData)) as (number | null)[][];
    expect(drawn[1]!.filter((v) => v !== null).length).toBeGreaterThan(48); // days of values around the incident
    expect(drawn[2]!.filter((v) => v !== null).length).toBeGreaterThan(48); // each with its expected value
    // The time asked is the incident's start: both alerts told of it, the webhook's message parked.
    await page.getByRole("button", { name: "Explain" }).click();
    const why = page.locator(".explanation");
    await why.waitFor();
    const text = await why.textContent();
    expect(text).toContain("an anomaly.");
    expect(text).toMatch(/shop-severe70Alerted \(first\): the message was sent\./);
    expect(text).toMatch(/shop-severe-webhook70Alerted \(first\): the message was parked after failing/);
    // An hour before, the series was quiet: no alert could go out.
    await page.getByLabel("Time (UTC)").fill(new Date(top.startMs - 5 * HOUR).toISOString().slice(0, 16));
    await page.getByRole("button", { name: "Explain" }).click();
    await expect.poll(() => why.textContent()).toMatch(new RegExp(`scored below ${MIN_ANOMALY_SCORE}: not an anomaly\\..*Not alerted: the series was not anomalous then \\(it scored below ${MIN_ANOMALY_SCORE}\\)`));
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it("creates, edits and expires a silence on the detector's page, and downloads an interval's rejected rows", async () => {
    const arn = mostSevere().AnomalyDetectorArn;
    const page = await mine.newPage();
    await page.goto(`${url}/console/detector?arn=${encodeURIComponent(arn)}`);
    await page.getByRole("heading", { level: 2, name: "Silences" }).waitFor();
    await page.getByText("No silence.").waitFor();
    await page.locator("#new-silence-reason").fill("Catalogue migration in de");
    await page.locator("#new-silence-dimension").selectOption("marketplace");
    await page.locator("#new-silence-value").fill("de");
    await page.getByRole("button", { name: "Create silence" }).click();
    const table = page.getByRole("region", { name: "Silences, latest ending first" });
    await table.waitFor();
    expect(await table.locator("tbody tr").first().locator("td").nth(1).textContent()).toBe("marketplace=de");
    expect(await table.locator("tbody tr").first().locator("td").nth(4).textContent()).toBe("in force");
    const [made] = await findSilences(services, OPERATOR, { AnomalyDetectorArn: arn, Active: true });
    expect(made).toMatchObject({ AnomalyDetectorArn: arn, Reason: "Catalogue migration in de", DimensionValues: [{ DimensionName: "marketplace", DimensionValue: "de" }] });

    await page.getByRole("button", { name: "Edit the silence “Catalogue migration in de”" }).click();
    await page.locator(`#edit-${made!.SilenceId.slice(0, 8)}-reason`).fill("Catalogue migration in de, day two");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Silence saved: “Catalogue migration in de, day two”").waitFor();
    expect((await findSilences(services, OPERATOR, { Active: true }))[0]!.Reason).toBe("Catalogue migration in de, day two");

    await page.getByRole("button", { name: "Expire the silence “Catalogue migration in de, day two”" }).click();
    await page.getByText("Silence “Catalogue migration in de, day two” expired.").waitFor();
    await expect.poll(() => table.locator("tbody tr").first().textContent()).toContain("ended");
    expect(await findSilences(services, OPERATOR, { Active: true })).toEqual([]);
    expect(Date.parse((await findSilences(services, OPERATOR, { Active: false }))[0]!.EndsAt)).toBeLessThanOrEqual(Date.now());

    // The demo's bad rows, downloaded with their reasons from the interval that kept them.
    const quality = page.getByRole("region", { name: "Data quality per interval, newest first" });
    // The history the detector learned, apart from the intervals: the demo's four weeks, none of them kept aside.
    expect(await page.getByText(/^History of orders, read /).textContent()).toMatch(/: [\d,]+ rows in 28 files, 672 intervals to learn; 0 rows could not be used, 0 partial\. $/);
    await page.getByRole("button", { name: "Show all 72" }).last().click();
    const row = quality.locator("tbody tr", { has: page.getByRole("button", { name: /Download/ }) }).first();
    const saving = page.waitForEvent("download");
    await row.getByRole("button", { name: /Download/ }).click();
    const file = await readFile((await (await saving).path())!, "utf8");
    const lines = file.trim().split("\n");
    expect(lines[0]).toBe("file,line,reason,detail,partial,row");
    expect(lines.length - 1).toBe(Number((await row.locator("td").nth(3).textContent())!) + Number((await row.locator("td").nth(2).textContent())!));
    expect(lines.slice(1).every((l) => /,(MISSING_DIMENSION_VALUE|NON_NUMERIC_MEASURE),/.test(l))).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it("replays a parked delivery from the deliveries page once the channel takes it", async () => {
    const page = await mine.newPage();
    await page.goto(`${url}/console/deliveries?status=PARKED`);
    const table = page.getByRole("region", { name: "Deliveries, newest first" });
    await table.waitFor();
    const parked = await listDeliveries(services, OPERATOR, { Status: "PARKED" });
    expect(parked.length).toBeGreaterThan(1);
    expect(await table.locator("tbody tr").count()).toBe(parked.length);
    expect(await seriousViolations(page)).toEqual([]);
    receiver.reset();
    const before = receiver.requests.length;
    await page.getByRole("button", { name: `Replay ${parked[0]!.DeliveryId}` }).click();
    await page.getByText(`Replayed: 1 sent, ${parked.length - 1} still parked.`).waitFor();
    expect(receiver.requests.length).toBe(before + 1);
    expect(JSON.parse(receiver.requests.at(-1)!.body)).toMatchObject({ anomalyGroup: { id: parked[0]!.AnomalyGroupId } });
    await expect.poll(() => table.locator("tbody tr").count()).toBe(parked.length - 1);
    expect((await listDeliveries(services, OPERATOR, {})).find((d) => d.DeliveryId === parked[0]!.DeliveryId)).toMatchObject({ Status: "SENT", Attempts: 2 });
    await page.close();
  });

  it("runs a back-test before a detector goes live, and counts its incidents a week at the severity chosen", async () => {
    const page = await mine.newPage();
    await page.goto(`${url}/console/detector?arn=${encodeURIComponent(trial)}`);
    await page.getByText("No back-test yet.").waitFor();
    await page.getByRole("button", { name: "Run back-test" }).click();
    // It runs apart from the request, as the service loop runs it; the page asks until it is done.
    await page.getByRole("button", { name: "Running the back-test…" }).waitFor();
    expect(await runBackTests(services)).toBe(1);
    await page.locator(".peak-chart canvas").waitFor();
    const [{ report: kept, groups }] = (await backTestReports(services, OPERATOR, trial)) as [Awaited<ReturnType<typeof backTestReports>>[number]];
    const weeks = (kept.to - kept.from) / (7 * 24 * HOUR);
    const rate = page.locator(".rate");
    const expected = (t: number) => {
      const n = groups.filter((g) => g.AnomalyGroupScore >= t).length;
      return `(${n} of the ${groups.length} incidents it would have raised)`;
    };
    expect(await rate.textContent()).toContain(`at severity ≥ 70 ${expected(70)}`);
    // The slider, by keyboard: all the way down, then up.
    const slider = page.getByLabel(/Least severity/);
    await slider.focus();
    await slider.press("Home");
    await expect.poll(() => rate.textContent()).toContain(`at severity ≥ 0 ${expected(0)}`);
    expect(await rate.textContent()).toContain(`${(groups.length / weeks).toFixed(1)} incidents a week`);
    const drawn = (await page.locator(".peak-chart").evaluate((el) => (el as unknown as { uplotData: number[][] }).uplotData)) as number[][];
    expect(drawn[1]).toEqual(kept.peaks.map(([, score]) => score));
    await slider.press("End");
    await expect.poll(() => rate.textContent()).toContain(`at severity ≥ 100 ${expected(100)}`);
    // Its groups stay apart from the live incidents.
    await page.goto(`${url}/console/`);
    await page.locator("ol.incidents > li").first().waitFor();
    expect(await page.locator("ol.incidents > li").count()).toBe(report.groups.length);
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it("creates, edits and deletes an alert on the detector's page; its secret and headers are kept and never shown", async () => {
    const page = await mine.newPage();
    await page.goto(`${url}/console/detector?arn=${encodeURIComponent(trial)}`);
    await page.getByRole("heading", { level: 2, name: "Alerts" }).waitFor();
    await page.getByText("No alert: incidents are recorded but nobody is told.").waitFor();
    const [metricSet] = await listMetricSets(services, OPERATOR, trial);
    const measure = metricSet!.MetricList[0]!.MetricName;
    const secret = "whsec-console-7f3a9c";
    const form = page.getByRole("form", { name: "New alert" });
    await page.locator("#new-alert-name").fill("ops-hook");
    await page.locator("#new-alert-threshold").fill("80");
    await page.locator("#new-alert-target").fill(`${receiver.url}/ops`);
    await page.locator("#new-alert-secret").fill(secret);
    await page.locator("#new-alert-headers").fill("Authorization: Bearer ops-token-1\nX-Team: ops");
    await form.getByRole("checkbox", { name: measure }).check();
    await page.locator("#new-alert-dimension").selectOption("marketplace");
    await page.locator("#new-alert-values").fill("de, fr");
    await page.getByRole("button", { name: "Create alert" }).click();
    await page.getByText("Alert ops-hook created: incidents of severity 80 and above go to Webhook.").waitFor();
    const row = page.getByRole("region", { name: "Alerts" }).locator("tbody tr", { hasText: "ops-hook" });
    await row.waitFor();
    expect(await row.locator("td").allTextContents()).toEqual(["ops-hook", `Webhook: ${receiver.url}/ops`, "80", `measure ${measure}; marketplace de or fr`, "ACTIVE", "Edit Delete"]);
    const [made] = await listAlerts(services, OPERATOR, trial);
    expect(made).toMatchObject({ AlertName: "ops-hook", AlertSensitivityThreshold: 80, Action: { WebhookConfiguration: { Url: `${receiver.url}/ops`, Secret: secret, Headers: { Authorization: "Bearer ops-token-1", "X-Team": "ops" } } }, AlertFilters: { MetricList: [measure], DimensionFilterList: [{ DimensionName: "marketplace", DimensionValueList: ["de", "fr"] }] } });

    // The same name again: the server's ConflictException, told as it said it.
    await page.locator("#new-alert-name").fill("ops-hook");
    await page.getByRole("button", { name: "Create alert" }).click();
    await form.getByRole("alert").getByText("ConflictException").waitFor();

    // Edited without touching where it sends: the secret stays as it was; the measure filter is cleared.
    await page.getByRole("button", { name: "Edit the alert ops-hook" }).click();
    const edit = page.getByRole("form", { name: "Edit the alert ops-hook" });
    expect(await edit.locator("#edit-ops-hook-target").count()).toBe(0);
    await page.locator("#edit-ops-hook-threshold").fill("60");
    await edit.getByRole("checkbox", { name: measure }).uncheck();
    await page.locator("#edit-ops-hook-values").fill("de");
    await edit.getByRole("button", { name: "Save" }).click();
    await page.getByText("Alert ops-hook saved.").waitFor();
    await expect.poll(async () => (await row.locator("td").allTextContents()).slice(2, 4)).toEqual(["60", "marketplace de"]);
    const [edited] = await listAlerts(services, OPERATOR, trial);
    expect(edited).toMatchObject({ AlertSensitivityThreshold: 60, Action: { WebhookConfiguration: { Secret: secret, Headers: { Authorization: "Bearer ops-token-1", "X-Team": "ops" } } }, AlertFilters: { DimensionFilterList: [{ DimensionName: "marketplace", DimensionValueList: ["de"] }] } });
    expect(edited!.AlertFilters!.MetricList).toBeUndefined();
    expect(await page.content()).not.toContain(secret);
    expect(await page.content()).not.toContain("ops-token-1");
    expect(await seriousViolations(page)).toEqual([]);

    // Deleted after a second, explicit click.
    await page.getByRole("button", { name: "Delete the alert ops-hook" }).click();
    await page.getByRole("button", { name: "Delete ops-hook" }).click();
    await page.getByText("Alert ops-hook deleted.").waitFor();
    await page.getByText("No alert: incidents are recorded but nobody is told.").waitFor();
    expect(await listAlerts(services, OPERATOR, trial)).toEqual([]);
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
    // The alerts are listed apart from the detector (each one described): wait for them, then count.
    await page.getByRole("cell", { name: "shop-severe", exact: true }).first().waitFor();
    expect(await page.getByRole("cell", { name: "shop-severe", exact: true }).count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it("reads on a phone: no sideways scrolling, and no serious accessibility violation on any page", async () => {
    const top = mostSevere();
    const [seriesId] = Object.keys(primaryImpact(top).series);
    const page = await mine.newPage();
    await page.setViewportSize(PHONE);
    const found: Record<string, Violation[]> = {};
    for (const [name, address, ready] of [
      ["incidents", `${url}/console/`, "ol.incidents > li"],
      ["incident", incidentUrl(top), ".chart canvas"],
      ["series", `${url}/console/series?${new URLSearchParams({ detector: top.AnomalyDetectorArn, id: seriesId!, at: new Date(top.startMs).toISOString() })}`, ".score-chart canvas"],
      ["detector", `${url}/console/detector?arn=${encodeURIComponent(top.AnomalyDetectorArn)}`, "section[aria-labelledby=quality] tbody tr"],
      ["back-test", `${url}/console/detector?arn=${encodeURIComponent(trial)}`, ".peak-chart canvas"],
      ["deliveries", `${url}/console/deliveries`, "table tbody tr"],
      ["detectors", `${url}/console/detectors`, "ul.detectors li"],
    ] as const) {
      await page.goto(address);
      await page.locator(ready).first().waitFor();
      if (name === "series") {
        await page.getByRole("button", { name: "Explain" }).click();
        await page.locator(".explanation").waitFor();
      }
      expect(await noSidewaysScroll(page), `${name} at phone width`).toBe(true);
      found[name] = await seriousViolations(page);
    }
    expect(found).toEqual({ incidents: [], incident: [], series: [], detector: [], "back-test": [], deliveries: [], detectors: [] });
    await page.close();
  });

  it("shows a new incident without a reload: the list asks for new groups while it is open", async () => {
    const page = await mine.newPage();
    await page.clock.install();
    await page.goto(`${url}/console/`);
    const items = page.locator("ol.incidents > li");
    await items.first().waitFor();
    const shown = await items.count();
    // One more live hour, with a surge in one series: detection finds a new group.
    const files = join(report.dataDir, "files", "live");
    const day = new Date(DEMO_LIVE_START + 71 * HOUR);
    const last = join(files, day.toISOString().slice(0, 10).replaceAll("-", ""), "2300");
    const csv = await readFile(join(last, (await readdir(last))[0]!), "utf8");
    const next = new Date(DEMO_LIVE_START + 72 * HOUR);
    const stamp = (d: Date) => d.toISOString().slice(0, 19).replace("T", " ");
    const rows = csv.trim().split("\n");
    const surged = [rows[0], ...rows.slice(1).map((r, i) => {
      const cells = r.replace(stamp(day), stamp(next)).split(",");
      return i === 0 ? [...cells.slice(0, 3), String(Number(cells[3]) * 12), ...cells.slice(4)].join(",") : cells.join(",");
    })].join("\n");
    await services.blobs.put(join(files, next.toISOString().slice(0, 10).replaceAll("-", ""), "0000", "surge.csv"), `${surged}\n`);
    const found = (await detectDue(services, DEMO_LIVE_START + 73 * HOUR)).flatMap((r) => (r.outcome.kind === "processed" && r.outcome.group ? [r.outcome.group] : []));
    expect(found).toHaveLength(1);
    expect(await items.count()).toBe(shown);
    await page.clock.runFor(POLL_MS + 1000);
    await page.locator("li.incident.fresh").waitFor();
    expect(await items.count()).toBe(shown + 1);
    expect(await page.locator("li.incident.fresh .new-badge").textContent()).toBe("New");
    expect(await page.locator("li.incident.fresh a").getAttribute("href")).toContain(found[0]!.AnomalyGroupId);
    await page.close();
  });

  it("draws a long incident's newest intervals and says so, and judges a verdict on it by the deviation the group kept", async () => {
    // The most severe incident, as if it had gone on for 400 hours: longer than a chart shows.
    const top = mostSevere();
    const startMs = top.endMs - 400 * HOUR;
    const long = { ...structuredClone(top), AnomalyGroupId: groupIdOf(top.MetricSetArn, startMs), startMs };
    await services.records.put("groups", groupKey(top, long.AnomalyGroupId), long);
    const page = await mine.newPage();
    await page.goto(incidentUrl(long));
    const card = page.locator("li.series").first();
    const seriesId = (await card.getAttribute("data-series"))!;
    const px = await chartPixels(page, seriesId);
    const hint = `The incident is longer than a chart shows: each shows its newest ${GROUP_WINDOW_INTERVALS} intervals`;
    expect(await page.getByText(hint).count()).toBe(Object.keys(long.impacts).length);
    const [times, values] = (await card.locator(".chart").evaluate((el) => (el as unknown as { uplotData: (number | null)[][] }).uplotData)) as [number[], (number | null)[]];
    expect(times).toEqual(Array.from({ length: GROUP_WINDOW_INTERVALS }, (_, i) => (top.endMs - (GROUP_WINDOW_INTERVALS - 1 - i) * HOUR) / 1000));
    // The values the operation answers (the demo kept or has files for its newest days only), drawn where they are; the onset is before the plot, so no line marks it.
    const answered = await groupTimeSeries(services, OPERATOR, { AnomalyDetectorArn: long.AnomalyDetectorArn, AnomalyGroupId: long.AnomalyGroupId, MetricName: primaryImpact(long).measure }, (ids) => ids.filter((i) => i === seriesId));
    expect(values).toEqual(answered.series[0]!.values);
    const known = values.filter((v) => v !== null).length;
    expect(known).toBeGreaterThan(24);
    const lastQuarter = px.actualTop.slice(px.plot.left + 0.75 * px.plot.width, px.plot.left + px.plot.width);
    expect(lastQuarter.filter((y) => y >= 0).length / lastQuarter.length).toBeGreaterThan(0.8);
    expect(Math.max(...px.onsetCount)).toBeLessThan(0.5 * px.plot.height);
    await card.getByText("Values").click();
    await expect.poll(() => card.locator(".values table tbody tr").count()).toBe(GROUP_WINDOW_INTERVALS);
    expect(await card.getByText("(onset)").count()).toBe(0);

    await card.getByRole("button", { name: "Relevant", exact: true }).click();
    await expect.poll(() => card.getByRole("status").textContent()).toBe("Recorded: relevant (an anomaly)");
    const kept = await sdk().send(new GetFeedbackCommand({ AnomalyDetectorArn: long.AnomalyDetectorArn, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: long.AnomalyGroupId, TimeSeriesId: seriesId } }));
    const peak = seriesPeakOf(Object.values(long.impacts).find((i) => i.series[seriesId])!, seriesId)!;
    expect((kept.AnomalyGroupTimeSeriesFeedback![0] as { Deviation: number }).Deviation).toBe(Math.round(peak * 100) / 100);
    expect(await seriousViolations(page)).toEqual([]);
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

      await page.getByLabel("Secret access key").fill(OWN_SECRET);
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
