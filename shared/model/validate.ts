import type * as z from "./zod.ts";
import { cutText } from "./cut.ts";
import { ValidationException, type ValidationExceptionField } from "./errors.ts";

/** Dotted L4M field path, e.g. `MetricSource.S3SourceConfig.TemplatedPathList[0]`. */
function fieldName(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(request)";
}

/**
 * Fields an answer names at most, and characters of a field's name and message: a request of
 * a million bad values (or of one key a megabyte long) is answered in kilobytes, not echoed.
 */
export const MAX_FIELDS = 100;
const MAX_NAME_CHARS = 256;
const MAX_MESSAGE_CHARS = 512;


/** zod's result, or undefined where checking the input overflowed the stack (zod gathers a nested value's issues with a spread: some 150,000 of them overflow it). */
function checked<S extends z.ZodMiniType>(schema: S, input: unknown): ReturnType<S["safeParse"]> | undefined {
  try {
    return schema.safeParse(input) as ReturnType<S["safeParse"]>;
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

/** Parses `input` with `schema`, or throws a ValidationException naming the bad fields (the first MAX_FIELDS of them). */
export function parseOrThrow<S extends z.ZodMiniType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = checked(schema, input);
  if (result === undefined) throw new ValidationException(`Invalid ${what}: it holds too many bad values to list; send fewer`, { reason: "FIELD_VALIDATION_FAILED", fields: [] });
  if (result.success) return result.data as z.output<S>;
  const issues = result.error.issues;
  const fields: ValidationExceptionField[] = issues.slice(0, MAX_FIELDS).map((issue) => ({
    Name: cutText(fieldName(issue.path), MAX_NAME_CHARS, "…"),
    Message: cutText(issue.message, MAX_MESSAGE_CHARS, "…"),
  }));
  // The message names the first fields, as L4M's did: a CLI or SDK user reads the message, not the body's Fields.
  const named = fields.slice(0, 3).map((f) => `${f.Name} ${f.Message}`).join("; ");
  const more = issues.length > 3 ? `; and ${issues.length - 3} more` : "";
  throw new ValidationException(`Invalid ${what}: ${named}${more}`, {
    reason: "FIELD_VALIDATION_FAILED",
    fields,
  });
}
