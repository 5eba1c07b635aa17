import * as z from "./zod.ts";
import { arnAccount, type AlertArn, type AnomalyDetectorArn } from "./ids.ts";
import { Arn, ColumnName, Description, ResourceName, Tags } from "./shapes.ts";
import { onFirstUse } from "./first-use.ts";

/** L4M's default: alerts fire for anomaly groups of severity 70 and above. */
export const DEFAULT_ALERT_THRESHOLD = 70;

/**
 * A secret: a literal, or a reference resolved when sending, in CloudFormation's dynamic
 * reference form: `{{resolve:secretsmanager:<name or ARN>}}` or `{{resolve:ssm:<parameter>}}`.
 */
const SECRET_REF = /^\{\{resolve:(secretsmanager|ssm):([^{}\s]{1,2048})\}\}$/;
export type SecretRef = { readonly source: "secretsmanager" | "ssm"; readonly id: string };
export const secretRefOf = (value: string): SecretRef | undefined => {
  const m = SECRET_REF.exec(value);
  return m ? { source: m[1] as SecretRef["source"], id: m[2]! } : undefined;
};
/**
 * A tenant's secrets are its own: an alert may name only Secrets Manager secrets called
 * `vigil/<its account>/…` and SSM parameters `/vigil/<its account>/…`, never the operator's
 * (`vigil/smtp`) nor another tenant's, though the role that reads them may read all `vigil/`.
 */
