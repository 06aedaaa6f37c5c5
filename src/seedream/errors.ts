import type { ModelCapabilities } from "./models.js";

/**
 * Every failure of a Seedream call. Messages are neutral (for logs and library callers); the
 * sentence a person reads is chosen by the caller from `code`, `apiCode` and the details
 * (the bot's wording lives in `src/core/messages.ts`). `code` families:
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
  | "account_overdue"
  | "invalid_parameter"
  | "validation"
  | "model_unavailable"
  | "model_not_enabled"
  | "server"
  | "timeout"
  | "network"
  /** The stream ended (connection closed) before `completed`: images may be missing. */
  | "stream_ended"
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
  /** The model id the request was for. */
  model?: string;
  cause?: unknown;
}

export class SeedreamError extends Error {
  override name = "SeedreamError";
  readonly code: SeedreamErrorCode;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly apiCode: string | undefined;
  readonly param: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly model: string | undefined;

  constructor(code: SeedreamErrorCode, message: string, details: SeedreamErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.model = details.model;
    this.status = details.status;
    this.requestId = details.requestId;
    this.apiCode = details.apiCode;
    this.param = details.param;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** Worth trying again (before any image was produced). */
  get retryable(): boolean {
    return (
      this.code === "rate_limited" ||
      this.code === "server" ||
      this.code === "network" ||
      this.code === "stream_ended"
    );
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
/**
 * What about a request does not fit the model, with what a caller needs to explain it. Every
 * kind carries the model's capabilities, so the explanation can suggest what would fit.
 */
export type ValidationIssue = { caps: ModelCapabilities } & (
  | { kind: "prompt_empty" }
  | { kind: "reference_format"; position: number }
  | { kind: "references_too_many"; references: number }
  | { kind: "references_too_few"; references: number }
  | { kind: "images_out_of_range"; images: number }
  | { kind: "images_too_many_total"; references: number; images: number }
  | { kind: "size_unreadable"; size: string; mixed: boolean }
  | { kind: "size_no_adaptive" }
  | { kind: "size_adaptive_only" }
  | { kind: "size_no_tier"; tier: string }
  | { kind: "size_tier_unreliable"; tier: string }
  | { kind: "size_no_pixels" }
  | { kind: "size_too_small"; width: number; height: number; nearest: string }
  | { kind: "size_too_large"; width: number; height: number }
  | { kind: "size_aspect"; width: number; height: number }
  | { kind: "ratio_out_of_range"; ratio: { width: number; height: number } }
  | { kind: "ratio_with_pixels" }
  | { kind: "model_unknown_version"; typed: string }
  | { kind: "model_not_offered"; typed: string; provider: string }
  | { kind: "seed_unsupported" }
  | { kind: "seed_out_of_range" }
  | { kind: "guidance_unsupported" }
  | { kind: "guidance_out_of_range" }
  | { kind: "fast_unsupported"; models: readonly string[] }
  | { kind: "format_unsupported"; format: string; models: readonly string[] }
  | { kind: "web_search_unsupported"; models: readonly string[] }
);

/** Raised locally, before any network call, when a request does not fit the model. */
export class SeedreamValidationError extends SeedreamError {
  override name = "SeedreamValidationError";
  readonly issue: ValidationIssue;

  constructor(
    code: "validation",
    message: string,
    details: SeedreamErrorDetails & { issue: ValidationIssue },
  ) {
    super(code, message, details);
    this.issue = details.issue;
  }
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
