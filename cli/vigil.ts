import { stat, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { Duration } from "luxon";
import { backtestFiles, createSilence, expireSilence, listSilences, OPERATOR, replayDeliveries, type Observer } from "../shared/app/index.ts";
import { ReplayIncomplete } from "../shared/alerts/replay.ts";
import { toJsonLines } from "../shared/detect/results.ts";
import { describeError, ValidationException } from "../shared/model/errors.ts";
import { intervalMs } from "../shared/model/frequency.ts";
import { configFromEnv, type RuntimeConfig } from "../shared/runtime/config.ts";
import { servicesFor } from "../shared/runtime/index.ts";
import { rotateLocalLinkKey } from "../shared/runtime/link-key.ts";
import { localFiles } from "../shared/runtime/local.ts";
import { anomalyRecords, loadMetricSetFile, rejectLines } from "./backtest.ts";
import { describeGroup } from "./describe.ts";
import { pauseDemo, printDemo, runDemo, type DemoChannels } from "./demo.ts";
import { readInput, scoreCsv } from "./score.ts";
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY } from "./serve.ts";
import { startServing, stopOnSignal } from "./service.ts";
import { DEMO_RATE, serveDemo } from "./demo-serve.ts";
import { DEFAULT_CONFIG_FILE, loadServeConfig } from "../shared/runtime/service/config.ts";

/**
 * A line for the terminal, its control characters shown escaped (`\x1b`; a line break too,
 * so it stays one line): lines carry text read from files (a rejected row, a dimension value,
 * a file's name), and an escape sequence in one would drive the terminal instead (set its
 * clipboard or title, rewrite what was printed).
 */
const printable = (line: string) => line.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
const say = (line: string) => process.stderr.write(`${printable(line)}\n`);
/**
 * JSON for stdout, its C1 control characters (U+007F–U+009F) written as escapes: JSON.stringify
 * escapes the C0 ones alone, and U+009B is a terminal's one-character CSI. They can stand only
 * inside a string, where the escape reads back as the same character.
 */
const terminalJson = (json: string) => json.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

function isoTime(value: string): number {
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) || !value.includes("T") ? value : `${value}Z`);
  if (!Number.isFinite(t)) throw new InvalidArgumentError(`'${value}' is not an ISO 8601 time`);
  return t;
}

function port(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError(`'${value}' is not a port (0 to 65535)`);
  return Number(value);
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError(`'${value}' is not a positive number`);
  return n;
}

function httpUrl(value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw new InvalidArgumentError(`'${value}' is not an http(s) URL`);
  return value;
}

function dimensionValue(pair: string): { DimensionName: string; DimensionValue: string } {
  const at = pair.indexOf("=");
  if (at <= 0) throw new ValidationException(`--dimension '${pair}' is not name=value`);
  return { DimensionName: pair.slice(0, at), DimensionValue: pair.slice(at + 1) };
}

/** The local mode's settings, with the data directory a command names, or the environment's. */
const localConfig = (dataDir: string | undefined) => configFromEnv({ ...process.env, VIGIL_MODE: "local", ...(dataDir ? { VIGIL_DATA_DIR: dataDir } : {}) }) as Extract<RuntimeConfig, { VIGIL_MODE: "local" }>;

/**
 * A data directory a command reads and changes (replay, silences) must hold Vigil's records
 * already: a mistyped --data-dir would otherwise be made anew, empty, and the command answer
 * from it as if there were nothing to do.
 */
function heldData(config: RuntimeConfig): RuntimeConfig {
  if (config.VIGIL_MODE !== "local" || existsSync(join(config.VIGIL_DATA_DIR, "state", "records.db"))) return config;
  throw new ValidationException(`${config.VIGIL_DATA_DIR} holds no Vigil data (no state/records.db): name the data directory vigil serve or vigil demo keeps (--data-dir or VIGIL_DATA_DIR; the demo's is vigil-data/demo)`);
}

/** Deliveries `vigil replay` says why it left parked, one line each: the rest are counted. */
const STILL_PARKED_SHOWN = 10;

