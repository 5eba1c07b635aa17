import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAlert, createDetector, OPERATOR, routeEvent } from "../../shared/app/index.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { DEFAULT_ALERT_SETTINGS } from "../../shared/runtime/settings.ts";
import { anomalyGroupEvent, T0 } from "../builders.ts";
import { tempDirOnce } from "../servers.ts";

/**
 * Finding 6: three or four concurrent `vigil replay` runs sent 6 duplicate deliveries: a
 * replay deleted a lease another run held, and did not check "already sent" after taking
 * its own. Now, with five replays at once over one data directory (real processes), a
 * receiver that counts each delivery id takes every parked delivery exactly once.
 */
const EVENTS = 24;
const REPLAYS = 5;

/** A webhook receiver that counts what it took, by delivery id: refusing everything at first, then taking each after a short wait. */
async function countingReceiver() {
  const taken = new Map<string, number>();
  const senders = new Set<number>();
  let refusing = true;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const id = String(req.headers["vigil-delivery-id"]);
      if (refusing) return void res.writeHead(503).end();
      // Slow enough that concurrent replays meet on the same deliveries.
      setTimeout(() => {
        taken.set(id, (taken.get(id) ?? 0) + 1);
        senders.add(req.socket.remotePort ?? 0);
        res.writeHead(200).end("ok");
      }, 40);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("no address");
  return { url: `http://127.0.0.1:${address.port}`, taken, senders, open: () => void (refusing = false), close: () => new Promise<void>((r) => server.close(() => r())) };
}

function replay(dataDir: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/vigil.mjs", "replay", "--data-dir", dataDir], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

describe("vigil replay, run many times at once over one data directory", () => {
  let receiver: Awaited<ReturnType<typeof countingReceiver>>;
  let dataDir: string;
  const parked: string[] = [];

  beforeAll(async () => {
    receiver = await countingReceiver();
    dataDir = join(await tempDirOnce(), "vigil");
    // Deliveries fail once each and are parked.
    const services = localServices(dataDir, { clock: () => T0, settings: { ...DEFAULT_ALERT_SETTINGS, policy: { maxAttempts: 1, baseMs: 1, capMs: 1, maxRetryAfterMs: 1 } } });
    const detector = await createDetector(services, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    for (const name of ["first", "second"]) await createAlert(services, OPERATOR, { AlertName: name, AnomalyDetectorArn: detector.AnomalyDetectorArn, AlertSensitivityThreshold: 0, Action: { WebhookConfiguration: { Url: `${receiver.url}/${name}` } } });
    for (let i = 0; i < EVENTS; i++) {
      for (const verdict of await routeEvent(services, anomalyGroupEvent({ groupId: `4f1c2d3e-aaaa-4bbb-8ccc-${String(i).padStart(12, "0")}` }))) if (verdict.outcome === "enqueued") parked.push(verdict.deliveryId);
    }
    expect((await services.deadLetters.drain(async () => false)).remaining).toBe(2 * EVENTS);
  }, 60_000);
  afterAll(() => receiver?.close());

  it(`sends each parked delivery exactly once when ${REPLAYS} replays race, and the next replay finds nothing left`, async () => {
    receiver.open();
    const runs = await Promise.all(Array.from({ length: REPLAYS }, () => replay(dataDir)));
    for (const r of runs) expect(r.stderr).toMatch(/^replay: \d+ delivery\(ies\) sent or found already sent, \d+ still parked\n$/);
    expect(parked).toHaveLength(2 * EVENTS);
    expect([...receiver.taken.keys()].sort()).toEqual([...parked].sort());
    expect([...receiver.taken.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    // More than one replay sent: the race was run.
    expect(receiver.senders.size).toBeGreaterThan(1);

    const after = await replay(dataDir);
    expect(after).toEqual({ code: 0, stderr: expect.stringMatching(/^replay: \d+ delivery\(ies\) sent or found already sent, 0 still parked\n$/) });
    expect([...receiver.taken.values()].reduce((a, b) => a + b, 0)).toBe(2 * EVENTS);
    expect(await localServices(dataDir).deadLetters.drain(async () => false)).toEqual({ retried: 0, remaining: 0 });
  }, 120_000);
});
