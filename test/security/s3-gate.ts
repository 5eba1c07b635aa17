import { createServer, request } from "node:http";

/** One request the gate saw: which bucket, and who signed it. */
export interface GatedRequest {
  readonly method: string;
  readonly bucket: string;
  readonly key: string;
  readonly accessKeyId: string;
  readonly allowed: boolean;
}

/**
 * S3's authorisation in front of s3rver (which checks no SigV4 signature): a request is let
 * through only when `allows(bucket, accessKeyId, sessionToken)` says its signer may touch
 * the bucket, as IAM and bucket policies decide in AWS; otherwise it is answered 403
 * AccessDenied in S3's XML. Path-style addresses, as the SDK uses for an IP endpoint.
 */
export async function startS3Gate(s3rver: string, allows: (bucket: string, accessKeyId: string, sessionToken: string | undefined) => boolean): Promise<{ endpoint: string; requests: GatedRequest[] }> {
  const target = new URL(s3rver);
  const requests: GatedRequest[] = [];
  const server = createServer((req, res) => {
    const [bucket = "", ...rest] = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).slice(1).split("/");
    const authorization = String(req.headers.authorization ?? "");
    const accessKeyId = /Credential=([^/]+)\//.exec(authorization)?.[1] ?? "";
    const token = req.headers["x-amz-security-token"];
    const allowed = allows(bucket, accessKeyId, typeof token === "string" ? token : undefined);
    requests.push({ method: req.method ?? "GET", bucket, key: rest.join("/"), accessKeyId, allowed });
    if (!allowed) {
      req.resume();
      res.writeHead(403, { "content-type": "application/xml" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>gate</RequestId></Error>`);
      return;
    }
    // s3rver knows one key; the signer was judged above.
    const headers = { ...req.headers, host: target.host, authorization: authorization.replace(/Credential=[^/]+\//, "Credential=S3RVER/") };
    const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("no address");
  return { endpoint: `http://127.0.0.1:${address.port}`, requests };
}