/** The local mode's services over the data directory a command names, or the environment's, which must hold Vigil's data. */
const localServicesAt = (dataDir: string | undefined, options: { observer?: Observer; clock?: () => number } = {}) => servicesFor(heldData(localConfig(dataDir)), options);

const program = new Command("vigil").description("Anomaly detection for business metrics, compatible with Amazon Lookout for Metrics")
  // The error alone, and where the options are: a command's whole help after each mistake buries the one line that says what was wrong.
  .showHelpAfterError("(add --help for the command's options)")
  .exitOverride();

program
  .command("demo")
  .description("generate an online shop's metrics with injected incidents, detect them, and print the ranked anomaly groups")
  .option("--data-dir <dir>", "where the demo writes its files and results", "vigil-data")
  .option("--slack-webhook <url>", "also send the demo's alerts to this Slack incoming webhook", httpUrl)
  .option("--webhook <url>", "also POST the demo's alerts, as signed JSON, to this URL", httpUrl)
  .option("--webhook-secret <secret>", "the key the webhook's signature is made with")
  .option("--email <address>", "also email the demo's alerts to this address (needs --smtp)")
  .option("--smtp <url>", "SMTP server for --email, smtp://user:pass@host:port")
  .option("--serve", "then keep the demo's detector running live in vigil serve, on a simulated clock (an hour every 5 s): new hours land, alerts arrive")
  .option("--console", "as --serve, and print the address of the web console to watch it in")
  .option("--port <n>", "with --serve or --console: port to listen on (default 8087; 0 picks a free one)", port)
  .option("--rate <n>", "with --serve or --console: how many times faster than real time the simulated clock runs (default 720)", positiveNumber)
  .action(async (opts: { dataDir: string; serve?: boolean; console?: boolean; port?: number; rate?: number } & DemoChannels) => {
    if (opts.email && !opts.smtp) throw new ValidationException("--email needs --smtp <url>, the SMTP server to send through");
    if (opts.webhookSecret && !opts.webhook) throw new ValidationException("--webhook-secret goes with --webhook <url>");
    if (opts.smtp && !opts.email) throw new ValidationException("--smtp goes with --email <address>, whom to send the alerts to");
    if (!opts.serve && !opts.console && (opts.port !== undefined || opts.rate !== undefined)) throw new ValidationException("--port and --rate go with --serve or --console");
    const { dataDir, serve: live, console: withConsole, port: listen, rate, ...channels } = opts;
    const report = await runDemo(dataDir, (l) => console.log(l), channels);
    printDemo(report, (l) => console.log(l));
    if (!live && !withConsole) {
      await pauseDemo(report);
      console.log("Its detector is left deactivated: its files end in March 2021, and a service on today's clock would look for every hour since. `vigil demo --serve` runs it live on a simulated clock.");
      return;
    }
    const running = await serveDemo(report, { port: listen ?? 8087, ...(rate ? { rate } : {}), log: (l) => console.log(l) });
    // Stopped, it leaves its detector deactivated, as the walk-through alone does.
    const paused = () => pauseDemo(report, running.service.services).catch((e: unknown) => say(`vigil demo: its detector is left active (${e instanceof Error ? e.message : String(e)})`));
    stopOnSignal({ stop: () => paused().then(() => running.stop()) }, 10, say);
    console.log("");
    console.log(`The demo's detector now runs live at ${running.url} on a simulated clock (${rate ?? DEMO_RATE}× real time): a new hour lands every ${Math.round(3600 / (rate ?? DEMO_RATE))} s and alerts arrive as incidents begin. Ctrl-C stops it.`);
    // The demo's service takes the default key pair (vigil serve's settings are not read here).
    if (withConsole) console.log(`The console: ${running.url}/console (sign in with access key ID ${DEFAULT_ACCESS_KEY_ID} and secret ${DEFAULT_SECRET_ACCESS_KEY}).`);
  });

