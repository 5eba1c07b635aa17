import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { getCanonicalHeaders, prepareRequest, SignatureV4 } from "@smithy/signature-v4";
import { AccessDeniedException } from "../model/errors.ts";

/**
 * AWS Signature Version 4, checked as AWS checks it: the signature is computed again
 * from the request, the signed headers and the caller's secret, and must match. The
 * canonical request is the AWS SDK signer's own (its path escaping, query and header
 * rules); its digests are made with node:crypto, and the signing key, derived from the
 * secret and the day, is kept while the day lasts.
 *
 * Replay protection is AWS's, no more: a request more than five minutes from the server's
 * clock is refused, and the signature binds method, path, query, host and the body's hash,
 * so a captured request can only be sent again as it was, within those five minutes. The
 * same signature twice is accepted, as AWS accepts it: boto3, the AWS CLI and curl sign
 * byte-identical requests when a call repeats within a second (polling a status, deactivate
 * then delete), and a cache of seen signatures refused them. What a repeat can do is what
 * the operation does twice: reads and PutFeedback are idempotent, Create answers
 * ConflictException, Delete ResourceNotFoundException; PutMetricRows with a ClientToken
 * writes the same file again, without one it adds the rows again, as a client's own retry
 * would. Keeping requests from being captured is the job of TLS in front of the server.
 */
export const SIGNING_SERVICE = "lookoutmetrics";
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export interface Principal {
  readonly accessKeyId: string;
  readonly tenant: string;
}

export interface Credential {
  readonly secretAccessKey: string;
  readonly tenant: string;
}

/** A key id's credential, or what an unknown one is checked against (no tenant). */
type Checked = Credential | { readonly secretAccessKey: string; readonly tenant: undefined };

export interface SignedRequest {
  readonly method: string;
  /** The path as sent, still percent-encoded. */
  readonly path: string;
  readonly query: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/**
 * Whether an Authorization header has the shape of this service's Signature V4, nothing more:
 * the key is not looked up, so what it is used for (a body's deadline in `vigil serve`) tells
 * nothing of which keys exist.
 */
export const claimsSignature = (authorization: string | undefined): boolean => AUTHORIZATION.exec(authorization ?? "")?.[4] === SIGNING_SERVICE;

function amzDate(value: string | undefined): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? "");
  if (!m) throw new AccessDeniedException("The request has no valid X-Amz-Date header");
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/**
 * The SDK's signer, answering the signature of a request synchronously: the canonical request
 * as its signRequest builds it (generated headers dropped, X-Amz-Date set, the signed headers
 * picked), then the string to sign and its HMAC under the day's signing key, kept.
 */
class Signer extends SignatureV4 {
  private readonly secret: string;
  private readonly region: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(init: ConstructorParameters<typeof SignatureV4>[0] & { credentials: { accessKeyId: string; secretAccessKey: string }; region: string }) {
    super(init);
    this.secret = init.credentials.secretAccessKey;
    this.region = init.region;
  }

  signatureOf(unsigned: HttpRequest, at: number, signed: Set<string>, payloadHash: string): string {
    const request = prepareRequest(unsigned);
    const { longDate, shortDate } = this.formatDate(new Date(at));
    request.headers["x-amz-date"] = longDate;
    const canonical = this.createCanonicalRequest(request, getCanonicalHeaders(request, undefined, signed), payloadHash);
    const scope = `${shortDate}/${this.region}/${this.service}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${createHash("sha256").update(canonical).digest("hex")}`;
    return createHmac("sha256", this.signingKey(shortDate)).update(stringToSign).digest("hex");
  }

  /** The day's key (AWS4 + secret, then the day, region, service and "aws4_request" in turn); the last few days' kept. */
  private signingKey(shortDate: string): Buffer {
    let key = this.keys.get(shortDate);
    if (key) return key;
    key = [shortDate, this.region, this.service, "aws4_request"].reduce<Buffer>((k, part) => createHmac("sha256", k).update(part).digest(), Buffer.from(`AWS4${this.secret}`));
    if (this.keys.size >= 3) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(shortDate, key);
    return key;
  }
}

/** Signers kept (one per key, region and service: each keeps its own derived state), the oldest dropped past this. */
const KEPT_SIGNERS = 64;

