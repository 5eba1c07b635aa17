/**
 * Errors are values of named classes, one per L4M error code, so that every edge
 * (CLI, Lambda, HTTP API) can answer in L4M's shape without inspecting strings.
 */

export type ValidationExceptionReason = "UNKNOWN_OPERATION" | "CANNOT_PARSE" | "FIELD_VALIDATION_FAILED" | "OTHER";

export interface ValidationExceptionField {
  readonly Name: string;
  readonly Message: string;
}

export abstract class VigilError extends Error {
  abstract readonly code: string;
  /** HTTP status L4M answers this error with. */
  abstract readonly httpStatus: number;

  toJSON(): Record<string, unknown> {
    return { __type: this.code, Message: this.message };
  }
}

export class ValidationException extends VigilError {
  override readonly name = "ValidationException";
  readonly code = "ValidationException";
  readonly httpStatus = 400;
  readonly reason: ValidationExceptionReason;
  readonly fields: readonly ValidationExceptionField[];

  constructor(
    message: string,
    options: { reason?: ValidationExceptionReason; fields?: readonly ValidationExceptionField[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options.reason ?? (options.fields?.length ? "FIELD_VALIDATION_FAILED" : "OTHER");
    this.fields = options.fields ?? [];
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), Reason: this.reason, ...(this.fields.length ? { Fields: this.fields } : {}) };
  }
}

/** An error about one resource, named by id and type, as L4M's ResourceNotFound and Conflict carry. */
abstract class ResourceError extends VigilError {
  constructor(
    message: string,
    readonly resourceId?: string,
    readonly resourceType?: string,
  ) {
    super(message);
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), ResourceId: this.resourceId, ResourceType: this.resourceType };
  }
}

export class ResourceNotFoundException extends ResourceError {
  override readonly name = "ResourceNotFoundException";
  readonly code = "ResourceNotFoundException";
  readonly httpStatus = 400;
}

export class ConflictException extends ResourceError {
  override readonly name = "ConflictException";
  readonly code = "ConflictException";
  readonly httpStatus = 409;
}

/** 403: the request is not signed, or not signed by a known key. */
export class AccessDeniedException extends VigilError {
  override readonly name = "AccessDeniedException";
  readonly code = "AccessDeniedException";
  readonly httpStatus = 403;
}

/** 402, as L4M: a quota (model/quotas.ts) is used up; the body names it (QuotaCode, ServiceCode). */
export class ServiceQuotaExceededException extends ResourceError {
  override readonly name = "ServiceQuotaExceededException";
  readonly code = "ServiceQuotaExceededException";
  readonly httpStatus = 402;
  constructor(
    message: string,
    resourceId: string | undefined,
    resourceType: string | undefined,
    readonly quotaCode: string,
  ) {
    super(message, resourceId, resourceType);
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), QuotaCode: this.quotaCode, ServiceCode: "lookoutmetrics" };
  }
}

/** L4M's answer to a caller asking too often; here, sign-ins after too many failures. */
export class TooManyRequestsException extends VigilError {
  override readonly name = "TooManyRequestsException";
  readonly code = "TooManyRequestsException";
  readonly httpStatus = 429;
}

/** The AWS answer a client's SDK retries by itself: here, `vigil serve` bound to its port while its services are still opening. */
export class ServiceUnavailableException extends VigilError {
  override readonly name = "ServiceUnavailableException";
  readonly code = "ServiceUnavailableException";
  readonly httpStatus = 503;
}

export class InternalServerException extends VigilError {
  override readonly name = "InternalServerException";
  readonly code = "InternalServerException";
  readonly httpStatus = 500;
}

/** Whether `message` lists `entry` whole, as parseOrThrow lists a field ("…: a why; b why; and N more"): not as the end of a longer name. */
function namesField(message: string, entry: string): boolean {
  for (let at = message.indexOf(entry); at >= 0; at = message.indexOf(entry, at + 1)) {
    const before = message.slice(Math.max(0, at - 2), at);
    const after = message.charAt(at + entry.length);
    if ((before === ": " || before === "; ") && (after === "" || after === ";")) return true;
  }
  return false;
}

/** One line a person can read, with the fields that failed. */
export function describeError(error: unknown): string {
  // The fields the message does not name already (it names the first few, as L4M's did): each said once.
  const unnamed = error instanceof ValidationException ? error.fields.filter((f) => !namesField(error.message, `${f.Name} ${f.Message}`)) : [];
  if (error instanceof ValidationException && unnamed.length) {
    return `${error.code}: ${error.message} (${unnamed.map((f) => `${f.Name}: ${f.Message}`).join("; ")})`;
  }
  if (error instanceof VigilError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
