import * as z from "./zod.ts";

/** L4M's scalar shapes (names, ARNs, tags) with their documented constraints. */

export const ResourceName = z.string().check(z.minLength(1), z.maxLength(63), z.regex(/^[a-zA-Z0-9][a-zA-Z0-9\-_]*$/, "must start with a letter or digit and hold only letters, digits, '-' and '_'"));

/** Names every object answers to (`constructor`, `toString`, …). */
const INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype));

/** A column (measure, dimension, timestamp): never a name every object already holds, as rows and groups are keyed by column. */
export const ColumnName = ResourceName.check(z.refine((n) => !INHERITED.has(n), "is a name every object holds (constructor, toString, valueOf, …): rename the column"));

/**
 * `record[key]` when the record holds `key` itself, else undefined: a key a client sends (a
 * series id, a measure) is never one every object inherits, such as `constructor`.
 */
export const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

/** Sets `record[key]` as the record's own property, even for `__proto__`, which plain assignment would take as the record's prototype. */
export const setOwn = <T>(record: Record<string, T>, key: string, value: T): void => void Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });

export const Description = z.string().check(z.minLength(1), z.maxLength(256), z.regex(/\S/, "must not be blank"));

/**
 * `arn:<partition>:` then at least four more fields, the last not empty, on one line. The
 * three between are matched as fields (no colon in them): as `.*` each could take any share
 * of the colons, and a string of colons that cannot match was tried every way (about n^4
 * steps: 256 characters held the event loop about a second). It takes the same strings.
 */
export const Arn = z.string().check(z.maxLength(256), z.regex(/^arn:[a-z\d-]+(?::[^:\n\r\u2028\u2029]*){3}:.+$/, "is not an ARN"));

/** A KMS key's ARN, as L4M takes one (its pattern, with fields matched as fields: see Arn). */
export const KmsKeyArn = z.string().check(z.minLength(20), z.maxLength(2048), z.regex(/^arn:aws[^:\n\r\u2028\u2029]*:kms:[^:\n\r\u2028\u2029]*:\d{12}:key\/[a-z0-9]{8}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{12}$/, "is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>)"));

export const Tags = z
  .record(z.string().check(z.minLength(1), z.maxLength(128)), z.string().check(z.maxLength(256)))
  .check(z.refine((t) => Object.keys(t).length >= 1 && Object.keys(t).length <= 50, "must hold 1 to 50 tags"));

/** Whether the runtime's time zone database knows `tz` (as luxon's IANAZone asks it), without loading a date library. */
function isKnownZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz }).format();
    return true;
  } catch {
    return false;
  }
}

export const Timezone = z.string().check(z.maxLength(60), z.refine(isKnownZone, "is not an IANA time zone (e.g. UTC, Europe/Berlin)"));

/** Flags entries of `values` that occur more than once. */
export function uniqueNames(values: readonly string[], ctx: z.RefinementCtx, path: (string | number)[], what: string): void {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    if (seen.has(v)) ctx.addIssue({ code: "custom", path: [...path, i], message: `${what} '${v}' is listed twice` });
    seen.add(v);
  });
}
