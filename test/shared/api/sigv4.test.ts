import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { SigV4Verifier, type SignedRequest } from "../../../shared/api/sigv4.ts";
import { AccessDeniedException } from "../../../shared/model/errors.ts";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const KEY = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" };

/** A request signed by the AWS SDK's signer, as the service's clients sign them. */
async function signed(body: string, options: { at?: number; service?: string; secret?: string; path?: string } = {}): Promise<SignedRequest> {
  const signer = new SignatureV4({ credentials: { ...KEY, secretAccessKey: options.secret ?? KEY.secretAccessKey }, region: "eu-west-1", service: options.service ?? "lookoutmetrics", sha256: Hash.bind(null, "sha256") });
  const path = options.path ?? "/ListAnomalyDetectors";
  const req = await signer.sign(new HttpRequest({ method: "POST", protocol: "http:", hostname: "localhost", port: 8087, path, headers: { host: "localhost:8087", "content-type": "application/json" }, body }), { signingDate: new Date(options.at ?? NOW) });
  return { method: "POST", path, query: "", headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v])), body };
}

const verifier = () => new SigV4Verifier((key) => (key === KEY.accessKeyId ? { secretAccessKey: KEY.secretAccessKey, tenant: "t1" } : undefined), () => NOW);
const refusal = (p: Promise<unknown>) => p.then(() => "accepted", (e: unknown) => (e instanceof AccessDeniedException ? e.message : `not AccessDenied: ${String(e)}`));

describe("SigV4Verifier", () => {
  it("accepts what the SDK signs, and names the tenant", async () => {
    expect(await verifier().verify(await signed("{}"))).toEqual({ accessKeyId: KEY.accessKeyId, tenant: "t1" });
    expect(await verifier().verify(await signed("{}", { path: "/tags/arn%3Aaws%3Alookoutmetrics%3Aeu-west-1%3A1%3AAnomalyDetector%3Ad" }))).toMatchObject({ tenant: "t1" });
  });

  it("refuses a changed body, another secret, another service, an unknown key, and no signature", async () => {
    const good = await signed('{"MaxResults":1}');
    expect(await refusal(verifier().verify({ ...good, body: '{"MaxResults":2}' }))).toMatch(/not the one whose hash was signed/);
    const { "x-amz-content-sha256": _, ...undeclared } = good.headers;
    const unhashed = { ...good, headers: { ...undeclared, authorization: good.headers["authorization"]!.replace(/;x-amz-content-sha256/, "") } };
    expect(await refusal(verifier().verify({ ...unhashed, body: '{"MaxResults":2}' }))).toMatch(/does not match/);
    expect(await refusal(verifier().verify(await signed("{}", { secret: "guess" })))).toMatch(/does not match/);
    expect(await refusal(verifier().verify(await signed("{}", { service: "s3" })))).toMatch(/service 's3'/);
    const other = await signed("{}");
    expect(await refusal(verifier().verify({ ...other, headers: { ...other.headers, authorization: other.headers["authorization"]!.replace("AKIDEXAMPLE", "AKIDOTHER") } }))).toMatch(/invalid/);
    expect(await refusal(verifier().verify({ ...good, headers: { host: "localhost:8087" } }))).toMatch(/Authorization/);
  });

  it("refuses a request more than five minutes off the server's clock", async () => {
    expect(await refusal(verifier().verify(await signed("{}", { at: NOW - 6 * 60_000 })))).toMatch(/expired/);
    expect(await refusal(verifier().verify(await signed("{}", { at: NOW + 6 * 60_000 })))).toMatch(/expired/);
    expect(await refusal(verifier().verify(await signed("{}", { at: NOW - 4 * 60_000 })))).toBe("accepted");
  });

  it("accepts the same signed request again within the window, as AWS does, and not after it", async () => {
    let now = NOW;
    const v = new SigV4Verifier((key) => (key === KEY.accessKeyId ? { secretAccessKey: KEY.secretAccessKey, tenant: "t1" } : undefined), () => now);
    const req = await signed("{}");
    expect(await refusal(v.verify(req))).toBe("accepted");
    expect(await refusal(v.verify(req))).toBe("accepted");
    now = NOW + 5 * 60_000 + 1;
    expect(await refusal(v.verify(req))).toMatch(/expired/);
  });
});
