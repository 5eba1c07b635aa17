import type { z } from "zod";
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
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
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

/**
 * A module's schemas, built when first asked for and kept: zod builds a schema's whole tree
 * when it is declared, so a module whose requests a function never parses costs it nothing
 * at a cold start. Its exported schemas are `z.lazy` over these, which parse exactly as the
 * schemas they stand for (same issues, same paths, same messages).
 */
export function onFirstUse<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => (built ??= build());
}
