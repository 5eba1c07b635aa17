import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { LookoutMetricsClient } from "@aws-sdk/client-lookoutmetrics";
import { freePort } from "../servers.ts";

/** The built CLI, as a user runs it. */
const VIGIL = "bin/vigil.mjs";

/** A tenant's key pair, as VIGIL_TENANTS names it. */
export interface Key {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export const DEFAULT_KEY: Key = { accessKeyId: "VIGILLOCALKEY", secretAccessKey: "vigil-local-secret" };

/** `vigil serve` in a process of its own, with the environment and flags given; killed when the test process ends. */
export async function startServe(dataDir: string, options: { env?: Record<string, string>; args?: string[] } = {}): Promise<{ url: string; child: ChildProcess; stderr: () => string; stop: () => void }> {
  const port = await freePort();
  const child = spawn(process.execPath, [VIGIL, "serve", "--port", String(port), "--data-dir", dataDir, ...(options.args ?? [])], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } });
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", stop);
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", () => {
      if (stderr.includes("L4M's API at")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`vigil serve exited with ${code}: ${stderr}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child, stderr: () => stderr, stop };
}

/** A `vigil` command run to its end. */
export function runVigil(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VIGIL, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The official L4M client, signing as `key`, pointed at `url`. */
export const l4m = (url: string, key: Key = DEFAULT_KEY) => new LookoutMetricsClient({ endpoint: url, region: "us-east-1", credentials: key, maxAttempts: 1 });
