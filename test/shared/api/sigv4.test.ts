import fc from "fast-check";
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
    const unknownKey = await refusal(verifier().verify({ ...other, headers: { ...other.headers, authorization: other.headers["authorization"]!.replace("AKIDEXAMPLE", "AKIDOTHER") } }));
    // In the words of a known key's wrong signature: a caller cannot tell which key ids exist.
    expect(unknownKey).toBe(await refusal(verifier().verify(await signed("{}", { secret: "guess" }))));
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

  it("refuses, as a wrong signature, one whose SignedHeaders name an Object.prototype member; accepts such a query key signed", async () => {
    // Anyone may send it, key or not: it was a TypeError, answered 500 and logged as the server's failure.
    const good = await signed("{}");
    const forged = { ...good, headers: { ...good.headers, authorization: good.headers["authorization"]!.replace("SignedHeaders=", "SignedHeaders=constructor;") } };
    expect(await refusal(verifier().verify(forged))).toMatch(/does not match/);
    const unknownKey = { ...forged, headers: { ...forged.headers, authorization: forged.headers["authorization"]!.replace("AKIDEXAMPLE", "AKIDOTHER") } };
    expect(await refusal(verifier().verify(unknownKey))).toMatch(/does not match/);
    // A query key of the same names is the caller's own, signed as any other.
    const signer = new SignatureV4({ credentials: KEY, region: "eu-west-1", service: "lookoutmetrics", sha256: Hash.bind(null, "sha256") });
    const query = { constructor: "a", toString: "b" };
    const sent = await signer.sign(new HttpRequest({ method: "GET", protocol: "http:", hostname: "localhost", port: 8087, path: "/tags/x", query, headers: { host: "localhost:8087" }, body: "" }), { signingDate: new Date(NOW) });
    const got: SignedRequest = { method: "GET", path: "/tags/x", query: "constructor=a&toString=b", headers: Object.fromEntries(Object.entries(sent.headers).map(([k, v]) => [k.toLowerCase(), v])), body: "" };
    expect(await refusal(verifier().verify(got))).toBe("accepted");
  });
});

describe("SigV4Verifier against the SDK's signer (property)", () => {
  const segment = fc.stringMatching(/^[A-Za-z0-9._~%:@!$&'()*+,;=-]{1,12}$/);
  const request = fc.record({
    path: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`),
    query: fc.dictionary(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_.-]{0,8}$/), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
    header: fc.stringMatching(/^[ -~]{0,20}$/),
    body: fc.string({ maxLength: 200 }),
    region: fc.constantFrom("us-east-1", "eu-west-1", "ap-southeast-2"),
    secondsOff: fc.integer({ min: -299, max: 299 }),
  });

  it("accepts exactly what the SDK signs: any path, query, header value and body; nothing once one of them changed", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const signer = new SignatureV4({ credentials: KEY, region: r.region, service: "lookoutmetrics", sha256: Hash.bind(null, "sha256") });
        const at = NOW + r.secondsOff * 1000;
        const sent = await signer.sign(new HttpRequest({ method: "POST", protocol: "http:", hostname: "localhost", port: 8087, path: r.path, query: r.query, headers: { host: "localhost:8087", "content-type": "application/json", "x-vigil-note": r.header }, body: r.body }), { signingDate: new Date(at) });
        const query = new URLSearchParams(Object.entries(r.query)).toString().replaceAll("+", "%20");
        const got: SignedRequest = { method: "POST", path: sent.path, query, headers: Object.fromEntries(Object.entries(sent.headers).map(([k, v]) => [k.toLowerCase(), v])), body: r.body };
        const v = verifier();
        expect(await refusal(v.verify(got))).toBe("accepted");
        // Verified twice by the same verifier (its kept signer and key): the same verdicts.
        expect(await refusal(v.verify(got))).toBe("accepted");
        expect(await refusal(v.verify({ ...got, body: `${r.body} ` }))).toMatch(/does not match|whose hash was signed/);
        expect(await refusal(v.verify({ ...got, path: `${got.path}x` }))).toMatch(/does not match/);
        expect(await refusal(v.verify({ ...got, headers: { ...got.headers, "x-vigil-note": `${r.header}!` } }))).toMatch(/does not match/);
      }),
      { numRuns: 150 },
    );
  });
});