/** What an unknown key's request is checked against: no secret of a tenant (32 random bytes, made per process). */
const UNKNOWN_KEY_SECRET = randomBytes(32).toString("base64");
/** The id its signer is kept under: no key id has a NUL in it (no HTTP header may hold one). */
const UNKNOWN_KEY_ID = "\u0000unknown";

export class SigV4Verifier {
  private readonly signers = new Map<string, { readonly secret: string; readonly signer: Signer }>();

  constructor(
    private readonly credentials: (accessKeyId: string) => Credential | undefined,
    private readonly now: () => number,
  ) {}

  async verify(request: SignedRequest): Promise<Principal> {
    const m = AUTHORIZATION.exec(request.headers["authorization"] ?? "");
    if (!m) throw new AccessDeniedException("Missing or malformed Authorization header: sign requests with AWS Signature Version 4");
    const [, accessKeyId, scopeDate, region, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string, string];
    if (service !== SIGNING_SERVICE) throw new AccessDeniedException(`The signature is for service '${service}', not '${SIGNING_SERVICE}'`);
    const at = amzDate(request.headers["x-amz-date"]);
    const now = this.now();
    if (Math.abs(now - at) > MAX_CLOCK_SKEW_MS) throw new AccessDeniedException("Signature expired: the request time is more than 5 minutes from the server's");
    if (new Date(at).toISOString().slice(0, 10).replaceAll("-", "") !== scopeDate) throw new AccessDeniedException("The credential scope's date is not the request's");
    // An unknown key is checked against a secret nobody holds and refused as a wrong signature is, in the same work: a caller cannot tell which key ids exist (and so aim the console's sign-in lockout at one).
    const credential: Checked = this.credentials(accessKeyId) ?? { secretAccessKey: UNKNOWN_KEY_SECRET, tenant: undefined };

    // The signer trusts a declared payload hash; the body must be the one declared.
    const declared = request.headers["x-amz-content-sha256"];
    const bodyHash = createHash("sha256").update(request.body).digest("hex");
    if (declared !== undefined && declared !== bodyHash) throw new AccessDeniedException("The body is not the one whose hash was signed");
    const names = signedHeaders.split(";");
    if (!names.includes("host")) throw new AccessDeniedException("The host header must be signed");
    // Own properties only: a signed header or query key named `constructor` or `__proto__` must not read Object.prototype.
    const headers: Record<string, string> = {};
    for (const n of names) headers[n] = (Object.hasOwn(request.headers, n) ? request.headers[n] : undefined) ?? "";
    const query: Record<string, string | string[]> = Object.create(null);
    for (const [k, v] of new URLSearchParams(request.query)) query[k] = Object.hasOwn(query, k) ? [...[query[k]!].flat(), v] : v;
    // Every unknown key shares one kept signer (the key id is not signed, its secret is): a stream of made-up key ids pushes
    // no tenant's out, and an unknown key's request takes the work of a known one's.
    const signer = this.signerFor(credential.tenant === undefined ? UNKNOWN_KEY_ID : accessKeyId, credential.secretAccessKey, region, service);
    const unsigned = new HttpRequest({ method: request.method, protocol: "http:", hostname: headers["host"] ?? "", path: request.path, query, headers, body: request.body });
    const expected = signer.signatureOf(unsigned, at, new Set(names), bodyHash);
    const matches = expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
    if (!matches || credential.tenant === undefined) throw new AccessDeniedException("The request signature we calculated does not match the signature you provided");
    return { accessKeyId, tenant: credential.tenant };
  }

  /** The SDK's signer for a key, region and service, made once (and again when the key's secret changed). */
  private signerFor(accessKeyId: string, secretAccessKey: string, region: string, service: string): Signer {
    const key = `${accessKeyId}\n${region}\n${service}`;
    const kept = this.signers.get(key);
    if (kept && kept.secret === secretAccessKey) return kept.signer;
    const signer = new Signer({ credentials: { accessKeyId, secretAccessKey }, region, service, sha256: Hash.bind(null, "sha256"), uriEscapePath: true, applyChecksum: false });
    this.signers.delete(key);
    if (this.signers.size >= KEPT_SIGNERS) this.signers.delete(this.signers.keys().next().value!);
    this.signers.set(key, { secret: secretAccessKey, signer });
    return signer;
  }
}
