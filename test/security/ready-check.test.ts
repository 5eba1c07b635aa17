import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openService } from "../../shared/runtime/service/index.ts";
import { ServeConfig } from "../../shared/runtime/service/config.ts";
import { T0, tempDir } from "../builders.ts";
import { ManualClock, quietObserver } from "../clock.ts";

describe("GET /ready, which anyone may ask", () => {
  it("says the store is down without the store's own words (a path of the machine), which go to the log", async () => {
    const dir = join(await tempDir(), "vigil-data");
    const observer = quietObserver();
    const logged: unknown[] = [];
    const failed = observer.failed.bind(observer);
    observer.failed = (what, error, context) => {
      logged.push(error);
      failed(what, error, context);
    };
    const service = await openService(ServeConfig.parse({ dataDir: dir }), { clock: new ManualClock(T0), observer, watch: false });
    try {
      expect(await service.ready()).toMatchObject({ checks: { store: "up" } });
      const broken = new Error(`EACCES: permission denied, open '${join(dir, "records.sqlite")}'`);
      service.services.records.list = () => Promise.reject(broken);
      const answer = await service.ready();
      expect(answer).toEqual({ ready: false, checks: expect.objectContaining({ store: "down" }) });
      expect(JSON.stringify(answer)).not.toContain(dir);
      expect(logged).toContain(broken);
    } finally {
      await service.stop(5_000);
    }
  });
});
