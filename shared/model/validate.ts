import type * as z from "./zod.ts";
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

/** Parses `input` with `schema`, or throws a ValidationException naming every bad field. */
export function parseOrThrow<S extends z.ZodMiniType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: ValidationExceptionField[] = result.error.issues.map((issue) => ({
    Name: fieldName(issue.path),
    Message: issue.message,
  }));
  // The message names the first fields, as L4M's did: a CLI or SDK user reads the message, not the body's Fields.
  const named = fields.slice(0, 3).map((f) => `${f.Name} ${f.Message}`).join("; ");
  const more = fields.length > 3 ? `; and ${fields.length - 3} more` : "";
  throw new ValidationException(`Invalid ${what}: ${named}${more}`, {
    reason: "FIELD_VALIDATION_FAILED",
    fields,
  });
}
