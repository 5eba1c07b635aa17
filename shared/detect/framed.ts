/**
 * How detection's own blobs are laid out (a snapshot, a model's head, a shard's result): a
 * JSON header, its length first (u32, little-endian), then the bytes it describes.
 */
export function frame(header: unknown, ...bodies: readonly Uint8Array[]): Uint8Array {
  return joined([frameHead(header), ...bodies]);
}

/** Parts written one after another, as one buffer. */
export function joined(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * The bytes a frame starts with: what a writer that lays out its body in place puts before it.
 * With `align`, the header is padded with spaces (JSON allows them) so that the body starts
 * at a multiple of it: a reader may then view the body's numbers where they lie.
 */
export function frameHead(header: unknown, align = 1): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const length = json.length + ((align - ((4 + json.length) % align)) % align);
  const head = new Uint8Array(4 + length).fill(0x20);
  new DataView(head.buffer).setUint32(0, length, true);
  head.set(json, 4);
  return head;
}

/** A framed blob's header (as its writer typed it) and the bytes after it. */
export function unframe<T>(bytes: Uint8Array): { readonly header: T; readonly body: Uint8Array } {
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length))) as T, body: bytes.subarray(4 + length) };
}
