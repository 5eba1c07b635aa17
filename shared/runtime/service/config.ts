import { readFileSync, statSync } from "node:fs";
import * as z from "zod";
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
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1 to 64 letters, digits, - or _"),
  accessKeyId: z.string().regex(/^[A-Za-z0-9]{8,128}$/, "must be 8 to 128 letters and digits"),
  secretAccessKey: z.string().min(16, "must be at least 16 characters").max(256),
  accountId: z.string().regex(/^\d{12}$/, "must be 12 digits").optional(),
});
export type TenantConfig = z.infer<typeof Tenant>;

const SmtpUrl = z.string().regex(/^(smtps?:\/\/.+|\{\{resolve:(secretsmanager|ssm):[^{}\s]+\}\})$/, "must be an smtp(s):// URL");

export const ServeConfig = z.strictObject({
  port: z.number().int().min(0).max(65535).default(8087),
  host: z.string().min(1).default("127.0.0.1"),
  dataDir: z.string().min(1).default("vigil-data"),
  /**
   * The folders each tenant may read metric files from (data-roots.ts), by tenant name:
   * `{ "default": ["/srv/metrics"], "team-a": ["/srv/team-a"] }`. The default tenant reads
   * `<dataDir>/files` unless given others; another tenant reads no local file unless granted one.
   */
  dataRoots: DataRootsSettings.optional(),
  /** Base URL people reach `vigil serve` at, for the links in alert messages. */
  publicUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Key that signs those links (32+ characters); one is made and kept in the data directory when none is given. */
  linkKey: z.string().min(32, "must be at least 32 characters").optional(),
  smtp: z.strictObject({ url: SmtpUrl, from: z.string().min(3).max(320).optional() }).optional(),
  /** The default tenant's key (else VIGILLOCALKEY / vigil-local-secret, for trying it out). */
  accessKeyId: z.string().regex(/^[A-Za-z0-9]{8,128}$/, "must be 8 to 128 letters and digits").optional(),
  secretAccessKey: z.string().min(16, "must be at least 16 characters").max(256).optional(),
  tenants: z.array(Tenant).optional(),
  /**
   * The tenants whose Slack and webhook URLs may reach private, loopback and link-local
   * addresses, by name. The default tenant's always may (it is the operator's); any other
   * tenant's are held to public addresses, as in AWS, unless named here.
   */
  privateTargets: z.array(Tenant.shape.name).max(1000).optional(),
  /** Quotas over L4M's (model/quotas.ts). */
  quotas: z
    .strictObject({
      detectorsPerAccount: z.number().int().positive().optional(),
      alertsPerDetector: z.number().int().positive().optional(),
      measuresPerMetricSet: z.number().int().positive().max(100).optional(),
      dimensionsPerMetricSet: z.number().int().positive().max(100).optional(),
      seriesPerMetricSet: z.number().int().positive().optional(),
      bytesPerInterval: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
      bytesPerHistory: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
      valuesPerBackTest: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    })
    .optional(),
  /**
   * What a scraper of `GET /metrics` shows (`Authorization: Bearer <token>`). Without one the
   * figures are answered to anyone only while the default tenant alone can call; they count
   * every tenant's work, so once others can, /metrics is refused until a token is set.
   */
  metricsToken: z.string().regex(/^[\x21-\x7e]{32,256}$/, "must be 32 to 256 printable characters, no spaces").optional(),
  /** How long SIGTERM waits for work under way before cutting it (seconds). */
  drainSeconds: z.number().int().min(1).max(600).default(30),
  /** ISO-8601 duration between reminders of a group that lasts, e.g. PT4H. */
  repeatInterval: z.string().regex(/^PT?(\d+[DHMS])+$/, "must be an ISO-8601 duration such as PT4H").optional(),
  /** Where CloudWatch sources are read (AWS credentials from the usual chain). */
  cloudWatch: z.strictObject({ region: z.string().min(1), endpoint: z.url().optional() }).optional(),
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
  VIGIL_LINK_SECRET: (v) => ({ linkKey: v }),
  VIGIL_ACCESS_KEY_ID: (v) => ({ accessKeyId: v }),
  VIGIL_SECRET_ACCESS_KEY: (v) => ({ secretAccessKey: v }),
  VIGIL_METRICS_TOKEN: (v) => ({ metricsToken: v }),
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
      throw new ValidationException(`The config file ${path} is not JSON: ${(e as Error).message}`);
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
