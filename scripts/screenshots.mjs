// `npm run screenshots`: the console's pages at laptop and phone width, from the demo, into
// docs/console/ (the README shows them). Runs `vigil demo --console` as a user would (its
// webhook alert pointed at a local receiver that refuses, so a delivery is parked), makes a
// trial detector over the demo's history and back-tests it, then drives Debian's Chromium
// through each page. Needs `npm run build` first and /usr/bin/chromium.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { BackTestAnomalyDetectorCommand, CreateAnomalyDetectorCommand, DescribeAnomalyDetectorCommand, CreateMetricSetCommand, DescribeMetricSetCommand, ListAnomalyDetectorsCommand, ListAnomalyGroupSummariesCommand, ListMetricSetsCommand, LookoutMetricsClient } from "@aws-sdk/client-lookoutmetrics";
import { chromium } from "playwright-core";

const OUT = "docs/console";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const KEY = { accessKeyId: "VIGILLOCALKEY", secretAccessKey: "vigil-local-secret" };
const WIDTHS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };
/** Long pages are cut here: the top of a page is what a screenshot is for. */
const MAX_HEIGHT = { desktop: 3000, phone: 2600 };

// Relative, so the pages show no path of this machine.
const dir = join("vigil-data", "screenshots");
await rm(dir, { recursive: true, force: true });
const refusing = createServer((req, res) => req.resume().on("end", () => res.writeHead(410).end("gone")));
await new Promise((r) => refusing.listen(0, "127.0.0.1", r));
const hook = `http://127.0.0.1:${refusing.address().port}/hook`;

// At real-time speed the demo's live mode adds no hour while the pages are shot.
const demo = spawn(process.execPath, ["bin/vigil.mjs", "demo", "--console", "--port", "0", "--rate", "1", "--data-dir", dir, "--webhook", hook], { stdio: ["ignore", "pipe", "inherit"] });
let printed = "";
const url = await new Promise((resolve, reject) => {
  demo.stdout.on("data", (c) => {
    printed += c.toString();
    const m = /The console: (http:\/\/\S+)\/console/.exec(printed);
    if (m) resolve(m[1]);
  });
  demo.once("exit", (code) => reject(new Error(`vigil demo exited (${code}):\n${printed}`)));
});

let browser;
try {
  const sdk = new LookoutMetricsClient({ endpoint: url, region: "us-east-1", credentials: KEY });
  const [shop] = (await sdk.send(new ListAnomalyDetectorsCommand({}))).AnomalyDetectorSummaryList;
  const [shopSet] = (await sdk.send(new ListMetricSetsCommand({ AnomalyDetectorArn: shop.AnomalyDetectorArn }))).MetricSetSummaryList;
  const described = await sdk.send(new DescribeMetricSetCommand({ MetricSetArn: shopSet.MetricSetArn }));
  // A configuration tried on the demo's history before it goes live.
  const trial = await sdk.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "shop-trial", AnomalyDetectorDescription: "The shop's measures, tried on history first", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } }));
  const { MetricSetArn: _, AnomalyDetectorArn: __, CreationTime: ___, LastModificationTime: ____, $metadata, ...config } = described;
  await sdk.send(new CreateMetricSetCommand({ ...config, AnomalyDetectorArn: trial.AnomalyDetectorArn, MetricSetName: "orders-trial", MetricSource: { S3SourceConfig: { ...config.MetricSource.S3SourceConfig, TemplatedPathList: undefined } } }));
  await sdk.send(new BackTestAnomalyDetectorCommand({ AnomalyDetectorArn: trial.AnomalyDetectorArn }));
  // The service loop runs it apart from the request.
  for (let status = ""; status !== "BACK_TEST_COMPLETE"; await new Promise((r) => setTimeout(r, 500))) {
    status = (await sdk.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn: trial.AnomalyDetectorArn }))).Status;
    if (status === "FAILED") throw new Error("the trial's back-test failed");
  }
  const groups = (await sdk.send(new ListAnomalyGroupSummariesCommand({ AnomalyDetectorArn: shop.AnomalyDetectorArn, SensitivityThreshold: 0 }))).AnomalyGroupSummaryList;
  const worst = groups[0];

  await mkdir(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"] });
  for (const [name, viewport] of Object.entries(WIDTHS)) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, reducedMotion: "reduce" });
    const page = await context.newPage();
    const shot = async (file) => {
      await page.evaluate(() => document.fonts.ready.then(() => window.scrollTo(0, 0)));
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      await page.screenshot({ path: join(OUT, `${file}-${name}.png`), fullPage: true, clip: { x: 0, y: 0, width: viewport.width, height: Math.min(height, MAX_HEIGHT[name]) } });
    };
    await page.goto(`${url}/console/`);
    await page.getByLabel("Access key ID").fill(KEY.accessKeyId);
    await shot("sign-in");
    await page.getByLabel("Secret access key").fill(KEY.secretAccessKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("ol.incidents > li").first().waitFor();
    await shot("incidents");

    await page.goto(`${url}/console/incident?${new URLSearchParams({ detector: shop.AnomalyDetectorArn, group: worst.AnomalyGroupId })}`);
    await page.locator(".series .chart canvas").first().waitFor();
    if (name === "desktop") {
      await page.locator(".series").first().getByRole("button", { name: "Not relevant" }).click();
      await page.locator(".series .effect").first().waitFor();
    }
    await shot("incident");

    await page.locator(".series-links a").first().click();
    await page.locator(".chart canvas").first().waitFor();
    await page.getByRole("button", { name: "Explain" }).click();
    await page.locator(".explanation").waitFor();
    await shot("series");

    await page.goto(`${url}/console/detector?${new URLSearchParams({ arn: shop.AnomalyDetectorArn })}`);
    await page.getByRole("heading", { name: "Silences" }).waitFor();
    if (name === "desktop") {
      await page.getByLabel("Reason").fill("Planned catalogue migration in de");
      await page.locator("#new-silence-dimension").selectOption("marketplace");
      await page.getByLabel("Dimension value").fill("de");
      await page.getByRole("button", { name: "Create silence" }).click();
      await page.getByText("Silence created").waitFor();
    }
    await shot("detector");

    await page.goto(`${url}/console/detector?${new URLSearchParams({ arn: trial.AnomalyDetectorArn })}`);
    await page.locator(".peak-chart canvas").waitFor();
    await page.locator("section:has(#backtest)").screenshot({ path: join(OUT, `backtest-${name}.png`) });

    await page.goto(`${url}/console/deliveries`);
    await page.locator("table").first().waitFor();
    await shot("deliveries");
    await context.close();
  }
  console.log(`Screenshots written to ${OUT}/`);
} finally {
  await browser?.close();
  demo.kill();
  refusing.close();
  await rm(dir, { recursive: true, force: true });
}
