import { escapeRegExp } from "./regexp.ts";

/**
 * What an error may tell a tenant of the server's files. A system error (ENOENT, EACCES,
 * EISDIR…) names the path it failed on, and errors wrapping one carry it on in their
 * messages: the server's layout (its data directory, Vigil's results store, other tenants'
 * folders) is not the tenant's to read. A message shown to a tenant keeps the paths the
 * tenant named itself or may read (its data roots), as it named them; every other absolute
 * path becomes SERVER_PATH, and Vigil's own stores' roots STORE whatever their scheme. The
 * operator logs the error whole.
 */
export interface ShownPaths {
  /** Folders the tenant may read (its data roots, as the operator granted them): a path inside one is shown. */
  readonly folders?: readonly string[] | undefined;
  /** Paths the tenant named itself (the file being read, as its metric set names it): shown when met exactly. */
  readonly exact?: readonly string[] | undefined;
  /** Vigil's own roots (the results store), never shown, whatever else would show them. */
  readonly hidden?: readonly string[] | undefined;
  /** The operator alone uses Vigil (the demo, local commands: no data roots): any other path is its own, and shown. */
  readonly anywhere?: boolean;
}

export const SERVER_PATH = "<server path>";
export const STORE = "<results store>";

/** More than any message shown is read: a path cut here is still a path, and is still hidden. */
const MOST = 4096;

/** The error's message as a tenant may read it. */
export function messageForTenant(e: unknown, shown: ShownPaths = {}): string {
  return redactPaths(e instanceof Error ? e.message : String(e), shown);
}

/** `text` with every absolute path the tenant may not see replaced (see ShownPaths). */
export function redactPaths(text: string, shown: ShownPaths = {}): string {
  let out = text.slice(0, MOST);
  // Roots given as addresses (s3://…) are found as written, whole: s3://vigil is not s3://vigil-data's start. Local ones as paths, below.
  for (const root of shown.hidden ?? []) {
    if (root && !root.startsWith("/")) out = out.replace(new RegExp(`${escapeRegExp(root.replace(/\/+$/, ""))}(?![\\w-]|\\.[\\w-])(?:/[^\\s'"\`]*)?`, "g"), STORE);
  }
  // One pass, so that a path once read (quoted, or a known root's) is not read again in pieces.
  // A quoted path (as Node quotes the path of a system error) is one path, spaces and all.
  // A known local root (the results store, a folder or path of the tenant's) is met whole, spaces and all.
  // Otherwise, unquoted, a path ends at a space or punctuation; one inside a word or an address (https://h/p, s3://b/k) is not a local path.
  const known = [...(shown.hidden ?? []), ...(shown.folders ?? []), ...(shown.exact ?? [])]
    .map((p) => p.replace(/^file:\/\//, "").replace(/\/+$/, ""))
    .filter((p) => p.startsWith("/") && /[^\w/.~-]/.test(p))
    .sort((a, b) => b.length - a.length);
  const whole = known.map((p) => `${escapeRegExp(p)}(?:/${TOKEN}*)?(?!${TOKEN})`);
  const unquoted = new RegExp(`(['"\`])(?:file:\\/\\/)?(\\/[^'"\`\\n]*)\\1|(?<![\\w.:/~\\\\-])(?:file:\\/\\/)?(?:${[...whole, `/${TOKEN}*`].join("|")})`, "g");
  return out.replace(unquoted, (token: string, quote: string | undefined, quoted: string | undefined) => {
    if (quote !== undefined) return shownOr(quoted!, shown) ?? token;
    const trail = /[.!?]+$/.exec(token)?.[0] ?? "";
    const path = token.slice(0, token.length - trail.length).replace(/^file:\/\//, "");
    return (shownOr(path, shown) ?? token.slice(0, token.length - trail.length)) + trail;
  });
}

/** What an unquoted path may hold. */
const TOKEN = "[^\\s'\"`<>|,;:()[\\]{}]";

/** What replaces `path`, or undefined when the tenant may see it as it is. */
function shownOr(path: string, shown: ShownPaths): string | undefined {
  if (path === "/" || path === "") return undefined;
  if ((shown.hidden ?? []).some((root) => root.startsWith("/") && inside(root, path))) return STORE;
  if ((shown.exact ?? []).some((p) => p.replace(/^file:\/\//, "") === path)) return undefined;
  // `..` and `.` could lead out of a folder the path seems to lie in.
  if (/(^|\/)\.\.?(\/|$)/.test(path)) return SERVER_PATH;
  if (shown.anywhere || (shown.folders ?? []).some((folder) => folder.startsWith("/") && inside(folder, path))) return undefined;
  return SERVER_PATH;
}

const inside = (folder: string, path: string) => {
  const f = folder.replace(/\/+$/, "");
  return f !== "" && (path === f || path.startsWith(`${f}/`));
};

