import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { detectDue, groupRecords, listDetectors, OPERATOR, putFeedback } from "../../shared/app/index.ts";
import { METRIC_SET_FILE_BYTES } from "../../cli/backtest.ts";
import { DEMO_LIVE_START, LIVE_HOURS } from "../../cli/demo.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { csvOf, HOUR, metricSetRequest, shopPoints, sqlTime, T0, tempDir, type ShopPoint } from "../builders.ts";

/** Runs the built CLI as a user would. */
function vigil(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ["bin/vigil.mjs", ...args], { input, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];

describe("vigil demo", () => {
  it("detects every injected incident and names its true cause first", async () => {
    const dir = await tempDir();
    const { code, stdout } = vigil(["demo", "--data-dir", dir]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Found 3 of 3 injected incidents/);
    expect(stdout.match(/— named first/g)).toHaveLength(3);
    expect(stdout).not.toMatch(/NOT named first/);
    expect(stdout).toMatch(/revenue −\d+ % vs expected, 2021-03-01 20:00 UTC for 3 h, severity \d+: marketplace=de 100 %/);
    // Two a day: one not used (no marketplace), one used in part (views 'n/a'); each kept aside.
    expect(stdout).toMatch(/6 bad rows were kept aside with their reasons \(3 not used, 3 used in part\)/);
    // The README shows lines of this run: they must still be what it prints.
    const readme = await readFile("README.md", "utf8");
    const excerpt = readme.slice(readme.indexOf("prints the anomaly groups, most severe first:")).split("```")[1]!.split("\n").filter((l) => l.trim());
    for (const line of excerpt) expect(stdout.split("\n")).toContain(line);
    expect(existsSync(join(dir, "demo", "results", "000000000000", "shop", "orders", "20210301", "0500", "rejects.jsonl"))).toBe(true);
  });

  it("leaves records that `vigil serve` still shows on the real clock: the runs, deliveries and notices of its simulated 2021", async () => {
    const dir = await tempDir();
    expect(vigil(["demo", "--data-dir", dir]).code).toBe(0);
    // What the demo tells its user to do next: serve its data, on the real clock.
    const served = localServices(join(dir, "demo"));
    const executions = await served.records.list<{ Timestamp: string; Status: string }>("executions");
    expect(executions.filter((e) => e.Timestamp.startsWith("2021-03-0") && e.Status === "COMPLETED").length).toBeGreaterThanOrEqual(72);
    expect(await served.records.list("deliveries")).toHaveLength(6);
    expect((await served.records.list("notices")).length).toBeGreaterThanOrEqual(6);
    expect((await served.records.list("notifications")).length).toBeGreaterThan(0);
    // Its detector is left deactivated: the service does not look for the hours since March 2021, each a run FAILED for want of a file.
    expect(await detectDue(served, Date.now())).toEqual([]);

    // Feedback given on the demo's own clock still counts: its model has learned verdicts up to that clock, not up to the real one.
    const onItsClock = localServices(join(dir, "demo"), { clock: () => DEMO_LIVE_START + LIVE_HOURS * HOUR, linkClock: Date.now });
    const [detector] = await listDetectors(onItsClock, OPERATOR);
    // The most severe group's series, each marked "not an anomaly": a series alerted on a lone residual gets a wider tolerance (one alerted on a sustained change may need none).
    const group = (await groupRecords(onItsClock, OPERATOR, detector!.AnomalyDetectorArn)).reduce((a, b) => (b.score > a.score ? b : a));
    const verdicts = [];
    for (const measure of Object.values(group.impacts)) {
      for (const TimeSeriesId of Object.keys(measure.series)) verdicts.push(await putFeedback(onItsClock, OPERATOR, { AnomalyDetectorArn: detector!.AnomalyDetectorArn, AnomalyGroupId: group.AnomalyGroupId, TimeSeriesId, IsAnomaly: false }));
    }
    expect(verdicts.some((v) => v.tolerance!.after > v.tolerance!.before)).toBe(true);
  });
});

describe("vigil demo, what it refuses", () => {
  it("a channel option without its partner, before it writes anything", async () => {
    const dir = await tempDir();
    for (const [args, why] of [
      [["--smtp", "smtp://localhost:2525"], /--smtp goes with --email <address>/],
      [["--email", "oncall@example.com"], /--email needs --smtp <url>/],
      [["--webhook-secret", "s"], /--webhook-secret goes with --webhook <url>/],
    ] as const) {
      const r = vigil(["demo", "--data-dir", dir, ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(existsSync(join(dir, "demo"))).toBe(false);
    }
  });
});

describe("vigil backtest", () => {
  async function fixture(): Promise<{ dir: string; metricSet: string; data: string }> {
    const dir = await tempDir();
    const dip = (p: ShopPoint): ShopPoint => (p.t === T0 + 24 * 15 * HOUR && p.marketplace === "de" ? { ...p, views: Math.round(Number(p.views) * 0.2) } : p);
    await writeFile(join(dir, "data.csv"), csvOf(shopPoints(T0, 24 * 16, SERIES, dip)));
    const { AnomalyDetectorArn: _, ...request } = metricSetRequest({ MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "data.csv")] } } });
    await writeFile(join(dir, "metric-set.json"), JSON.stringify(request));
    return { dir, metricSet: join(dir, "metric-set.json"), data: join(dir, "data.csv") };
  }

  it("writes one JSON line per anomalous series-interval, scoring from --from on", async () => {
    const { dir, metricSet, data } = await fixture();
    const out = join(dir, "anomalies.jsonl");
    const r = vigil(["backtest", "--metric-set", metricSet, "--data", data, "--from", new Date(T0 + 24 * 14 * HOUR).toISOString(), "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/336 intervals learned, 48 scored/);
    const lines = (await readFile(out, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toContainEqual(
      expect.objectContaining({ timestamp: new Date(T0 + 24 * 15 * HOUR).toISOString(), measure: "views", dimensions: { platform: "web", marketplace: "de" }, score: expect.any(Number), expected: expect.any(Number), actual: expect.any(Number), anomalyGroupId: expect.stringMatching(/^[a-z0-9-]{36}$/) }),
    );
    for (const a of lines) expect(Date.parse(a.timestamp)).toBeGreaterThanOrEqual(T0 + 24 * 14 * HOUR);
  });

  it("reads the metric set's own paths when --data is left out, and prints to stdout", async () => {
    const { metricSet } = await fixture();
    const r = vigil(["backtest", "--metric-set", metricSet, "--from", new Date(T0 + 24 * 14 * HOUR).toISOString()]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n").length).toBeGreaterThan(0);
  });

  it("writes the C1 control characters of a dimension value to stdout as JSON escapes: valid JSON, the same value, no terminal control", async () => {
    const dir = await tempDir();
    // U+009B is the one-character CSI: "\u009b2J" clears a terminal that takes C1 controls; JSON.stringify escapes C0 controls, not these.
    const market = "de\u009b2J\u0085";
    const dip = (p: ShopPoint): ShopPoint => (p.t === T0 + 24 * 15 * HOUR && p.marketplace === market ? { ...p, views: Math.round(Number(p.views) * 0.2) } : p);
    await writeFile(join(dir, "data.csv"), csvOf(shopPoints(T0, 24 * 16, [{ platform: "web", marketplace: market, base: 400 }], dip)));
    const { AnomalyDetectorArn: _, ...request } = metricSetRequest({ MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "data.csv")] } } });
    await writeFile(join(dir, "metric-set.json"), JSON.stringify(request));
    const r = vigil(["backtest", "--metric-set", join(dir, "metric-set.json"), "--from", new Date(T0 + 24 * 14 * HOUR).toISOString()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("\\u009b2J\\u0085");
    expect(r.stdout).not.toMatch(/[\u007f-\u009f]/);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { dimensions: Record<string, string> });
    expect(lines.length).toBeGreaterThan(0);
    for (const a of lines) expect(a.dimensions.marketplace).toBe(market);
  });

  it("answers a bad metric set with one clear line and a non-zero exit", async () => {
    const { dir, data } = await fixture();
    await writeFile(join(dir, "bad.json"), JSON.stringify(metricSetRequest({ MetricList: [{ MetricName: "views", AggregationFunction: "MEDIAN" }] })));
    const r = vigil(["backtest", "--metric-set", join(dir, "bad.json"), "--data", data]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^vigil: ValidationException: .*MetricList\[0\]\.AggregationFunction/);
    expect(vigil(["backtest", "--metric-set", join(dir, "missing.json")]).stderr).toMatch(/cannot read metric set/);
    expect(vigil(["backtest", "--metric-set", join(dir, "bad.json"), "--from", "soon"]).code).not.toBe(0);
  });

  it("reads no more of a metric set file than the API takes as one, and refuses a larger file or a device that never ends", async () => {
    const { dir, metricSet, data } = await fixture();
    const json = await readFile(metricSet, "utf8");
    await writeFile(join(dir, "at-limit.json"), json.padEnd(METRIC_SET_FILE_BYTES));
    expect(vigil(["backtest", "--metric-set", join(dir, "at-limit.json"), "--data", data]).code).toBe(0);
    await writeFile(join(dir, "over.json"), json.padEnd(METRIC_SET_FILE_BYTES + 1));
    for (const file of [join(dir, "over.json"), "/dev/zero"]) {
      const r = vigil(["backtest", "--metric-set", file, "--data", data]);
      expect(r.code, file).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^vigil: ValidationException: cannot read metric set ${file}: it holds more than ${METRIC_SET_FILE_BYTES} bytes`));
    }
  });
});

describe("vigil backtest, what it refuses and says", () => {
  async function fixture(rows: string): Promise<{ dir: string; metricSet: string; data: string }> {
    const dir = await tempDir();
    await writeFile(join(dir, "data.csv"), rows);
    const { AnomalyDetectorArn: _, ...request } = metricSetRequest({ MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "data.csv")] } } });
    await writeFile(join(dir, "metric-set.json"), JSON.stringify(request));
    return { dir, metricSet: join(dir, "metric-set.json"), data: join(dir, "data.csv") };
  }

  it("exits non-zero when every row was rejected", async () => {
    const { metricSet } = await fixture("timestamp,platform,marketplace,views,revenue\nyesterday,web,de,1,2\nlater,web,fr,3,4\n");
    const r = vigil(["backtest", "--metric-set", metricSet]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/INVALID_TIMESTAMP 2/);
    expect(r.stderr).toMatch(/every one of the 2 rows was rejected/);
  });

  it("names each rejected row, its line and its reason, when no --out keeps them", async () => {
    const good = csvOf(shopPoints(T0, 48, SERIES)).trimEnd().split("\n");
    const bad = Array.from({ length: 12 }, (_, i) => `${sqlTime(T0 + i * HOUR)},web,de,lots,2`);
    const { metricSet, data } = await fixture([...good, ...bad].join("\n") + "\n");
    const r = vigil(["backtest", "--metric-set", metricSet]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${data}:${good.length + 1}: partial, NON_NUMERIC_MEASURE: measure 'views' = 'lots' is not a number`);
    expect(r.stderr).toMatch(/… and 2 more: --out <file> keeps every one/);
  });

  it("shows the control characters of a row it names escaped: a file's escape sequence never reaches the terminal", async () => {
    const good = csvOf(shopPoints(T0, 48, SERIES)).trimEnd().split("\n");
    // Sets the terminal's clipboard (OSC 52), then clears the screen.
    const { metricSet, data } = await fixture([...good, `${sqlTime(T0)},web,de,\x1b]52;c;ZXZpbA==\x07\x1b[2J,2`].join("\n") + "\n");
    const r = vigil(["backtest", "--metric-set", metricSet]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(r.stderr).toContain(`${data}:${good.length + 1}: partial, NON_NUMERIC_MEASURE: measure 'views' = '\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J' is not a number`);
  });

  it("refuses an S3 URI at once, saying how to back-test such files here", async () => {
    const { dir } = await fixture("timestamp,platform,marketplace,views,revenue\n");
    const { AnomalyDetectorArn: _, ...request } = metricSetRequest({ MetricSource: { S3SourceConfig: { RoleArn: "arn:aws:iam::123456789012:role/l4m", HistoricalDataPathList: ["s3://shop-metrics/history/"] } } });
    await writeFile(join(dir, "s3.json"), JSON.stringify(request));
    const r = vigil(["backtest", "--metric-set", join(dir, "s3.json")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("vigil: ValidationException: vigil backtest reads this machine's files, not s3://shop-metrics/history/: copy them here and name them with --data <file or folder>");
  });

  it("tells a path with no file from files with no row", async () => {
    const { dir, metricSet } = await fixture("timestamp,platform,marketplace,views,revenue\n");
    const missing = vigil(["backtest", "--metric-set", metricSet, "--data", join(dir, "no-such-folder")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`ValidationException: no file found under ${join(dir, "no-such-folder")}`);
    const empty = vigil(["backtest", "--metric-set", metricSet]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain(`ValidationException: no rows found in the 1 file(s) under ${join(dir, "data.csv")}`);
  });

  it("refuses --out into a folder that does not exist before reading anything", async () => {
    const { dir, metricSet } = await fixture(csvOf(shopPoints(T0, 48, SERIES)));
    const r = vigil(["backtest", "--metric-set", metricSet, "--out", join(dir, "missing", "anomalies.jsonl")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the folder .*missing does not exist/);
    expect(r.stderr).not.toMatch(/rows read/);
  });

  it("says so when --from is after the data's end", async () => {
    const { metricSet } = await fixture(csvOf(shopPoints(T0, 48, SERIES)));
    const r = vigil(["backtest", "--metric-set", metricSet, "--from", new Date(T0 + 60 * HOUR).toISOString()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is after the data's last interval: its 48 intervals only taught the model/);
  });

  it("counts each row once when the history and the live folder hold the same hours, as L4M's sample does", async () => {
    const dir = await tempDir();
    const points = shopPoints(T0, 24 * 15, SERIES);
    await mkdir(join(dir, "backtest"), { recursive: true });
    await writeFile(join(dir, "backtest", "input.csv"), csvOf(points));
    for (let h = 24 * 14; h < 24 * 15; h++) {
      const t = T0 + h * HOUR;
      const folder = join(dir, "live", new Date(t).toISOString().slice(0, 10).replaceAll("-", ""), new Date(t).toISOString().slice(11, 16).replace(":", ""));
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, "part.csv"), csvOf(points.filter((p) => p.t === t)));
    }
    const { AnomalyDetectorArn: _, ...request } = metricSetRequest({ MetricSource: { S3SourceConfig: { TemplatedPathList: [join(dir, "live", "{{yyyyMMdd}}", "{{HHmm}}")], HistoricalDataPathList: [join(dir, "backtest")] } } });
    await writeFile(join(dir, "metric-set.json"), JSON.stringify(request));
    const r = vigil(["backtest", "--metric-set", join(dir, "metric-set.json")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`backtest: ${points.length} rows read, 0 rejected`));
  });
});

describe("vigil's command line", () => {
  it("exits 2 on a usage error, as the README says, and names a port that is not one", () => {
    const unknown = vigil(["backtest", "--no-such-flag"]);
    expect(unknown.code).toBe(2);
    // What was wrong, and where to read more: not the command's whole help.
    expect(unknown.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^error: (unknown option '--no-such-flag'|required option '--metric-set <json>' not specified)$/), "(add --help for the command's options)"]);
    const port = vigil(["serve", "--port", "notanumber"]);
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/'notanumber' is not a port/);
    expect(vigil(["--help"]).code).toBe(0);
  });
});

describe("vigil score", () => {
  const series = Array.from({ length: 24 * 10 }, (_, i) => `${new Date(T0 + i * HOUR).toISOString().slice(0, 19).replace("T", " ")},${i === 200 ? 5000 : 500 + 100 * Math.sin((2 * Math.PI * i) / 24) + (i % 3)}`);

  it("writes one score in [0,1] per row, high on the spike", () => {
    const r = vigil(["score"], ["timestamp,value", ...series].join("\n"));
    expect(r.code).toBe(0);
    const scores = r.stdout.trim().split("\n").map(Number);
    expect(scores).toHaveLength(series.length);
    for (const s of scores) expect(s >= 0 && s <= 1).toBe(true);
    expect(scores[200]).toBeGreaterThan(0.9);
    expect(Math.max(...scores.slice(100, 200))).toBeLessThan(0.5);
  });

  it("is causal: a row's score does not change when later rows are added", () => {
    const full = vigil(["score"], ["timestamp,value", ...series].join("\n")).stdout.trim().split("\n");
    const prefix = vigil(["score"], ["timestamp,value", ...series.slice(0, 150)].join("\n")).stdout.trim().split("\n");
    expect(prefix).toEqual(full.slice(0, 150));
  });

  it("fails clearly on a row that is not timestamp,value", () => {
    const r = vigil(["score"], "timestamp,value\n2021-01-01 00:00:00,1\nnonsense\n");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 3/);
  });
});
