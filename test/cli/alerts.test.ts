import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, tenantsFromConfig } from "../../cli/serve.ts";
import { verifySignature } from "../../shared/channels/webhook/signature.ts";
import { deadLetterFileName } from "../../shared/store/local-dead-letters.ts";
import { localAt, tempDir } from "../builders.ts";
import { HttpReceiver } from "../receivers/http-receiver.ts";
import { SmtpReceiver } from "../receivers/smtp-receiver.ts";

/** Runs the built CLI without blocking this process, whose receivers must answer it. */
async function vigil(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["bin/vigil.mjs", ...args], { encoding: "utf8", timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("vigil demo sends its alerts where a newcomer asks", () => {
  let http: HttpReceiver;
  let smtp: SmtpReceiver;
  beforeAll(async () => {
    http = await HttpReceiver.start();
    smtp = await SmtpReceiver.start();
  });
  afterAll(async () => {
    await http.stop();
    await smtp.stop();
  });

  it("to Slack, a signed webhook and email: each incident told when it starts and when it ends, once", async () => {
    const dir = await tempDir();
    const r = await vigil(["demo", "--data-dir", dir, "--slack-webhook", `${http.url}/slack`, "--webhook", `${http.url}/hook`, "--webhook-secret", "demo-secret", "--email", "oncall@example.com", "--smtp", smtp.url]);
    expect(r.code, r.stderr).toBe(0);
    const hooks = http.requests.filter((q) => q.path === "/hook");
    const bodies = hooks.map((q) => JSON.parse(q.body) as { reason: string; anomalyGroup: { id: string } });
    const groups = [...new Set(bodies.map((b) => b.anomalyGroup.id))];
    expect(groups).toHaveLength(3); // the three injected incidents, each one group
    for (const g of groups) expect(bodies.filter((b) => b.anomalyGroup.id === g).map((b) => b.reason)).toEqual(["first", "ended"]);
    // Checked as docs/webhooks.md's receiver does, on its own clock: the demo's simulated 2021 does not sign.
    for (const q of hooks) expect(verifySignature("demo-secret", { signature: q.headers["vigil-signature"] as string, timestamp: q.headers["vigil-timestamp"] as string }, q.body, q.receivedAt / 1000)).toBe(true);
    expect(http.requests.filter((q) => q.path === "/slack")).toHaveLength(hooks.length);
    expect(smtp.mails).toHaveLength(hooks.length);
    expect(smtp.mails.map((m) => m.subject)).toContainEqual(expect.stringMatching(/^\[(HIGH|SEVERE|CRITICAL)\] shop: revenue ▼ −\d+(\.\d)?% in marketplace=de \(new\)$/));
    expect(r.stdout).toMatch(/Alerts: 24 message\(s\) sent/);
    const sns = (await readFile(join(dir, "demo", "outbox", "sns.jsonl"), "utf8")).trim().split("\n");
    expect(sns).toHaveLength(hooks.length);

    // The links in a message open, without AWS credentials, on `vigil serve` over the same data.
    const links = (JSON.parse(hooks[0]!.body) as { links: { anomalyGroup: string; feedback: string } }).links;
    const services = localAt(join(dir, "demo"), Date.now);
    const { server, url } = await serve({ port: 0, services, tenants: await tenantsFromConfig({ dataDir: join(dir, "demo") }) });
    try {
      const at = (link: string) => link.replace("http://localhost:8087", url);
      const group = await fetch(at(links.anomalyGroup));
      expect(group.status).toBe(200);
      expect(((await group.json()) as { AnomalyGroup: { AnomalyGroupId: string } }).AnomalyGroup.AnomalyGroupId).toBe(groups[0]);
      // A browser (a person who clicked "Details") reads a page, with the way into the console.
      const shown = await fetch(at(links.anomalyGroup), { headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" } });
      expect(shown.headers.get("content-type")).toMatch(/^text\/html/);
      expect([shown.headers.get("vary"), shown.headers.get("cache-control"), shown.headers.get("referrer-policy")]).toEqual(["Accept", "private, no-store", "no-referrer"]);
      // A client that refuses HTML gets the JSON.
      expect((await fetch(at(links.anomalyGroup), { headers: { accept: "text/html;q=0, application/json" } })).headers.get("content-type")).toBe("application/json");
      const html = await shown.text();
      expect(html).toMatch(/<h1>Anomaly group, severity \d+(\.\d+)?<\/h1>/);
      expect(html).toContain("marketplace=");
      const inConsole = /<a href="([^"]+)">Open it in the console<\/a>/.exec(html)![1]!.replaceAll("&amp;", "&");
      expect(new URL(inConsole, url).searchParams.get("group")).toBe(groups[0]);
      expect((await fetch(new URL(inConsole, url))).status).toBe(200);
      const form = await fetch(at(links.feedback));
      const page = await form.text();
      expect(page).toContain("Not an anomaly");
      const seriesId = /name="TimeSeriesId" value="([0-9a-f]+)"/.exec(page)![1]!;
      const posted = await fetch(at(links.feedback), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `TimeSeriesId=${seriesId}&IsAnomaly=false` });
      expect(await posted.text()).toContain("noted as not an anomaly");
      const kept = await services.records.list<{ TimeSeriesId: string; IsAnomaly: boolean; AnomalyGroupId: string }>("feedback");
      expect(kept).toMatchObject([{ AnomalyGroupId: groups[0], TimeSeriesId: seriesId, IsAnomaly: false }]);
      expect((await fetch(at(links.feedback).replace(/signature=[0-9a-f]{4}/, "signature=0000"))).status).toBe(403);
      expect((await fetch(at(links.feedback).replace(groups[0]!, groups[1]!))).status).toBe(403);
      expect((await fetch(at(links.feedback).split("?")[0]!)).status).toBe(403);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 120_000);

  it("parks what a channel refuses, and vigil replay sends it once the channel is back", async () => {
    const dir = await tempDir();
    http.answer(...Array.from({ length: 3 * 6 }, () => ({ status: 503 })));
    const r = await vigil(["demo", "--data-dir", dir, "--webhook", `${http.url}/down`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/parked .*HTTP 503 — `vigil replay --data-dir .*` sends it again/);
    // One file per account, the demo's one.
    const files = await readdir(join(dir, "demo", "dead-letters"));
    expect(files).toHaveLength(1);
    const parked = (await readFile(join(dir, "demo", "dead-letters", files[0]!), "utf8")).split("\n").filter((l) => l.trim());
    expect(parked).toHaveLength(6);
    // Still refused (not a status worth retrying): each stays parked, and the operator reads why.
    http.answer(...Array.from({ length: 6 }, () => ({ status: 400 })));
    const refused = await vigil(["replay", "--data-dir", join(dir, "demo")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/replay: 0 delivery\(ies\) sent or found already sent, 6 still parked/);
    expect(refused.stderr.split("\n").filter((l) => /^ {2}shop-severe-webhook\/.*: .*HTTP 400.* \(1 attempt\)$/.test(l))).toHaveLength(6);
    const before = http.requests.filter((q) => q.path === "/down").length;
    // Another account's file cannot be read (a folder where it should be): its account stops, the demo's is replayed, and the operator is told both.
    const broken = join(dir, "demo", "dead-letters", deadLetterFileName("999999999999"));
    await mkdir(broken);
    const replay = await vigil(["replay", "--data-dir", join(dir, "demo")]);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toMatch(/replay: 6 delivery\(ies\) sent or found already sent, 0 tried and still parked; the replay did not finish for these accounts/);
    expect(replay.stderr).toMatch(/account 999999999999: .*EISDIR/);
    expect(http.requests.filter((q) => q.path === "/down").length - before).toBe(6);
    await rm(broken, { recursive: true });
    expect((await vigil(["replay", "--data-dir", join(dir, "demo")])).stderr).toMatch(/replay: 0 .* 0 still parked/);
  }, 120_000);
});

describe("vigil silence", () => {
  it("refuses a data directory that holds no Vigil data, and makes none: a mistyped --data-dir is not an empty store", async () => {
    const dir = join(await tempDir(), "vigil-dta");
    for (const args of [["silence", "list"], ["silence", "add", "--measure", "m", "--for", "PT1H", "--reason", "x"], ["silence", "expire", "00000000-0000-0000-0000-000000000000"], ["replay"]]) {
      const r = await vigil([...args, "--data-dir", dir]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain(`vigil: ValidationException: ${dir} holds no Vigil data (no state/records.db)`);
    }
    expect(existsSync(dir)).toBe(false);
  });

  it("adds, lists and expires silences, and refuses a silence without a matcher or an end", async () => {
    const dir = await tempDir();
    // A data directory vigil serve has used: its records are there.
    await localAt(dir, Date.now).records.list("silences", "");
    const added = await vigil(["silence", "add", "--data-dir", dir, "--measure", "revenue", "--dimension", "marketplace=de", "--for", "PT2H", "--reason", "payment provider maintenance"]);
    expect(added.code, added.stderr).toBe(0);
    const silence = JSON.parse(added.stdout) as { SilenceId: string; EndsAt: string; StartsAt: string };
    expect(Date.parse(silence.EndsAt) - Date.parse(silence.StartsAt)).toBe(2 * 3_600_000);
    expect((await vigil(["silence", "list", "--data-dir", dir])).stdout).toContain("payment provider maintenance");
    const expired = await vigil(["silence", "expire", silence.SilenceId, "--data-dir", dir]);
    expect(Date.parse(JSON.parse(expired.stdout).EndsAt)).toBeLessThan(Date.parse(silence.EndsAt));
    const bad = await vigil(["silence", "add", "--data-dir", dir, "--for", "PT1H", "--reason", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/must name a detector, a measure or dimension values/);
    expect((await vigil(["silence", "add", "--data-dir", dir, "--measure", "m", "--reason", "x"])).stderr).toMatch(/one of --for <duration> and --until <time>/);
  });
});
