import { writeFile } from "node:fs/promises";
import { text } from "node:stream/consumers";
import { Command, InvalidArgumentError } from "commander";
import { describeError, ValidationException } from "../shared/model/errors.ts";
import { LocalBlobStore } from "../shared/store/local-blobs.ts";
import { RoutingBlobStore } from "../shared/store/routing-blobs.ts";
import { toJsonLines } from "../shared/detect/results.ts";
import { anomalyRecords, loadMetricSetFile, runBacktest } from "./backtest.ts";
import { describeGroup } from "./describe.ts";
import { printDemo, runDemo } from "./demo.ts";
import { scoreCsv } from "./score.ts";
import { intervalMs } from "../shared/model/frequency.ts";

const say = (line: string) => process.stderr.write(`${line}\n`);

function isoTime(value: string): number {
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) || !value.includes("T") ? value : `${value}Z`);
  if (!Number.isFinite(t)) throw new InvalidArgumentError(`'${value}' is not an ISO 8601 time`);
  return t;
}

const program = new Command("vigil").description("Anomaly detection for business metrics, compatible with Amazon Lookout for Metrics").showHelpAfterError();

program
  .command("demo")
  .description("generate an online shop's metrics with injected incidents, detect them, and print the ranked anomaly groups")
  .option("--data-dir <dir>", "where the demo writes its files and results", "vigil-data")
  .action(async (opts: { dataDir: string }) => {
    const report = await runDemo(opts.dataDir, (l) => console.log(l));
    printDemo(report, (l) => console.log(l));
  });

program
  .command("backtest")
  .description("run a metric set over existing files and write one JSON line per anomalous series-interval")
  .requiredOption("--metric-set <json>", "CreateMetricSet JSON (a local path may stand where an S3 URI would)")
  .option("--data <path...>", "file(s) or folder(s) to read instead of the metric set's paths")
  .option("--from <time>", "ISO time where scoring starts; earlier data only teaches the model", isoTime)
  .option("--out <file>", "write anomalies here instead of stdout (rejected rows go beside it)")
  .action(async (opts: { metricSet: string; data?: string[]; from?: number; out?: string }) => {
    const metricSet = await loadMetricSetFile(opts.metricSet);
    const blobs = new RoutingBlobStore({ local: new LocalBlobStore() });
    const run = await runBacktest(blobs, metricSet, opts.data ?? [], { ...(opts.from !== undefined ? { from: opts.from } : {}), onProgress: (done, total) => say(`backtest: ${done}/${total} intervals`) });
    const body = toJsonLines(anomalyRecords(run));
    if (opts.out) {
      await writeFile(opts.out, body);
      await writeFile(`${opts.out}.rejects.jsonl`, toJsonLines(run.rejects));
    } else process.stdout.write(body);
    const q = run.quality;
    const reasons = Object.entries(q.rejectsByReason).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`);
    say(`backtest: ${q.rowsRead} rows read, ${q.rowsRejected} rejected${reasons.length ? ` (${reasons.join(", ")})` : ""}, ${q.rowsPartial} partial; ${run.intervalsLearned} intervals learned, ${run.intervalsScored} scored`);
    say(`backtest: ${run.anomalies.length} anomalies in ${run.groups.length} anomaly groups${opts.out ? ` written to ${opts.out}` : ""}`);
    for (const g of run.groups.slice(0, 5)) say(`  ${describeGroup(g, intervalMs(metricSet.MetricSetFrequency))}`);
  });

program
  .command("score")
  .description("read CSV 'timestamp,value' on stdin, write one anomaly score in [0,1] per row on stdout (causal)")
  .action(async () => {
    const scores = scoreCsv(await text(process.stdin));
    process.stdout.write(scores.join("\n") + (scores.length ? "\n" : ""));
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  say(`vigil: ${describeError(e)}`);
  process.exitCode = e instanceof ValidationException ? 2 : 1;
});
