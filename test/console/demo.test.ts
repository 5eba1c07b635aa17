import { spawn } from "node:child_process";
import { afterAll, describe, expect, it, vi } from "vitest";
import { tempDir } from "../builders.ts";

/**
 * `vigil demo --console`: after the walk-through it prints the console's address and the key
 * pair to sign in with, and leaves the console there, on the demo's data, until stopped.
 */
describe("vigil demo --console", () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  });

  it("prints where the console is and how to sign in, and serves it on the demo's data until stopped", async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ["bin/vigil.mjs", "demo", "--data-dir", dir, "--console", "--port", "0", "--rate", "1"], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let stdout = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const printed = await vi.waitFor(
      () => {
        const m = /The console: (http:\/\/127\.0\.0\.1:\d+)\/console \(sign in with access key ID (\S+) and secret (\S+)\)\./.exec(stdout);
        if (!m) throw new Error("not printed yet");
        return { url: m[1]!, id: m[2]!, secret: m[3]! };
      },
      { timeout: 60_000, interval: 200 },
    );

    const page = await fetch(`${printed.url}/console`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<script type="module" src="\/console\/assets\/main-[A-Z0-9]+\.js">/);
    const signIn = await fetch(`${printed.url}/console/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ AccessKeyId: printed.id, SecretAccessKey: printed.secret }) });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    const { CsrfToken } = (await signIn.json()) as { CsrfToken: string };
    const call = (operation: string, body: unknown) => fetch(`${printed.url}/console/api/${operation}`, { method: "POST", headers: { "content-type": "application/json", cookie, "x-vigil-csrf": CsrfToken }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<Record<string, unknown>>);
    const { AnomalyDetectorSummaryList: detectors } = (await call("ListAnomalyDetectors", {})) as { AnomalyDetectorSummaryList: { AnomalyDetectorArn: string; AnomalyDetectorName: string }[] };
    expect(detectors.map((d) => d.AnomalyDetectorName)).toEqual(["shop"]);
    // The demo's incidents are there to open.
    const { AnomalyGroupSummaryList: groups } = (await call("ListAnomalyGroupSummaries", { AnomalyDetectorArn: detectors[0]!.AnomalyDetectorArn, SensitivityThreshold: 0 })) as { AnomalyGroupSummaryList: unknown[] };
    expect(groups.length).toBeGreaterThan(0);

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 90_000);
});
