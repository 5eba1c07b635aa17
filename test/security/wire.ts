import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { connect, type Socket } from "node:net";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { LookoutMetricsClient } from "@aws-sdk/client-lookoutmetrics";
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY } from "../../cli/serve.ts";
import { freePort } from "../servers.ts";

/** Headers of a request signed as the AWS SDK signs it (its own signer), for `vigil serve` at `url`. */
export async function signedHeaders(url: string, method: string, pathAndQuery: string, body: string, options: { at?: number; accessKeyId?: string; secretAccessKey?: string } = {}): Promise<Record<string, string>> {
  const u = new URL(url);
  const [path = "/", query = ""] = pathAndQuery.split("?", 2);
  const q: Record<string, string> = Object.fromEntries(new URLSearchParams(query));
  const signer = new SignatureV4({ credentials: { accessKeyId: options.accessKeyId ?? DEFAULT_ACCESS_KEY_ID, secretAccessKey: options.secretAccessKey ?? DEFAULT_SECRET_ACCESS_KEY }, region: "us-east-1", service: "lookoutmetrics", sha256: Hash.bind(null, "sha256") });
  const signed = await signer.sign(new HttpRequest({ method, protocol: "http:", hostname: u.hostname, port: Number(u.port), path, query: q, headers: { host: u.host, "content-type": "application/json" }, body }), options.at === undefined ? {} : { signingDate: new Date(options.at) });
  return signed.headers;
}

/** `vigil serve` as a user runs it: the built CLI in a process of its own, with the environment and flags given. */
export async function startVigilServe(dataDir: string, options: { env?: Record<string, string>; args?: string[] } = {}): Promise<{ url: string; child: ChildProcess; stderr: () => string; stop: () => void }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["bin/vigil.mjs", "serve", "--port", String(port), "--data-dir", dataDir, ...(options.args ?? [])], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } });
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

/** A `vigil` command run to its end, in a process of its own. */
export function runVigil(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["bin/vigil.mjs", ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A tenant's key pair. */
export interface Key {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The official L4M client, signing as `key` (the default tenant's unless given), pointed at `url`. */
export const l4m = (url: string, key: Key = { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY }) => new LookoutMetricsClient({ endpoint: url, region: "us-east-1", credentials: key, maxAttempts: 1 });

export interface RawAnswer {
  /** The status line's code, or undefined when the connection closed without an answer. */
  readonly status: number | undefined;
  readonly text: string;
  /** Body bytes written before the answer came or the connection closed. */
  readonly bytesSent: number;
  /** The server closed the connection (after its answer, if any). */
  readonly closed: boolean;
}

/**
 * One HTTP/1.1 exchange on a raw socket: `head` is written, then `bodyBytes` of body in
 * 1 MiB chunks (as fast as the server reads them) until the server answers or closes.
 * `waitMs` bounds the wait for an answer.
 */
export function rawExchange(port: number, head: string, options: { bodyBytes?: number; waitMs?: number; chunked?: boolean } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, "127.0.0.1");
    let text = "";
    let bytesSent = 0;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : undefined, text, bytesSent, closed });
    };
    const timer = setTimeout(() => finish(false), options.waitMs ?? 10_000);
    socket.on("data", (c: Buffer) => {
      text += c.toString("latin1");
      // The answer's head and body are in: stop sending.
      const end = text.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, end));
      if (end >= 0 && text.length >= end + 4 + Number(length?.[1] ?? 0)) finish(/\r\nconnection: close\r\n/i.test(text.slice(0, end)));
    });
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
    const chunk = Buffer.alloc(1 << 20, 0x61);
    const pump = () => {
      while (!done && bytesSent < (options.bodyBytes ?? 0)) {
        const n = Math.min(chunk.length, (options.bodyBytes ?? 0) - bytesSent);
        bytesSent += n;
        const piece = options.chunked ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), chunk.subarray(0, n), Buffer.from("\r\n")]) : chunk.subarray(0, n);
        if (!socket.write(piece)) return void socket.once("drain", pump);
      }
      if (!done && options.chunked && bytesSent >= (options.bodyBytes ?? 0)) socket.write("0\r\n\r\n");
    };
    socket.on("connect", () => {
      socket.write(head);
      pump();
    });
  });
}

/** The peak resident memory of a process, in bytes (Linux). */
export async function peakRss(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}
