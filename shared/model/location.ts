/**
 * Where data is: an S3 URI or a local path (Vigil takes one wherever L4M takes the other).
 * Apart from the path templates so that reading a location loads no date library.
 */

export const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(\/.*)?$/;

export type DataLocation = { readonly kind: "s3"; readonly bucket: string; readonly key: string } | { readonly kind: "local"; readonly path: string };

export function parseLocation(path: string): DataLocation {
  const s3 = S3_URI.exec(path);
  if (s3) return { kind: "s3", bucket: s3[1] ?? "", key: (s3[2] ?? "/").slice(1) };
  return { kind: "local", path: path.startsWith("file://") ? path.slice("file://".length) : path };
}

/** Joins address parts with `/`, whatever the scheme. */
export const joinUri = (base: string, ...parts: string[]) => [base.replace(/\/+$/, ""), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ""))].join("/");
