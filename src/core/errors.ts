/**
 * The typed error hierarchy every cloud client throws. Clouds map their own error bodies
 * (PPIO's `{code, reason, message}`, CompShare's `RetCode`) onto these classes so that the
 * providers and the user can branch on the kind of failure, not on strings.
 *
 * Messages never contain credentials: transports redact every registered secret before an
 * error is built (see `Redactor`).
 */

export type Cloud = "ppio" | "compshare";

export interface ErrorDetails {
  cloud: Cloud;
  /** What was being done, e.g. `POST /gpus/v2/instances` or `StopCompShareInstance`. */
  operation?: string;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** The API's own code: PPIO `reason` (`RESOURCE_NOT_FOUND`) or CompShare `RetCode` (as text). */
  code?: string;
  /** The request id the cloud returned, for support tickets. */
  requestId?: string;
  /** Seconds the server asked us to wait (Retry-After), when it said so. */
  retryAfterSeconds?: number;
  /**
   * Whether the cloud may have executed the request even though we saw a failure
   * (a timeout or dropped connection after the request was sent, a 5xx). A create that
   * fails with `mayHaveSucceeded` must be resolved by a lookup, never by a blind re-send.
   */
  mayHaveSucceeded?: boolean;
  /** What the user can do about it; appended to the message. */
  hint?: string;
  cause?: unknown;
}

export class GpuCloudError extends Error {
  readonly cloud: Cloud;
  readonly operation?: string;
  readonly status?: number;
  readonly code?: string;
  readonly requestId?: string;
  readonly retryAfterSeconds?: number;
  readonly mayHaveSucceeded: boolean;
  readonly hint?: string;
  /** The API's message as it came, without our decorations. */
  readonly apiMessage: string;

  constructor(message: string, details: ErrorDetails) {
    super(GpuCloudError.format(message, details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.apiMessage = message;
    this.cloud = details.cloud;
    this.operation = details.operation;
    this.status = details.status;
    this.code = details.code;
    this.requestId = details.requestId;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.mayHaveSucceeded = details.mayHaveSucceeded ?? false;
    this.hint = details.hint;
  }

  /** True when the same request may succeed if sent again later (the condition is transient). */
  get transient(): boolean {
    return false;
  }

  private static format(message: string, d: ErrorDetails): string {
    const facts = [
      d.status !== undefined ? `HTTP ${d.status}` : undefined,
      d.code ? `code ${d.code}` : undefined,
      d.requestId ? `request id ${d.requestId}` : undefined,
    ].filter(Boolean);
    const where = d.operation ? `${d.cloud} ${d.operation}: ` : `${d.cloud}: `;
    const tail = facts.length ? ` (${facts.join(", ")})` : "";
    const hint = d.hint ? `. ${d.hint}` : "";
    return `${where}${message}${tail}${hint}`;
  }
}

/** The key is wrong, missing or unknown to the cloud (PPIO 401; CompShare RetCode 170–174). */
export class AuthenticationError extends GpuCloudError {}
/** The key is valid but may not do this (PPIO 403; CompShare 292–299). */
export class PermissionError extends GpuCloudError {}
/** The object does not exist (any more). */
export class NotFoundError extends GpuCloudError {}
/** The request was malformed or a value was refused (PPIO `VALIDATOR_PARAM`; CompShare 230). */
export class ValidationError extends GpuCloudError {}
/** The object is in the wrong state for this action, or another operation holds it. */
export class ConflictError extends GpuCloudError {}
/** The cloud has no capacity for this shape right now (sold out). */
export class CapacityError extends GpuCloudError {}
/** A cost guard refused the purchase before anything was bought (`maxPricePerHour`). */
export class CostGuardError extends GpuCloudError {}
/** An account quota, balance or billing condition refused the request. */
export class QuotaError extends GpuCloudError {}
/** The cloud throttled us; the request was not executed. */
export class RateLimitError extends GpuCloudError {
  override get transient(): boolean {
    return true;
  }
}
/** The cloud failed (5xx, or an internal RetCode). */
export class ServerError extends GpuCloudError {
  override get transient(): boolean {
    return true;
  }
}
/** No response within the per-request timeout, or a wait passed its deadline. */
export class TimeoutError extends GpuCloudError {
  override get transient(): boolean {
    return true;
  }
}
/** The connection failed: refused, reset, or dropped before a response. */
export class NetworkError extends GpuCloudError {
  override get transient(): boolean {
    return true;
  }
}

/** A wait ended because the object reached a state it cannot leave on its own (e.g. a failed provisioning). */
export class TerminalStateError extends GpuCloudError {}

/** Credentials are missing from both stack config and the environment. */
export class CredentialsError extends GpuCloudError {}

/**
 * Replaces every registered secret in a text with `***`. Each transport owns one and
 * registers its credentials, so nothing it formats (errors, progress lines) can leak them.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(...values: (string | undefined)[]): void {
    for (const v of values) if (v && v.length >= 4) this.secrets.add(v);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("***");
    return out;
  }
}
