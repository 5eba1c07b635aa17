import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadServeConfig, quotasOf } from "../../../../shared/runtime/service/config.ts";
import { lockDataDir } from "../../../../shared/runtime/service/lock.ts";
import { ConflictException, ValidationException } from "../../../../shared/model/errors.ts";
import { tempDir } from "../../../builders.ts";

describe("vigil serve's settings", () => {
  it("reads the file, then the environment over it, then the flags over both", async () => {
    const dir = await tempDir();
    const file = join(dir, "vigil.config.json");
    await writeFile(file, JSON.stringify({ port: 9000, dataDir: "from-file", dataRoots: { default: ["/srv/file"] }, drainSeconds: 5, quotas: { detectorsPerAccount: 50, seriesPerMetricSet: 200_000, bytesPerInterval: 1_073_741_824 } }));
    const config = loadServeConfig({ file, env: { VIGIL_DATA_DIR: "from-env", VIGIL_DATA_ROOTS: "default=/srv/a:/srv/b; team-a=/srv/t", VIGIL_TENANTS: "team-a:TEAMAKEY01:a-long-enough-secret" }, flags: { port: 9100, host: undefined } });
    expect(config).toMatchObject({ port: 9100, host: "127.0.0.1", dataDir: "from-env", dataRoots: { default: ["/srv/a", "/srv/b"], "team-a": ["/srv/t"] }, drainSeconds: 5, tenants: [{ name: "team-a", accessKeyId: "TEAMAKEY01" }] });
    // --data-root replaces the default tenant's roots alone, whether the others' come from the environment or the file.
    const flagged = { dataRoots: { default: ["/srv/flag"] } };
    expect(loadServeConfig({ file, env: { VIGIL_DATA_ROOTS: "team-a=/srv/t" }, flags: flagged }).dataRoots).toEqual({ default: ["/srv/flag"], "team-a": ["/srv/t"] });
    expect(loadServeConfig({ file, env: {}, flags: flagged }).dataRoots).toEqual({ default: ["/srv/flag"] });
    expect(quotasOf(config)).toMatchObject({ detectorsPerAccount: 50, alertsPerDetector: 10, seriesPerMetricSet: { PT5M: 200_000, P1D: 200_000 }, bytesPerInterval: { PT1M: 1_073_741_824, PT1H: 1_073_741_824 } });
    // A history holds 16 intervals' bytes, however the interval's were raised; or its own, when given.
    expect(quotasOf(config).bytesPerHistory).toMatchObject({ PT1M: 16 * 1_073_741_824, PT1H: 16 * 1_073_741_824 });
    expect(quotasOf({ ...config, quotas: { bytesPerInterval: 1_073_741_824, bytesPerHistory: 5_000_000_000 } }).bytesPerHistory).toMatchObject({ PT5M: 5_000_000_000 });
    expect(loadServeConfig({ env: {} , file: undefined }).port).toBe(8087);
  });

  it("refuses an unknown or misspelt key, a bad value, a file that is not JSON, and one other users can read that holds a secret", async () => {
    const dir = await tempDir();
    const file = join(dir, "vigil.config.json");
    const refusal = (env: NodeJS.ProcessEnv = {}) => {
      try {
        loadServeConfig({ file, env });
      } catch (e) {
        return e as ValidationException;
      }
      throw new Error("accepted");
    };
    await writeFile(file, JSON.stringify({ prot: 9000 }));
    expect(refusal().message).toMatch(/prot/);
    await writeFile(file, JSON.stringify({ port: 70000, smtp: { url: "http://mail" } }), { mode: 0o600 });
    await chmod(file, 0o600);
    expect(refusal().fields.map((f) => f.Name)).toEqual(["port", "smtp.url"]);
    expect(refusal({ VIGIL_PORT: "notanumber" }).fields.map((f) => f.Name)).toContain("port");
    expect(refusal({ VIGIL_DATA_ROOTS: "/srv/a" }).message).toMatch(/VIGIL_DATA_ROOTS entry '\/srv\/a' is not tenant=folder/);
    expect(refusal({ VIGIL_DATA_ROOTS: "a=/x;a=/y" }).message).toMatch(/names tenant a twice/);
    await writeFile(file, JSON.stringify({ dataRoots: ["/srv/a"] }));
    expect(refusal().fields.map((f) => f.Name)).toEqual(["dataRoots"]);
    await writeFile(file, "{ port: 1 }");
    expect(refusal().message).toMatch(/is not JSON/);
    await writeFile(file, JSON.stringify({ linkKey: "k".repeat(40) }));
    await chmod(file, 0o644);
    expect(refusal().message).toMatch(/other users may read it: chmod 600/);
    await chmod(file, 0o600);
    expect(loadServeConfig({ file, env: {} }).linkKey).toBe("k".repeat(40));
    expect(() => loadServeConfig({ file: join(dir, "missing.json"), env: {} })).toThrow(/Cannot read the config file/);
  });

  it("refuses a file that is not JSON without quoting its text: a secret there, a quote left out, stays out of the terminal and the logs", async () => {
    const file = join(await tempDir(), "vigil.config.json");
    for (const text of ['{"secretAccessKey": TOPSECRETabcdefghij}', '{"linkKey": "k", "secretAccessKey": xTOPSECRETabcdefghij"}', "TOPSECRETabcdefghij"]) {
      await writeFile(file, text, { mode: 0o600 });
      const refused = (() => {
        try {
          loadServeConfig({ file, env: {} });
        } catch (e) {
          return e as ValidationException;
        }
        throw new Error("accepted");
      })();
      expect(refused.message, text).toMatch(/is not JSON/);
      expect(refused.message, text).not.toMatch(/TOPSEC/);
    }
  });

  it("takes the metrics token from the file (a secret: the file must be its owner's alone) or VIGIL_METRICS_TOKEN, 32 printable characters at least", async () => {
    const dir = await tempDir();
    const file = join(dir, "vigil.config.json");
    const token = "t".repeat(32);
    await writeFile(file, JSON.stringify({ metricsToken: token }));
    await chmod(file, 0o644);
    expect(() => loadServeConfig({ file, env: {} })).toThrow(/other users may read it: chmod 600/);
    await chmod(file, 0o600);
    expect(loadServeConfig({ file, env: {} }).metricsToken).toBe(token);
    expect(loadServeConfig({ file: undefined, env: { VIGIL_METRICS_TOKEN: `${token}-env` } }).metricsToken).toBe(`${token}-env`);
    for (const bad of ["t".repeat(31), `${"t".repeat(32)} x`, `${"t".repeat(32)}\n`, "t".repeat(257)]) {
      expect(() => loadServeConfig({ file: undefined, env: { VIGIL_METRICS_TOKEN: bad } }), JSON.stringify(bad)).toThrow(/metricsToken/);
    }
  });
});

describe("the data directory's lock", () => {
  it("lets one vigil serve hold a data directory, and takes over a lock whose process is gone", async () => {
    const dir = await tempDir();
    const lock = join(dir, "serve.lock");
    const release = lockDataDir(lock);
    await writeFile(lock, "1"); // pid 1 is alive: another serve holds it
    expect(() => lockDataDir(lock)).toThrow(ConflictException);
    await writeFile(lock, "999999999"); // no such process
    const again = lockDataDir(lock);
    again();
    release();
  });
});