program
  .command("replay")
  .description("send again the alert deliveries that were parked after failing, every account's (the local dead-letter file, or the record table in AWS mode)")
  .option("--data-dir <dir>", "the local data directory (VIGIL_DATA_DIR)")
  .action(async (opts: { dataDir?: string }) => {
    // VIGIL_MODE=aws replays the parked records; otherwise the data directory's file.
    const services = await servicesFor(heldData(configFromEnv(opts.dataDir ? { ...process.env, VIGIL_DATA_DIR: opts.dataDir } : process.env)));
    // Why each is still parked, the first few: the channel's answer on this try.
    const why: string[] = [];
    const tell = () => {
      for (const line of why.slice(0, STILL_PARKED_SHOWN)) say(`  ${line}`);
      if (why.length > STILL_PARKED_SHOWN) say(`  … and ${why.length - STILL_PARKED_SHOWN} more (the console's deliveries page, or ListDeliveries with Status PARKED, lists each)`);
    };
    const note = (d: { deliveryId: string }, reason: string) => void why.push(`${d.deliveryId}: ${reason}`);
    try {
      const result = await replayDeliveries(services, new AbortController().signal, note);
      say(`replay: ${result.retried} delivery(ies) sent or found already sent, ${result.remaining} still parked`);
      tell();
      if (result.remaining > 0) process.exitCode = 1;
    } catch (e) {
      if (!(e instanceof ReplayIncomplete)) throw e;
      // The other accounts were replayed: say what was done, and which accounts stopped, and why.
      say(`replay: ${e.counts.retried} delivery(ies) sent or found already sent, ${e.counts.remaining} tried and still parked; the replay did not finish for these accounts, whose other deliveries stay parked:`);
      tell();
      for (const s of e.stopped) say(`  account ${s.account}: ${describeError(s.failure)}`);
      process.exitCode = 1;
    }
  });

program
  .command("serve")
  .description("run Vigil on this machine: L4M's API for the AWS SDK client (signed requests; see the README), the web console at /console, and the service loop (detection, ingestion, alerts)")
  .option("--config <file>", `settings file (default ${DEFAULT_CONFIG_FILE} when present); the environment and these flags override it`)
  .option("--port <n>", "port to listen on (default 8087)", port)
  .option("--host <address>", "address to listen on (default 127.0.0.1)")
  .option("--data-dir <dir>", "the local data directory (VIGIL_DATA_DIR)")
  .option("--data-root <dir...>", "a folder the default tenant may read metric files from (default <data dir>/files; dataRoots or VIGIL_DATA_ROOTS grant other tenants theirs)", (v: string, all: string[] = []) => [...all, v])
  .option("--clock-start <time>", "run on a simulated clock from this ISO 8601 time (with --clock-rate)", isoTime)
  .option("--clock-rate <n>", "how many times faster than real time the simulated clock runs", positiveNumber)
  .action(async (opts: { config?: string; port?: number; host?: string; dataDir?: string; dataRoot?: string[]; clockStart?: number; clockRate?: number }) => {
    if ((opts.clockStart === undefined) !== (opts.clockRate === undefined)) throw new ValidationException("--clock-start and --clock-rate go together");
    const config = loadServeConfig({ file: opts.config, env: process.env, flags: { port: opts.port, host: opts.host, dataDir: opts.dataDir, dataRoots: opts.dataRoot ? { default: opts.dataRoot } : undefined } });
    const running = await startServing(config, opts.clockStart !== undefined ? { simulate: { start: opts.clockStart, rate: opts.clockRate! } } : {});
    // Drains from the moment it says it is up: a SIGTERM sent on reading that line is heard.
    stopOnSignal(running, config.drainSeconds, say);
    say(`vigil serve: L4M's API at ${running.url} (region any, service lookoutmetrics), data in ${running.service.dataDir}; the console at ${running.url}/console; /health, /ready, /metrics; SIGTERM or Ctrl-C stops it`);
    for (const scope of running.tenants.scopes.values()) say(`vigil serve: tenant ${scope.tenant} (account ${scope.accountId}) reads metric files under ${scope.dataRoots?.length ? scope.dataRoots.join(", ") : "no local folder"}; its Slack and webhook alerts reach ${running.tenants.privateTargets(scope.accountId) ? "any address" : "public addresses only"}`);
  });

