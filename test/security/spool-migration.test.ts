import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../shared/alerts/delivery.ts";
import { createAlert, createDetector, type Scope } from "../../shared/app/index.ts";
import { ServiceLoop } from "../../shared/runtime/service/loop.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { LocalDeliverySpool } from "../../shared/store/local-spool.ts";
import { alertOfAccount, deliveriesOf, T0, tempDir } from "../builders.ts";
import { ManualClock, quietObserver } from "../clock.ts";

/**
 * A spool left by a process from before spool file names carried the account
 * (`<hash>.json`) must not have its deliveries handed to the loop again while they are
 * being sent: `pending`'s `except` must leave them out as it does files named the new way.
 */
const TEAM_A: Scope = { tenant: "team-a", accountId: "111111111111" };
const settle = () => new Promise((r) => setImmediate(r));
const olderName = (d: Delivery) => `${createHash("sha256").update(d.deliveryId).digest("hex").slice(0, 40)}.json`;

describe("a spool written before file names carried the account", () => {
  it("leaves out a delivery being sent though its file has the older name", async () => {
    const dir = await tempDir();
    const spool = new LocalDeliverySpool(dir);
    const d = deliveriesOf(alertOfAccount("111111111111"), 1, { tag: "aaaa" })[0]!;
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, olderName(d)), JSON.stringify(d));
    const first = await spool.pending(10);
    expect(first.map((x) => x.deliveryId)).toEqual([d.deliveryId]);
    // The loop passes what it is sending as `except`: the same delivery must not come back.
    expect((await spool.pending(10, { except: first })).map((x) => x.deliveryId)).toEqual([]);
  });

  it("hands out once a delivery queued again after the upgrade, though it is then under both names", async () => {
    const dir = await tempDir();
    const spool = new LocalDeliverySpool(dir);
    const d = deliveriesOf(alertOfAccount("111111111111"), 1, { tag: "cccc" })[0]!;
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, olderName(d)), JSON.stringify(d));
    // "The same delivery enqueued twice is one file."
    await spool.enqueue([d]);
    expect((await spool.pending(10)).map((x) => x.deliveryId)).toEqual([d.deliveryId]);
  });

  it("vigil serve's loop does not send a delivery queued under the older name twice at once, nor lose it when a stop cuts its send", async () => {
    // Holds every request: the first send of the delivery hangs until the stop cuts it.
    const held: (() => void)[] = [];
    let requests = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        requests++;
        held.push(() => res.end("ok"));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/a`;
    const dir = await tempDir();
    const queue = join(dir, "queue");
    const spool = new LocalDeliverySpool(queue);
    let loop: ServiceLoop | undefined;
    try {
      const services = localServices(join(dir, "data"), { clock: () => T0, observer: quietObserver(), deliveryQueue: spool, privateTargets: () => true, wake: () => loop?.wake() });
      const detector = await createDetector(services, TEAM_A, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
      const alert = await createAlert(services, TEAM_A, { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: url } } });
      const d = deliveriesOf(alert, 1, { tag: "bbbb" })[0]!;
      // Left by the process before the upgrade.
      await mkdir(queue, { recursive: true });
      await writeFile(join(queue, olderName(d)), JSON.stringify(d));
      loop = new ServiceLoop({ services, clock: new ManualClock(T0), spool, deliveryConcurrency: 4 });
      await loop.start();
      while (held.length < 1) await settle();
      // More is queued (a tick rings the delivery loop): the loop looks at the spool again while the send hangs.
      loop.wake();
      for (let i = 0; i < 300 && (await readdir(queue)).length > 0; i++) await settle();
      // The delivery is still being sent: its file must still be queued.
      expect(await readdir(queue)).toEqual([olderName(d)]);
      // The stop cuts the hanging send: it stays queued for the next start.
      expect(await loop.stop(50)).toBe("cut");
      loop = undefined;
      expect(requests).toBe(1);
      expect(await spool.depth()).toBe(1);
    } finally {
      held.splice(0).forEach((h) => h());
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await loop?.stop(50);
    }
  }, 60_000);
});
