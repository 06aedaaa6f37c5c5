import { BotError } from "../errors.js";

/**
 * Every failure of a Seedream call. `code` families:
 * - `moderation_prompt` | `moderation_reference` | `moderation_output` | `moderation`
 * - `rate_limited`, `auth`, `account`, `invalid_parameter`, `validation` (local, before any call)
 * - `model_unavailable`, `server`, `timeout`, `network`, `aborted`, `protocol` (unparseable reply)
 */
export type SeedreamErrorCode =
  | "moderation_prompt"
  | "moderation_reference"
  | "moderation_output"
  | "moderation"
  | "rate_limited"
  | "auth"
  | "account"
  | "invalid_parameter"
  | "validation"
  | "model_unavailable"
  | "server"
  | "timeout"
  | "network"
  | "aborted"
  | "protocol";

export interface SeedreamErrorDetails {
  status?: number;
  requestId?: string;
  /** The API's own code, e.g. `InputTextSensitiveContentDetected`. */
  apiCode?: string;
  /** The offending request field, when the API names it. */
  param?: string;
  /** From `Retry-After`, in milliseconds. */
  retryAfterMs?: number;
  userMessage?: string;
  cause?: unknown;
}

export class SeedreamError extends BotError {
  override name = "SeedreamError";
  declare readonly code: SeedreamErrorCode;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly apiCode: string | undefined;
  readonly param: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: SeedreamErrorCode, message: string, details: SeedreamErrorDetails = {}) {
    super(code, message, { userMessage: details.userMessage, cause: details.cause });
    this.status = details.status;
    this.requestId = details.requestId;
    this.apiCode = details.apiCode;
    this.param = details.param;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** Worth trying again (before any image was produced). */
  get retryable(): boolean {
    return this.code === "rate_limited" || this.code === "server" || this.code === "network";
  }
}

export class SeedreamModerationError extends SeedreamError {
  override name = "SeedreamModerationError";
}
export class SeedreamRateLimitError extends SeedreamError {
  override name = "SeedreamRateLimitError";
}
export class SeedreamAuthError extends SeedreamError {
  override name = "SeedreamAuthError";
}
export class SeedreamAccountError extends SeedreamError {
  override name = "SeedreamAccountError";
}
export class SeedreamInvalidParameterError extends SeedreamError {
  override name = "SeedreamInvalidParameterError";
}
/** Raised locally, before any network call, when a request does not fit the model. */
export class SeedreamValidationError extends SeedreamError {
  override name = "SeedreamValidationError";
}
export class SeedreamModelUnavailableError extends SeedreamError {
  override name = "SeedreamModelUnavailableError";
}
export class SeedreamServerError extends SeedreamError {
  override name = "SeedreamServerError";
}
export class SeedreamTimeoutError extends SeedreamError {
  override name = "SeedreamTimeoutError";
}
export class SeedreamNetworkError extends SeedreamError {
  override name = "SeedreamNetworkError";
}
export class SeedreamAbortedError extends SeedreamError {
  override name = "SeedreamAbortedError";
}
export class SeedreamProtocolError extends SeedreamError {
  override name = "SeedreamProtocolError";
}
