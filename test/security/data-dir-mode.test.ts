import { chmod, mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alertMessage } from "../../shared/alerts/message.ts";
import { arnAccount } from "../../shared/model/ids.ts";
import { openService } from "../../shared/runtime/service/index.ts";
import { ServeConfig } from "../../shared/runtime/service/config.ts";
import type { LocalDeadLetters } from "../../shared/store/local-dead-letters.ts";
import { alertNamed, anomalyGroupEvent, T0, tempDir } from "../builders.ts";
import { ManualClock, quietObserver } from "../clock.ts";

/**
 * What vigil serve keeps beside its records is the tenants' too: their results and pushed
 * rows, and the messages waiting or parked, whose signed links open a group and take
 * feedback for 30 days. The data directory it makes is its own user's alone.
 */
describe("the data directory vigil serve makes", () => {
  it("is not open to the machine's other users, whose reach would include the signed links of parked messages", async () => {
    const dir = join(await tempDir(), "vigil-data");
    const service = await openService(ServeConfig.parse({ dataDir: dir }), { clock: new ManualClock(T0), observer: quietObserver(), watch: false });
    try {
      const s = service.services;
      const message = alertMessage(alertNamed("a"), anomalyGroupEvent({ revision: 1 }), "first", { publicUrl: "http://vigil.example", secret: s.alertSettings.linkSecret!, now: T0 });
      await s.deadLetters.park({ delivery: { deliveryId: message.deliveryId, alertArn: message.alert.arn, message }, reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: T0 });
      expect(await readFile((s.deadLetters as LocalDeadLetters).fileOf(arnAccount(message.alert.arn)), "utf8")).toMatch(/signature=[0-9a-f]{64}/);
      expect((await stat(dir)).mode & 0o077).toBe(0);
    } finally {
      await service.stop(5_000);
    }
  });
});

describe("a data directory made before vigil serve, open to the machine", () => {
  it("has Vigil's own folders made private, and leaves the directory and its files/ folder as they were", async () => {
    const dir = join(await tempDir(), "vigil-data");
    await mkdir(join(dir, "files"), { recursive: true, mode: 0o755 });
    await mkdir(join(dir, "dead-letters"), { mode: 0o755 });
    await chmod(dir, 0o755);
    const service = await openService(ServeConfig.parse({ dataDir: dir }), { clock: new ManualClock(T0), observer: quietObserver(), watch: false });
    try {
      const s = service.services;
      const message = alertMessage(alertNamed("a"), anomalyGroupEvent({ revision: 1 }), "first", { publicUrl: "http://vigil.example", secret: s.alertSettings.linkSecret!, now: T0 });
      await s.deadLetters.park({ delivery: { deliveryId: message.deliveryId, alertArn: message.alert.arn, message }, reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: T0 });
      const parked = (s.deadLetters as LocalDeadLetters).fileOf(arnAccount(message.alert.arn));
      expect(parked.startsWith(join(dir, "dead-letters"))).toBe(true);
      for (const own of ["state", "results", "queue", "dead-letters", "outbox", "events"]) expect((await stat(join(dir, own))).mode & 0o077, own).toBe(0);
      expect((await stat(dir)).mode & 0o777).toBe(0o755);
      expect((await stat(join(dir, "files"))).mode & 0o777).toBe(0o755);
    } finally {
      await service.stop(5_000);
    }
  });
});