program
  .command("links")
  .description("the key that signs the links in alert messages")
  .command("rotate")
  .description("replace the local key that signs links: every link signed before stops working (for a leaked key)")
  .option("--config <file>", `vigil serve's settings file (default ${DEFAULT_CONFIG_FILE} when present), for its data directory and link key`)
  .option("--data-dir <dir>", "the local data directory (VIGIL_DATA_DIR)")
  .action((opts: { config?: string; dataDir?: string }) => {
    // The key vigil serve signs with: a given one (settings or environment) is changed where it is given.
    const config = loadServeConfig({ file: opts.config, env: process.env, flags: { dataDir: opts.dataDir } });
    if (config.linkKey) throw new ValidationException(`The link key comes from ${process.env["VIGIL_LINK_SECRET"] ? "VIGIL_LINK_SECRET" : "the settings' linkKey"} here: set a new value there (at least 32 characters) and restart; links signed with the old one stop working`);
    const id = rotateLocalLinkKey(resolve(config.dataDir));
    say(`links: a new key (id ${id}) signs links from now on; links signed with the old key no longer open`);
  });

const silence = program.command("silence").description("mute alerts for a while, by detector, measure or dimension values");
silence
  .command("add")
  .description("mute alerts matching every matcher given until the silence ends")
  .option("--detector <arn>", "the anomaly detector's ARN")
  .option("--measure <name>", "a measure (MetricName)")
  .option("--dimension <name=value...>", "dimension values that must all be affected", (v: string, all: string[] = []) => [...all, v])
  .option("--for <duration>", "how long, as an ISO-8601 duration (PT2H, P1D)")
  .option("--until <time>", "when it ends, as an ISO 8601 time", isoTime)
  .requiredOption("--reason <text>", "why, for whoever wonders later")
  .option("--data-dir <dir>", "the local data directory (VIGIL_DATA_DIR)")
  .action(async (opts: { detector?: string; measure?: string; dimension?: string[]; for?: string; until?: number; reason: string; dataDir?: string }) => {
    const now = Date.now();
    const span = opts.for ? Duration.fromISO(opts.for) : undefined;
    if (span && !span.isValid) throw new ValidationException(`--for '${opts.for}' is not an ISO-8601 duration such as PT2H`);
    if (!span === (opts.until === undefined)) throw new ValidationException("give one of --for <duration> and --until <time>");
    const services = await localServicesAt(opts.dataDir, { clock: () => now });
    const created = await createSilence(services, OPERATOR, {
      ...(opts.detector ? { AnomalyDetectorArn: opts.detector } : {}),
      ...(opts.measure ? { MetricName: opts.measure } : {}),
      ...(opts.dimension ? { DimensionValues: opts.dimension.map(dimensionValue) } : {}),
      EndsAt: new Date(span ? now + span.toMillis() : opts.until!).toISOString(),
      Reason: opts.reason,
      CreatedBy: process.env["USER"] ?? "cli",
    });
    console.log(terminalJson(JSON.stringify(created, null, 2)));
  });
silence
  .command("list")
  .description("list silences, active and past")
  .option("--data-dir <dir>", "the local data directory (VIGIL_DATA_DIR)")
  .action(async (opts: { dataDir?: string }) => {
    process.stdout.write(terminalJson(toJsonLines(await listSilences(await localServicesAt(opts.dataDir), OPERATOR))));
  });
silence
  .command("expire <id>")
  .description("end a silence now")
  .option("--data-dir <dir>", "the local data directory (VIGIL_DATA_DIR)")
  .action(async (id: string, opts: { dataDir?: string }) => {
    console.log(terminalJson(JSON.stringify(await expireSilence(await localServicesAt(opts.dataDir), OPERATOR, id), null, 2)));
  });

