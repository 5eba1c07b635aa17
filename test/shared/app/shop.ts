import { join } from "node:path";
import { afterEach } from "vitest";
import { activateDetector, createAlert, detectDue, OPERATOR, type Scope, type Services } from "../../../shared/app/index.ts";
import type { Alert } from "../../../shared/model/alert.ts";
import type { AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import type { MetricSet } from "../../../shared/model/metric-set.ts";
import { HttpReceiver } from "../../receivers/http-receiver.ts";
import { csvOf, HOUR, liveFolder, localAt, shopOnFiles, type ShopPoint, shopPoints, T0, tempDir } from "../../builders.ts";

/**
 * A small shop run through detection for the console's operations: 14 days of history,
 * then live hours in which views of marketplace=de collapse at hours 4 and 5, two alerts
 * (one to SNS, sent to the outbox; one to a webhook receiver that refuses, so it parks).
 */
export const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
  { platform: "app", marketplace: "de", base: 500 },
];
export const LIVE = T0 + 14 * 24 * HOUR;
export const DIP = [LIVE + 4 * HOUR, LIVE + 5 * HOUR];
const dip = (p: ShopPoint): ShopPoint => (p.marketplace === "de" && DIP.includes(p.t) ? { ...p, views: Math.round(Number(p.views) / 5) } : p);

export interface Shop {
  readonly dir: string;
  readonly services: Services;
  readonly scope: Scope;
  readonly detectorArn: string;
  readonly metricSet: MetricSet;
  readonly sns: Alert;
  readonly webhook: Alert;
  readonly receiver: HttpReceiver;
  readonly group: AnomalyGroupRecord;
  /** The id of views for web/de. */
  readonly deViews: string;
  /** Runs detection through live hour `h` (the clock moves there). */
  readonly runTo: (h: number) => Promise<void>;
  readonly setNow: (t: number) => void;
}

/** The shop, detected through `liveHours`; the webhook refuses (410) until told otherwise. */
export async function shop(liveHours = 8, options: { scope?: Scope; badRowAt?: number; beforeRun?: (services: Services, detectorArn: string) => Promise<unknown>; local?: Parameters<typeof localAt>[2] } = {}): Promise<Shop> {
  const dir = await tempDir();
  const scope = options.scope ?? OPERATOR;
  let now = LIVE;
  const services = localAt(join(dir, "vigil"), () => now, options.local);
  const files = join(dir, "files");
  await services.blobs.put(join(files, "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES)));
  for (let h = 0; h < 12; h++) {
    const t = LIVE + h * HOUR;
    const bad = h === options.badRowAt ? `${new Date(t).toISOString().slice(0, 19).replace("T", " ")},web,de,lots,1.0\n${new Date(t).toISOString().slice(0, 19).replace("T", " ")},web,,5,1.0\n` : "";
    await services.blobs.put(join(files, "live", liveFolder(t), "part.csv"), csvOf(shopPoints(t, 1, SERIES, dip)) + bad);
  }
  const receiver = await HttpReceiver.start();
  receiver.answer(...Array.from({ length: 100 }, () => ({ status: 410 })));
  afterEach(() => receiver.stop());
  const { detector, metricSet } = await shopOnFiles(services, files, scope);
  const sns = await createAlert(services, scope, { AlertName: "to-sns", AnomalyDetectorArn: detector.AnomalyDetectorArn, AlertSensitivityThreshold: 50, Action: { SNSConfiguration: { RoleArn: `arn:aws:iam::${scope.accountId}:role/r`, SnsTopicArn: `arn:aws:sns:us-east-1:${scope.accountId}:shop`, SnsFormat: "JSON" } } });
  const webhook = await createAlert(services, scope, { AlertName: "to-hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, AlertSensitivityThreshold: 50, Action: { WebhookConfiguration: { Url: `${receiver.url}/hook`, Secret: "hook-secret" } } });
  await activateDetector(services, scope, detector.AnomalyDetectorArn);
  await options.beforeRun?.(services, detector.AnomalyDetectorArn);
  let done = 0;
  const runTo = async (h: number) => {
    for (; done < h; done++) {
      now = LIVE + (done + 1) * HOUR;
      await detectDue(services, now);
    }
  };
  await runTo(liveHours);
  const group = (await services.records.list<AnomalyGroupRecord>("groups")).find((g) => g.startMs === DIP[0])!;
  const deViews = Object.entries(group.impacts["views"]!.series).find(([, d]) => d["marketplace"] === "de" && d["platform"] === "web")![0];
  return { dir, services, scope, detectorArn: detector.AnomalyDetectorArn, metricSet, sns, webhook, receiver, group, deViews, runTo, setNow: (t) => (now = t) };
}
