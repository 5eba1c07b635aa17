import { createHash, timingSafeEqual } from "node:crypto";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { AccessDeniedException } from "../model/errors.ts";

/**
 * AWS Signature Version 4, checked as AWS checks it: the signature is computed again
 * (by the AWS SDK's own signer) from the request, the signed headers and the caller's
 * secret, and must match.
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

function amzDate(value: string | undefined): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? "");
  if (!m) throw new AccessDeniedException("The request has no valid X-Amz-Date header");
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/** Signers kept (one per key, region and service: each keeps its own derived state), the oldest dropped past this. */
const KEPT_SIGNERS = 64;

export class SigV4Verifier {
  private readonly signers = new Map<string, { readonly secret: string; readonly signer: SignatureV4 }>();

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
    const credential = this.credentials(accessKeyId);
    if (!credential) throw new AccessDeniedException("The security token included in the request is invalid");

    // The signer trusts a declared payload hash; the body must be the one declared.
    const declared = request.headers["x-amz-content-sha256"];
    if (declared !== undefined && declared !== createHash("sha256").update(request.body).digest("hex")) throw new AccessDeniedException("The body is not the one whose hash was signed");
    const names = signedHeaders.split(";");
    if (!names.includes("host")) throw new AccessDeniedException("The host header must be signed");
    const headers: Record<string, string> = {};
    for (const n of names) headers[n] = request.headers[n] ?? "";
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(request.query)) query[k] = k in query ? [...[query[k]!].flat(), v] : v;
    const signer = this.signerFor(accessKeyId, credential.secretAccessKey, region, service);
    const unsigned = new HttpRequest({ method: request.method, protocol: "http:", hostname: headers["host"] ?? "", path: request.path, query, headers, body: request.body });
    const signed = await signer.sign(unsigned, { signingDate: new Date(at), signableHeaders: new Set(names), signingRegion: region, signingService: service });
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers["authorization"]))?.[1] ?? "";
    if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
      throw new AccessDeniedException("The request signature we calculated does not match the signature you provided");
    }
    return { accessKeyId, tenant: credential.tenant };
  }

  /** The SDK's signer for a key, region and service, made once (and again when the key's secret changed). */
  private signerFor(accessKeyId: string, secretAccessKey: string, region: string, service: string): SignatureV4 {
    const key = `${accessKeyId}\n${region}\n${service}`;
    const kept = this.signers.get(key);
    if (kept && kept.secret === secretAccessKey) return kept.signer;
    const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region, service, sha256: Hash.bind(null, "sha256"), uriEscapePath: true, applyChecksum: false });
    this.signers.delete(key);
    if (this.signers.size >= KEPT_SIGNERS) this.signers.delete(this.signers.keys().next().value!);
    this.signers.set(key, { secret: secretAccessKey, signer });
    return signer;
  }
}
