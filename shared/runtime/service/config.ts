import { readFileSync, statSync } from "node:fs";
import * as z from "../../model/zod.ts";
import { ValidationException } from "../../model/errors.ts";
import { historyBytesOf, L4M_QUOTAS, type Quotas } from "../../model/quotas.ts";
import { parseOrThrow } from "../../model/validate.ts";
import { DataRootsSettings, dataRootsFromText } from "../data-roots.ts";

/**
 * `vigil serve`'s settings: a JSON file (vigil.config.json by default), checked strictly
 * (an unknown or misspelt key is an error, not ignored), then the environment over it,
 * then the command line's flags over both.
 */
const Tenant = z.strictObject({
  name: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1 to 64 letters, digits, - or _")),
  accessKeyId: z.string().check(z.regex(/^[A-Za-z0-9]{8,128}$/, "must be 8 to 128 letters and digits")),
  secretAccessKey: z.string().check(z.minLength(16, "must be at least 16 characters"), z.maxLength(256)),
  accountId: z.optional(z.string().check(z.regex(/^\d{12}$/, "must be 12 digits"))),
});
export type TenantConfig = z.infer<typeof Tenant>;

const SmtpUrl = z.string().check(z.regex(/^(smtps?:\/\/.+|\{\{resolve:(secretsmanager|ssm):[^{}\s]+\}\})$/, "must be an smtp(s):// URL"));

