import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/**
 * Guards against server-side request forgery: in AWS, an alert's URL must not reach into
 * the VPC, the instance metadata service, loopback or anything but the public internet.
 * Ranges are ipaddr.js's classification (private, loopback, link-local, multicast,
 * carrier-grade NAT, reserved, unique-local, site-local, 6to4, Teredo, ...): only
 * `unicast`, the public rest, may be called. Addresses that carry an IPv4 address
 * (IPv4-mapped, IPv4-translated, NAT64's 64:ff9b::/96) are judged by that address.
 *
 * The name is resolved once; every address it resolves to must pass, and the request then
 * connects to the first of them, never resolving again (a name that answers a public
 * address to the check and a private one to the connection gets nowhere).
 */
export type Resolver = (host: string) => Promise<readonly string[]>;

export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** IPv4-compatible ::a.b.c.d (RFC 4291, deprecated): ipaddr.js counts it as unicast, but it is not public. */
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR("::/96");
/** NAT64's well-known prefix, whose last 32 bits are the IPv4 address reached (its local-use 64:ff9b:1::/48 is refused). */
const NAT64 = ipaddr.IPv6.parseCIDR("64:ff9b::/96");

const lastFour = (v6: ipaddr.IPv6) => {
  const [hi = 0, lo = 0] = v6.parts.slice(6);
  return new ipaddr.IPv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
};

function isPublic(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (address.kind() === "ipv4") return address.range() === "unicast";
  const v6 = address as ipaddr.IPv6;
  if (v6.match(IPV4_COMPATIBLE)) return false;
  const range = v6.range();
  if (range === "ipv4Mapped" || range === "rfc6145" || (range === "rfc6052" && v6.match(NAT64))) return lastFour(v6).range() === "unicast";
  return range === "unicast";
}

/**
 * An address as the system reads it: ipaddr.js reads `::127.0.0.1` as IPv4-mapped, the
 * system (and the URL standard) as IPv4-compatible `::7f00:1`; the check must judge what
 * a connection would reach.
 */
function canonical(ip: string): string | undefined {
  if (isIP(ip) !== 6) return isIP(ip) === 4 ? ip : undefined;
  // A zone id (fe80::1%eth0) is no URL host: only link-local addresses carry one.
  return URL.canParse(`http://[${ip}]/`) ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : undefined;
}

/** True for anything but a public unicast address, and for what is not an IP address at all. */
export function isPrivateAddress(ip: string): boolean {
  const address = canonical(ip);
  return address === undefined || !isPublic(ipaddr.parse(address));
}

export type CheckedAddress = { readonly ok: true; readonly address: string; readonly family: 4 | 6 } | { readonly ok: false; readonly reason: string };

/**
 * Why a URL may not be called, as its alert's owner is told: one reason whether its name
 * does not resolve or resolves to an address that is not public, and never that address,
 * so an alert learns nothing of the names and addresses of the network Vigil runs in.
 */
const notPublic = (host: string) => `${host} does not resolve to public addresses only: a name that does not resolve, or resolves to a private, loopback, link-local, reserved or transition-range address, is not called`;

/** The address a request to `url` is to connect to, checked; or why `url` may not be called. */
export async function checkedAddress(url: string, resolve: Resolver = systemResolver): Promise<CheckedAddress> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  const addresses = isIP(host) ? [host] : await resolve(host).catch(() => []);
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) return { ok: false, reason: notPublic(host) };
  const first = canonical(addresses[0]!)!;
  return { ok: true, address: first, family: isIP(first) === 6 ? 6 : 4 };
}