export const tenantSecretPrefix = (accountId: string) => `vigil/${accountId}/`;
export const ownsSecret = (ref: SecretRef, accountId: string) => {
  const name = ref.id.replace(/^\//, "");
  return name.startsWith(tenantSecretPrefix(accountId)) && !name.split("/").includes("..");
};
/**
 * Headers the request itself is made of (its host, framing, connection; `Expect`, which
 * changes how its body is sent: the HTTP client's to decide) and Vigil's own delivery and
 * signature headers.
 */
const RESERVED_HEADERS = /^(host|content-length|content-type|transfer-encoding|connection|keep-alive|upgrade|expect|te|trailer|proxy-.*|(x-)?vigil-.*)$/i;

const ACTIONS = ["SNSConfiguration", "LambdaConfiguration", "SlackConfiguration", "WebhookConfiguration", "EmailConfiguration"] as const;

/** Where an alert sends, one case per channel. */
export type Channel =
  | { readonly kind: "sns"; readonly topicArn: string; readonly roleArn: string; readonly format: "LONG_TEXT" | "SHORT_TEXT" | "JSON" }
  | { readonly kind: "lambda"; readonly functionArn: string; readonly roleArn: string }
  | { readonly kind: "slack"; readonly webhookUrl: string }
  | { readonly kind: "webhook"; readonly url: string; readonly secret?: string; readonly headers?: Readonly<Record<string, string>> }
  | { readonly kind: "email"; readonly to: readonly string[]; readonly from?: string };
export type ChannelKind = Channel["kind"];

export function channelOf(action: Action): Channel {
  if (action.SNSConfiguration) return { kind: "sns", topicArn: action.SNSConfiguration.SnsTopicArn, roleArn: action.SNSConfiguration.RoleArn, format: action.SNSConfiguration.SnsFormat ?? "JSON" };
  if (action.LambdaConfiguration) return { kind: "lambda", functionArn: action.LambdaConfiguration.LambdaArn, roleArn: action.LambdaConfiguration.RoleArn };
  if (action.SlackConfiguration) return { kind: "slack", webhookUrl: action.SlackConfiguration.WebhookUrl };
  if (action.WebhookConfiguration) {
    const { Url, Secret: secret, Headers } = action.WebhookConfiguration;
    const headers = Headers && ownHeaders(Headers);
    return { kind: "webhook", url: Url, ...(secret ? { secret } : {}), ...(headers ? { headers } : {}) };
  }
  const email = action.EmailConfiguration!;
  return { kind: "email", to: email.To, ...(email.From ? { from: email.From } : {}) };
}

/**
 * An alert's own headers without the reserved ones: an alert stored before a name became
 * reserved (`Expect` and `Vigil-…` were not, once) keeps it in its record, and is sent without it.
 */
function ownHeaders(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const names = Object.keys(headers);
  if (!names.some((n) => RESERVED_HEADERS.test(n))) return headers;
  return Object.fromEntries(names.filter((n) => !RESERVED_HEADERS.test(n)).map((n) => [n, headers[n]!]));
}

/** The references in an action that name a secret outside its tenant's own. */
export function foreignSecrets(action: Action, accountId: string): string[] {
  const values = [action.SlackConfiguration?.WebhookUrl, action.WebhookConfiguration?.Secret, ...Object.values(action.WebhookConfiguration?.Headers ?? {})];
  return values.filter((v): v is string => {
    const ref = v === undefined ? undefined : secretRefOf(v);
    return ref !== undefined && !ownsSecret(ref, accountId);
  });
}

/**
 * Who SNS and Lambda actions are sent as. In AWS, as L4M did, as the action's RoleArn:
 * Vigil assumes it with the tenant's account as ExternalId, so AWS itself decides which
 * topics and functions the tenant's role may reach, and Vigil's own role reaches none. The
 * local mode has no STS: its outbox sends as Vigil itself.
 */
export type ActionIdentity = "role" | "vigil";

/**
 * The ARN an SNS or Lambda action names outside its tenant's account, if any. Its RoleArn
 * must be the tenant's own, whoever sends: another tenant's role is refused by STS already
 * (the ExternalId is the caller's account), and is refused here too, before STS is asked.
 * Sent as Vigil itself (local), the topic or function must be the tenant's own as well: Vigil
 * may reach every topic and function of its account, another tenant's and its own among
 * them. Sent as the role, the target is the role's to reach: a topic or function of another
 * account is the tenant's to grant, as in L4M. Checked when the alert is made and again when it sends.
 */
export function foreignArn(channel: Channel, accountId: string, as: ActionIdentity): { readonly part: "role" | "target"; readonly arn: string } | undefined {
  if (channel.kind !== "sns" && channel.kind !== "lambda") return undefined;
  if (arnAccount(channel.roleArn) !== accountId) return { part: "role", arn: channel.roleArn };
  const target = channel.kind === "sns" ? channel.topicArn : channel.functionArn;
  return as === "vigil" && arnAccount(target) !== accountId ? { part: "target", arn: target } : undefined;
}

/** The field of an action naming a role, topic or function outside its tenant's account (see foreignArn), and the ARN it names. */
export function foreignTarget(action: Action, accountId: string, as: ActionIdentity): { readonly field: string; readonly part: "role" | "target"; readonly arn: string } | undefined {
  const foreign = foreignArn(channelOf(action), accountId, as);
  if (!foreign) return undefined;
  const [config, target] = action.SNSConfiguration ? ["SNSConfiguration", "SnsTopicArn"] : ["LambdaConfiguration", "LambdaArn"];
  return { ...foreign, field: `Action.${config}.${foreign.part === "role" ? "RoleArn" : target}` };
}

const ALERT_TYPES = { sns: "SNS", lambda: "LAMBDA", slack: "SLACK", webhook: "WEBHOOK", email: "EMAIL" } as const;
export const alertTypeOf = (action: Action) => ALERT_TYPES[channelOf(action).kind];

const HIDDEN = "****";
const hide = (value: string) => (secretRefOf(value) ? value : HIDDEN);
/** A Slack webhook URL is itself the credential: keep its origin, hide the path. */
const hideUrl = (value: string) => (secretRefOf(value) || !URL.canParse(value) ? value : `${new URL(value).origin}/${HIDDEN}`);
/** A webhook URL's credentials (a password, as `user:password@`, or a user name alone, `token@`, which Basic authorization sends as the credential; a query's values, as `?token=`) hidden; the rest, which names the receiver, kept. */
function hideUrlCredentials(value: string): string {
  if (!URL.canParse(value)) return value;
  const url = new URL(value);
  if (!url.username && !url.password && !url.search) return value;
  if (url.password) url.password = HIDDEN;
  else if (url.username) url.username = HIDDEN;
  if (url.search) url.search = [...url.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=${HIDDEN}`).join("&");
  return url.href;
}

/** The alert as the API returns it and logs may show it: literal secrets replaced, references kept. */
export function redactAlert<T extends { Action: Action }>(alert: T): T {
  const a = alert.Action;
  const webhook = a.WebhookConfiguration;
  const action: Action = {
    ...a,
    ...(a.SlackConfiguration ? { SlackConfiguration: { WebhookUrl: hideUrl(a.SlackConfiguration.WebhookUrl) } } : {}),
    ...(webhook
      ? {
          WebhookConfiguration: {
            Url: hideUrlCredentials(webhook.Url),
            ...(webhook.Secret ? { Secret: hide(webhook.Secret) } : {}),
            ...(webhook.Headers ? { Headers: Object.fromEntries(Object.keys(webhook.Headers).map((k) => [k, hide(webhook.Headers![k]!)])) } : {}),
          },
        }
      : {}),
  };
  return { ...alert, Action: action };
}



export interface Alert extends CreateAlertRequest {
  readonly AlertArn: AlertArn;
  readonly AnomalyDetectorArn: AnomalyDetectorArn;
  readonly AlertSensitivityThreshold: number;
  readonly AlertType: "SNS" | "LAMBDA" | "SLACK" | "WEBHOOK" | "EMAIL";
  readonly AlertStatus: "ACTIVE" | "INACTIVE";
  readonly CreationTime: string;
  readonly LastModificationTime: string;
}

/** An alert's requests and their parts, built on first use: a function that parses no alert request builds none (see onFirstUse). */
const schemas = onFirstUse(() => {
  const SNSConfiguration = z.strictObject({
    RoleArn: Arn,
    SnsTopicArn: Arn,
    SnsFormat: z.optional(z.enum(["LONG_TEXT", "SHORT_TEXT", "JSON"])),
  });
  const LambdaConfiguration = z.strictObject({ RoleArn: Arn, LambdaArn: Arn });

  const Secret = z.string().check(z.minLength(1), z.maxLength(4096));
  const HttpUrl = z.string().check(z.maxLength(2048), z.refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), "must be an http(s) URL"));
  const UrlOrRef = z.union([HttpUrl, Secret.check(z.regex(SECRET_REF, "must be an http(s) URL or a {{resolve:…}} reference"))]);
  const HeaderName = z.string().check(z.regex(/^[A-Za-z0-9-]{1,64}$/, "is not an HTTP header name"), z.refine((n) => !RESERVED_HEADERS.test(n), "is a header Vigil sets itself"));
  const Email = z.email();

  /** Vigil's channels beside L4M's two. */
  const SlackConfiguration = z.strictObject({ WebhookUrl: UrlOrRef });
  const WebhookConfiguration = z.strictObject({
    Url: HttpUrl,
    /** Key of the HMAC-SHA256 signature the receiver checks. */
    Secret: z.optional(Secret),
    // What Node can send as a header value (tab, printable Latin-1): anything else would be refused when sending, so it is refused when the alert is made.
    Headers: z.optional(
      z
        .record(HeaderName, z.string().check(z.maxLength(1024), z.regex(/^[\t\x20-\x7e\x80-\xff]*$/, "may hold only tabs and printable Latin-1 characters")))
        .check(
          z.refine((h) => Object.keys(h).length <= 10, "may hold 10 headers at most"),
          z.refine((h) => new Set(Object.keys(h).map((n) => n.toLowerCase())).size === Object.keys(h).length, "names a header twice"),
        ),
    ),
  });
  const EmailConfiguration = z.strictObject({ To: z.array(Email).check(z.minLength(1), z.maxLength(10)), From: z.optional(Email) });

  const Action = z
    .strictObject({
      SNSConfiguration: z.optional(SNSConfiguration),
      LambdaConfiguration: z.optional(LambdaConfiguration),
      SlackConfiguration: z.optional(SlackConfiguration),
      WebhookConfiguration: z.optional(WebhookConfiguration),
      EmailConfiguration: z.optional(EmailConfiguration),
    })
    .check(z.refine((a) => ACTIONS.filter((k) => a[k]).length === 1, `must hold exactly one of ${ACTIONS.join(", ")}`));

  const AlertFilters = z.strictObject({
    MetricList: z.optional(z.array(z.string().check(z.maxLength(256), z.regex(/^[a-zA-Z0-9][a-zA-Z0-9\-_]*$/))).check(z.minLength(1), z.maxLength(5))),
    DimensionFilterList: z.optional(z.array(z.strictObject({ DimensionName: ColumnName, DimensionValueList: z.array(z.string().check(z.maxLength(1024))).check(z.minLength(1), z.maxLength(10)) })).check(z.minLength(1), z.maxLength(5))),
  });

  const CreateAlertRequest = z.strictObject({
    AlertName: ResourceName,
    AlertSensitivityThreshold: z.optional(z.int().check(z.minimum(0), z.maximum(100))),
    AlertDescription: z.optional(Description),
    AnomalyDetectorArn: Arn,
    Action,
    Tags: z.optional(Tags),
    AlertFilters: z.optional(AlertFilters),
  });

  const UpdateAlertRequest = z.strictObject({
    AlertArn: Arn,
    AlertDescription: z.optional(Description),
    AlertSensitivityThreshold: z.optional(z.int().check(z.minimum(0), z.maximum(100))),
    Action: z.optional(Action),
    AlertFilters: z.optional(AlertFilters),
  });
  return { Action, AlertFilters, CreateAlertRequest, UpdateAlertRequest };
});

export const Action = z.lazy(() => schemas().Action);
export const AlertFilters = z.lazy(() => schemas().AlertFilters);
export const CreateAlertRequest = z.lazy(() => schemas().CreateAlertRequest);
export const UpdateAlertRequest = z.lazy(() => schemas().UpdateAlertRequest);
export type Action = z.infer<typeof Action>;
export type AlertFilters = z.infer<typeof AlertFilters>;
export type CreateAlertRequest = z.infer<typeof CreateAlertRequest>;