export const ServeConfig = z.strictObject({
  port: z._default(z.int().check(z.minimum(0), z.maximum(65535)), 8087),
  host: z._default(z.string().check(z.minLength(1)), "127.0.0.1"),
  dataDir: z._default(z.string().check(z.minLength(1)), "vigil-data"),
  /**
   * The folders each tenant may read metric files from (data-roots.ts), by tenant name:
   * `{ "default": ["/srv/metrics"], "team-a": ["/srv/team-a"] }`. The default tenant reads
   * `<dataDir>/files` unless given others; another tenant reads no local file unless granted one.
   */
  dataRoots: z.optional(DataRootsSettings),
  /** Base URL people reach `vigil serve` at, for the links in alert messages; its host is one the server answers. */
  publicUrl: z.optional(z.url({ protocol: /^https?$/ })),
  /**
   * Host names the server answers besides its address (and `localhost` on loopback) and the
   * public URL's host: a request whose Host header names none of them is refused (421), as a
   * page rebinding its own domain to this address sends.
   */
  allowedHosts: z.optional(z.array(z.string().check(z.regex(/^([A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}\.?$|^\[[0-9A-Fa-f:.]+\]$/, "must be a host name or an IP address, without a port"))).check(z.maxLength(100))),
  /** Key that signs those links (32+ characters); one is made and kept in the data directory when none is given. */
  linkKey: z.optional(z.string().check(z.minLength(32, "must be at least 32 characters"))),
  smtp: z.optional(z.strictObject({ url: SmtpUrl, from: z.optional(z.string().check(z.minLength(3), z.maxLength(320))) })),
  /** The default tenant's key (else VIGILLOCALKEY / vigil-local-secret, for trying it out). */
  accessKeyId: z.optional(z.string().check(z.regex(/^[A-Za-z0-9]{8,128}$/, "must be 8 to 128 letters and digits"))),
  secretAccessKey: z.optional(z.string().check(z.minLength(16, "must be at least 16 characters"), z.maxLength(256))),
  tenants: z.optional(z.array(Tenant)),
  /**
   * The tenants whose Slack and webhook URLs may reach private, loopback and link-local
   * addresses, by name. The default tenant's always may (it is the operator's); any other
   * tenant's are held to public addresses, as in AWS, unless named here.
   */
  privateTargets: z.optional(z.array(Tenant.shape.name).check(z.maxLength(1000))),
  /** Quotas over L4M's (model/quotas.ts). */
  quotas: z.optional(
    z.strictObject({
      detectorsPerAccount: z.optional(z.int().check(z.positive())),
      alertsPerDetector: z.optional(z.int().check(z.positive())),
      measuresPerMetricSet: z.optional(z.int().check(z.positive(), z.maximum(100))),
      dimensionsPerMetricSet: z.optional(z.int().check(z.positive(), z.maximum(100))),
      seriesPerMetricSet: z.optional(z.int().check(z.positive())),
      bytesPerInterval: z.optional(z.int().check(z.positive(), z.maximum(Number.MAX_SAFE_INTEGER))),
      bytesPerHistory: z.optional(z.int().check(z.positive(), z.maximum(Number.MAX_SAFE_INTEGER))),
      valuesPerBackTest: z.optional(z.int().check(z.positive(), z.maximum(Number.MAX_SAFE_INTEGER))),
    }),
  ),
  /**
   * What a scraper of `GET /metrics` shows (`Authorization: Bearer <token>`). Without one the
   * figures are answered to anyone only while the default tenant alone can call; they count
   * every tenant's work, so once others can, /metrics is refused until a token is set.
   */
  metricsToken: z.optional(z.string().check(z.regex(/^[\x21-\x7e]{32,256}$/, "must be 32 to 256 printable characters, no spaces"))),
  /**
   * Connections one client (an IPv4 address, an IPv6 /64) may hold at once, of the 128 the
   * server takes (32 unless given): raise it behind a reverse proxy, whose connections all come from one address.
   */
  maxConnectionsPerClient: z.optional(z.int().check(z.minimum(1), z.maximum(128))),
  /** How long SIGTERM waits for work under way before cutting it (seconds). */
  drainSeconds: z._default(z.int().check(z.minimum(1), z.maximum(600)), 30),
  /** ISO-8601 duration between reminders of a group that lasts, e.g. PT4H. */
  repeatInterval: z.optional(z.string().check(z.regex(/^PT?(\d+[DHMS])+$/, "must be an ISO-8601 duration such as PT4H"))),
  /** Where CloudWatch sources are read (AWS credentials from the usual chain). */
  cloudWatch: z.optional(z.strictObject({ region: z.string().check(z.minLength(1)), endpoint: z.optional(z.url()) })),
});
export type ServeConfig = z.infer<typeof ServeConfig>;

export const DEFAULT_CONFIG_FILE = "vigil.config.json";

/** The environment's names for the settings it may override. */
const ENV: Readonly<Record<string, (v: string) => Partial<Record<keyof ServeConfig, unknown>>>> = {
  VIGIL_PORT: (v) => ({ port: /^\d+$/.test(v) ? Number(v) : v }),
  VIGIL_HOST: (v) => ({ host: v }),
  VIGIL_DATA_DIR: (v) => ({ dataDir: v }),
  VIGIL_DATA_ROOTS: (v) => ({ dataRoots: dataRootsFromText(v) }),
  VIGIL_PUBLIC_URL: (v) => ({ publicUrl: v }),
  VIGIL_ALLOWED_HOSTS: (v) => ({ allowedHosts: v.split(",").map((h) => h.trim()).filter(Boolean) }),
  VIGIL_LINK_SECRET: (v) => ({ linkKey: v }),
  VIGIL_ACCESS_KEY_ID: (v) => ({ accessKeyId: v }),
  VIGIL_SECRET_ACCESS_KEY: (v) => ({ secretAccessKey: v }),
  VIGIL_METRICS_TOKEN: (v) => ({ metricsToken: v }),
  VIGIL_MAX_CONNECTIONS_PER_CLIENT: (v) => ({ maxConnectionsPerClient: /^\d+$/.test(v) ? Number(v) : v }),
  VIGIL_DRAIN_SECONDS: (v) => ({ drainSeconds: /^\d+$/.test(v) ? Number(v) : v }),
  VIGIL_REPEAT_INTERVAL: (v) => ({ repeatInterval: v }),
  VIGIL_PRIVATE_TARGETS: (v) => ({ privateTargets: v.split(",").map((t) => t.trim()).filter(Boolean) }),
};

/** `VIGIL_TENANTS="a:KEY:secret[:account],…"`, as before the config file. */
function tenantsOfEnv(value: string): TenantConfig[] {
  return value
    .split(",")
    .filter((e) => e.trim())
    .map((entry) => {
      const [name, accessKeyId, secretAccessKey, accountId, ...rest] = entry.trim().split(":");
      if (!name || !accessKeyId || !secretAccessKey || rest.length) throw new ValidationException(`VIGIL_TENANTS entry '${entry.trim().split(":")[0]}:…' is not tenant:accessKeyId:secret[:account]`);
      return { name, accessKeyId, secretAccessKey, ...(accountId !== undefined ? { accountId } : {}) };
    });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * What JSON.parse found wrong, without the text V8 quotes around it (`Unexpected token 'T',
 * ..."Key": TOPSECRETa"... is not valid JSON`): in this file that text may be a secret's,
 * and the message is printed and logged. Its other messages say where, not what.
 */
const jsonFault = (e: Error) => (/ is not valid JSON$/.test(e.message) ? "a value is not JSON (a string must be in double quotes)" : e.message);

/** Whether the file gives away a secret to other users of the machine. */
const holdsSecret = (raw: Record<string, unknown>) => ["linkKey", "secretAccessKey", "tenants", "smtp", "metricsToken"].some((k) => raw[k] !== undefined);

/**
 * Reads the settings: `file` (when it exists; an explicit file must), the environment over
 * it, `flags` over both. A file holding secrets must not be readable by other users.
 */
export function loadServeConfig(options: { file?: string | undefined; env: NodeJS.ProcessEnv; flags?: Partial<Record<keyof ServeConfig, unknown>> }): ServeConfig {
  const path = options.file ?? DEFAULT_CONFIG_FILE;
  let fromFile: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOENT" || options.file) throw new ValidationException(`Cannot read the config file ${path}: ${(e as Error).message}`);
  }
  if (text !== undefined) {
    try {
      fromFile = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new ValidationException(`The config file ${path} is not JSON: ${jsonFault(e as Error)}`);
    }
    if (typeof fromFile !== "object" || fromFile === null || Array.isArray(fromFile)) throw new ValidationException(`The config file ${path} must hold one JSON object`);
    if (holdsSecret(fromFile) && (statSync(path).mode & 0o077) !== 0) throw new ValidationException(`The config file ${path} holds secrets and other users may read it: chmod 600 ${path}`);
  }
  const fromEnv: Record<string, unknown> = {};
  for (const [name, map] of Object.entries(ENV)) if (options.env[name]) Object.assign(fromEnv, map(options.env[name]!));
  if (options.env["VIGIL_SMTP_URL"]) fromEnv["smtp"] = { ...(fromFile["smtp"] as object | undefined), url: options.env["VIGIL_SMTP_URL"], ...(options.env["VIGIL_EMAIL_FROM"] ? { from: options.env["VIGIL_EMAIL_FROM"] } : {}) };
  if (options.env["VIGIL_TENANTS"]) fromEnv["tenants"] = tenantsOfEnv(options.env["VIGIL_TENANTS"]);
  const flags = Object.fromEntries(Object.entries(options.flags ?? {}).filter(([, v]) => v !== undefined));
  const settings: Record<string, unknown> = { ...fromFile, ...fromEnv, ...flags };
  // A flag's data roots (--data-root, the default tenant's) replace that tenant's alone: the others' stay as given (and a malformed value given is reported, not hidden).
  const given = fromEnv["dataRoots"] ?? fromFile["dataRoots"];
  if (flags["dataRoots"] !== undefined && given !== undefined) settings["dataRoots"] = isRecord(given) && isRecord(flags["dataRoots"]) ? { ...given, ...flags["dataRoots"] } : given;
  try {
    return parseOrThrow(ServeConfig, settings, "vigil serve settings");
  } catch (e) {
    if (e instanceof ValidationException) throw new ValidationException(`Bad vigil serve settings (${text !== undefined ? path : "no config file"}, environment, flags): ${e.fields.map((f) => `${f.Name} ${f.Message}`).join("; ")}`, { fields: e.fields });
    throw e;
  }
}

const perFrequency = (n: number) => ({ PT1M: n, PT5M: n, PT10M: n, PT1H: n, P1D: n });

/** The quotas the settings give, over L4M's. */
export function quotasOf(config: ServeConfig): Quotas {
  const q = config.quotas ?? {};
  const series = q.seriesPerMetricSet;
  return {
    ...L4M_QUOTAS,
    ...(q.detectorsPerAccount ? { detectorsPerAccount: q.detectorsPerAccount } : {}),
    ...(q.alertsPerDetector ? { alertsPerDetector: q.alertsPerDetector } : {}),
    ...(q.measuresPerMetricSet ? { measuresPerMetricSet: q.measuresPerMetricSet } : {}),
    ...(q.dimensionsPerMetricSet ? { dimensionsPerMetricSet: q.dimensionsPerMetricSet } : {}),
    ...(q.bytesPerInterval ? { bytesPerInterval: perFrequency(q.bytesPerInterval), bytesPerHistory: historyBytesOf(perFrequency(q.bytesPerInterval)) } : {}),
    ...(q.bytesPerHistory ? { bytesPerHistory: perFrequency(q.bytesPerHistory) } : {}),
    ...(q.valuesPerBackTest ? { valuesPerBackTest: q.valuesPerBackTest } : {}),
    ...(series ? { seriesPerMetricSet: perFrequency(series) } : {}),
  };
}