program
  .command("backtest")
  .description("run a metric set over existing files and write one JSON line per anomalous series-interval")
  .requiredOption("--metric-set <json>", "CreateMetricSet JSON (a local path may stand where an S3 URI would)")
  .option("--data <path...>", "file(s) or folder(s) to read instead of the metric set's paths")
  .option("--from <time>", "ISO time where scoring starts; earlier data only teaches the model", isoTime)
  .option("--out <file>", "write anomalies here instead of stdout (rejected rows go beside it)")
  .action(async (opts: { metricSet: string; data?: string[]; from?: number; out?: string }) => {
    // Before the run, not after it: a folder that is not there fails at once.
    if (opts.out && !(await stat(dirname(resolve(opts.out))).then((s) => s.isDirectory(), () => false))) throw new ValidationException(`--out ${opts.out}: the folder ${dirname(resolve(opts.out))} does not exist`);
    const metricSet = await loadMetricSetFile(opts.metricSet);
    // This machine's files alone: an S3 URI is a path for the AWS mode, which a back-test here cannot read.
    const s3 = metricSet.MetricSource.S3SourceConfig;
    const remote = (opts.data ?? [...(s3?.HistoricalDataPathList ?? []), ...(s3?.TemplatedPathList ?? [])]).find((p) => /^s3:\/\//i.test(p));
    if (remote) throw new ValidationException(`vigil backtest reads this machine's files, not ${remote}: copy them here and name them with --data <file or folder>, or put a local path where the metric set has the S3 URI`);
    const run = await backtestFiles(localFiles(), metricSet, opts.data ?? [], { ...(opts.from !== undefined ? { from: opts.from } : {}), onProgress: (done, total) => say(`backtest: ${done}/${total} intervals`) });
    const body = toJsonLines(anomalyRecords(run));
    if (opts.out) {
      await writeFile(opts.out, body);
      await writeFile(`${opts.out}.rejects.jsonl`, toJsonLines([...run.rejects, ...run.rejectsNotKept]));
    } else process.stdout.write(terminalJson(body));
    const q = run.quality;
    const reasons = Object.entries(q.rejectsByReason).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`);
    say(`backtest: ${q.rowsRead} rows read, ${q.rowsRejected} rejected${reasons.length ? ` (${reasons.join(", ")})` : ""}, ${q.rowsPartial} partial; ${run.intervalsLearned} intervals learned, ${run.intervalsScored} scored`);
    if (!opts.out) for (const line of rejectLines(run)) say(`  ${line}`);
    say(`backtest: ${run.anomalies.length} anomalies in ${run.groups.length} anomaly groups${opts.out ? ` written to ${opts.out}` : ""}`);
    for (const g of run.groups.slice(0, 5)) say(`  ${describeGroup(g, intervalMs(metricSet.MetricSetFrequency))}`);
    if (q.rowsAccepted === 0) throw new ValidationException(`every one of the ${q.rowsRead} rows was rejected (see ${opts.out ? `${opts.out}.rejects.jsonl` : "the reasons above"}): nothing was scored`);
    if (opts.from !== undefined && run.intervalsScored === 0) throw new ValidationException(`--from ${new Date(opts.from).toISOString()} is after the data's last interval: its ${run.intervalsLearned} intervals only taught the model, none was scored`);
  });

program
  .command("score")
  .description("read CSV 'timestamp,value' (header optional) on stdin, write one anomaly score in [0,1] per row on stdout (causal)")
  .action(async () => {
    const scores = scoreCsv(await readInput(process.stdin));
    process.stdout.write(scores.join("\n") + (scores.length ? "\n" : ""));
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  // Commander has said what was wrong with the command line (or printed the help asked for): a usage error exits 2, as the README says.
  if (e instanceof CommanderError) return void (process.exitCode = e.exitCode === 0 ? 0 : 2);
  say(`vigil: ${describeError(e)}`);
  process.exitCode = e instanceof ValidationException ? 2 : 1;
});
