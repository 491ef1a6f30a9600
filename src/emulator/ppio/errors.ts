// The error form every PPIO v2 answer uses (ppio-api.md §8.1): {code, reason, message, metadata}.

/** A business error the wire layer renders as `{code, reason, message, metadata}`. */
export class PpioApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "PpioApiError";
  }
}

export const errorBody = (status: number, reason: string, message: string) => ({ code: status, reason, message, metadata: {} });

/** Schema violations are 400 VALIDATOR_PARAM (ppio-api.md §8.3, mapping inferred). */
export const invalid = (message: string) => new PpioApiError(400, "VALIDATOR_PARAM", message);
