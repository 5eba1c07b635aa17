import { DateTime } from "luxon";
import { escapeRegExp } from "./regexp.ts";
import { parseLocation, S3_URI } from "./location.ts";

/**
 * L4M path templates: `s3://bucket/ecommerce/live/{{yyyyMMdd}}/{{HHmm}}` names the folder
 * that holds one interval's files. Vigil also takes a local path wherever an S3 URI goes.
 */

export const TEMPLATE_TOKENS = ["yyyyMMdd", "HHmm", "yyyy", "MM", "dd", "HH", "mm"] as const;

const TOKEN_RE = /\{\{([^{}]*)\}\}/g;

export { joinUri, parseLocation, type DataLocation } from "./location.ts";

/** Why `path` is not a usable data path or template, or undefined when it is. */
export function templateProblem(path: string): string | undefined {
  // A NUL makes the file system throw when the path is read (an internal error then, not a 400 now); no folder worth naming holds any control character.
  const control = /[\u0000-\u001f\u007f]/.exec(path);
  if (control) return `holds a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}, character ${control.index + 1}): remove it`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) && !path.startsWith("s3://") && !path.startsWith("file://")) {
    return "must be an s3:// URI or a local path";
  }
  for (const m of path.matchAll(TOKEN_RE)) {
    if (!(TEMPLATE_TOKENS as readonly string[]).includes(m[1] ?? "")) {
      return `has unknown placeholder {{${m[1]}}}; known: ${TEMPLATE_TOKENS.map((t) => `{{${t}}}`).join(" ")}`;
    }
  }
  if (/\{\{|\}\}/.test(path.replace(TOKEN_RE, ""))) return "has an unbalanced {{ or }}";
  if (path.startsWith("s3://") && !S3_URI.test(path.replace(TOKEN_RE, "x"))) return "is not a valid s3://bucket/key URI";
  if (namesNoFolder(path)) {
    return isTemplated(path)
      ? "has no fixed prefix: the text before its first placeholder must name a folder, as in /data/live/{{yyyyMMdd}}/{{HHmm}}"
      : "names the root of the file system or the working folder: name the folder that holds the files";
  }
  return undefined;
}

/**
 * The folder all of a path's files lie under: `/data/live/` for
 * `/data/live/{{yyyyMMdd}}/{{HHmm}}`, the path itself when it has no placeholder.
 */
export function fixedFolder(path: string): string {
  const at = path.indexOf("{{");
  return at < 0 ? path : path.slice(0, path.lastIndexOf("/", at) + 1);
}

/** A local path whose fixed folder is the root or the working folder (`/`, `./`, `/../{{yyyy}}`): reading it would walk everything below. */
function namesNoFolder(path: string): boolean {
  const location = parseLocation(fixedFolder(path));
  if (location.kind === "s3") return false;
  const absolute = location.path.startsWith("/");
  const kept: string[] = [];
  for (const part of location.path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") kept.push(part);
    else if (kept.length > 0 && kept.at(-1) !== "..") kept.pop();
    else if (!absolute) kept.push(part);
  }
  return kept.length === 0;
}

export const isTemplated = (path: string) => /\{\{[^{}]+\}\}/.test(path);

/** The path of the interval starting at `intervalStartMs`, placeholders rendered in `timezone`. */
export function renderTemplate(template: string, intervalStartMs: number, timezone = "UTC"): string {
  const t = DateTime.fromMillis(intervalStartMs, { zone: timezone });
  return template.replace(TOKEN_RE, (_, token: string) => t.toFormat(token));
}

const TOKEN_DIGITS: Record<(typeof TEMPLATE_TOKENS)[number], number> = { yyyyMMdd: 8, HHmm: 4, yyyy: 4, MM: 2, dd: 2, HH: 2, mm: 2 };

/** The part of a template before its first placeholder: the folder every interval's files are under. */
export const templatePrefix = (template: string) => template.slice(0, template.search(/\{\{|$/));

/**
 * The reverse of renderTemplate: the start (epoch ms) of the interval whose folder holds
 * `path`, read from the placeholders' digits, or undefined when `path` is not under one.
 */
export function templateInterval(template: string, timezone = "UTC"): (path: string) => number | undefined {
  const tokens: string[] = [];
  const source = template.split(TOKEN_RE).map((part, i) => {
    if (i % 2 === 0) return escapeRegExp(part);
    tokens.push(part);
    return `(\\d{${TOKEN_DIGITS[part as keyof typeof TOKEN_DIGITS] ?? 1}})`;
  });
  const re = new RegExp(`^${source.join("")}(?:/|$)`);
  return (path) => {
    const m = re.exec(path);
    if (!m) return undefined;
    const t = DateTime.fromFormat(m.slice(1).join(" "), tokens.join(" "), { zone: timezone });
    return t.isValid ? t.toMillis() : undefined;
  };
}

/** How long the span one rendered folder names is (ms): a template down to the minute names one interval, a daily one a day. */
export function templateSpanMs(template: string, intervalMs: number): number {
  const tokens = [...template.matchAll(TOKEN_RE)].map((m) => m[1]);
  if (tokens.some((t) => t === "mm" || t === "HHmm")) return intervalMs;
  if (tokens.includes("HH")) return Math.max(intervalMs, 3_600_000);
  if (tokens.some((t) => t === "dd" || t === "yyyyMMdd")) return Math.max(intervalMs, 86_400_000);
  return intervalMs;
}
