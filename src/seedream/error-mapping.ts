import {
  SeedreamAbortedError,
  SeedreamAccountError,
  SeedreamAuthError,
  type SeedreamError,
  type SeedreamErrorCode,
  type SeedreamErrorDetails,
  SeedreamInvalidParameterError,
  SeedreamModelUnavailableError,
  SeedreamModerationError,
  SeedreamNetworkError,
  SeedreamProtocolError,
  SeedreamRateLimitError,
  SeedreamServerError,
  SeedreamTimeoutError,
} from "./errors.js";
import type { ImageFailureKind } from "./types.js";
import type { WireError } from "./wire.js";

const CLASSES: Record<Exclude<SeedreamErrorCode, "validation">, typeof SeedreamError> = {
  moderation_prompt: SeedreamModerationError,
  moderation_reference: SeedreamModerationError,
  moderation_output: SeedreamModerationError,
  moderation: SeedreamModerationError,
  rate_limited: SeedreamRateLimitError,
  auth: SeedreamAuthError,
  account: SeedreamAccountError,
  account_overdue: SeedreamAccountError,
  invalid_parameter: SeedreamInvalidParameterError,
  model_unavailable: SeedreamModelUnavailableError,
  model_not_enabled: SeedreamModelUnavailableError,
  server: SeedreamServerError,
  timeout: SeedreamTimeoutError,
  network: SeedreamNetworkError,
  stream_ended: SeedreamNetworkError,
  aborted: SeedreamAbortedError,
  protocol: SeedreamProtocolError,
};

/** Builds the right subclass for a code (validation errors are built by `validate.ts` alone). */
export function seedreamError(
  code: Exclude<SeedreamErrorCode, "validation">,
  message: string,
  details: SeedreamErrorDetails = {},
): SeedreamError {
  return new CLASSES[code](code, message, details);
}

/**
 * Maps an API error code to our family. Ark codes carry suffixes (`…Detected.Severe`,
 * `RateLimitExceeded.EndpointIPM`), so matching is by prefix/shape; Modelverse has its own words.
 */
export function classifyApiCode(apiCode: string | undefined, status: number): SeedreamErrorCode {
  const code = apiCode ?? "";
  if (/^InputTextSensitiveContentDetected/i.test(code)) return "moderation_prompt";
  if (/^InputImageSensitiveContentDetected/i.test(code)) return "moderation_reference";
  if (/^OutputImageSensitiveContentDetected/i.test(code)) return "moderation_output";
  if (
    /^SensitiveContentDetected|RiskDetection$|^ContentSecurityDetectionError|^sensitive_check_error$/i.test(
      code,
    )
  ) {
    return "moderation";
  }
  if (/^(MissingParameter|InvalidParameter|InvalidImageURL)|^param_error$/i.test(code))
    return "invalid_parameter";
  if (/^(AuthenticationError|InvalidAccountStatus)|^auth_error$/i.test(code)) return "auth";
  if (/^AccountOverdueError/i.test(code)) return "account_overdue";
  if (/^(AccessDenied|OperationDenied)/i.test(code)) return "account";
  if (/^(InvalidEndpointOrModel|ModelNotOpen)/i.test(code)) return "model_not_enabled";
  if (/^UnsupportedModel/i.test(code)) return "model_unavailable";
  if (
    /RateLimitExceeded|^(QuotaExceeded|ServerOverloaded|RequestBurstTooFast|InflightBatchsizeExceeded)|^rate_limit$/i.test(
      code,
    )
  ) {
    return "rate_limited";
  }
  if (/^(InternalServiceError|internal_error)/i.test(code)) return "server";
  // A gateway that gave up may still be generating (and billing): not worth a blind retry.
  if (/^gateway_timeout_error$/i.test(code)) return "timeout";
  if (status === 401) return "auth";
  if (status === 403 || status === 402) return "account";
  if (status === 404) return "model_unavailable";
  if (status === 429) return "rate_limited";
  if (status === 504) return "timeout";
  if (status >= 500) return "server";
  if (status >= 400) return "invalid_parameter";
  return "protocol";
}

/** How one failed image of a group is reported to the user. */
export function imageFailureKind(apiCode: string): ImageFailureKind {
  const family = classifyApiCode(apiCode, 200);
  if (family.startsWith("moderation")) return "moderation";
  if (family === "server") return "internal";
  return "other";
}

/** Ark messages end with `Request id: 0217…`. */
export function requestIdFromMessage(message: string | null | undefined): string | undefined {
  const match = /request[ _-]?id[:：=\s]+([A-Za-z0-9_-]{6,})\W*$/i.exec(message ?? "");
  return match?.[1];
}

export function apiCodeOf(error: WireError | undefined): string | undefined {
  const code = error?.code ?? error?.type;
  return code === undefined || code === null || code === "" ? undefined : String(code);
}

export interface ApiErrorInput {
  status: number;
  error: WireError | undefined;
  requestIdHeader?: string;
  retryAfterMs?: number;
  model?: string;
  /** Removed from every message the API sends back: some gateways echo the key. */
  secrets: readonly string[];
}

export function errorFromApi(input: ApiErrorInput): SeedreamError {
  // Gateways have been seen echoing the key in any field: every upstream string is scrubbed.
  const rawCode = apiCodeOf(input.error);
  const apiCode = rawCode === undefined ? undefined : redact(rawCode, input.secrets);
  const classified = classifyApiCode(apiCode, input.status);
  // "validation" is ours alone: an API refusal of the request is an invalid parameter.
  const code = classified === "validation" ? "invalid_parameter" : classified;
  const apiMessage = redact(input.error?.message ?? "", input.secrets);
  const requestId =
    plausibleRequestId(input.requestIdHeader, input.secrets) ?? requestIdFromMessage(apiMessage);
  const param = input.error?.param ? redact(input.error.param, input.secrets) : undefined;
  const summary = [`HTTP ${input.status}`, apiCode, apiMessage].filter((part) => part).join(" ");
  return seedreamError(code, `Seedream error: ${summary}`, {
    status: input.status,
    requestId,
    apiCode,
    param,
    retryAfterMs: input.retryAfterMs,
    model: input.model,
  });
}

/**
 * A request id as support needs it (shown to users): letters, digits and `-_.:` only, after the
 * secrets are scrubbed, so an echoed key, or anything else a proxy puts there, is dropped.
 */
export function plausibleRequestId(text: string | undefined, secrets: readonly string[]): string | undefined {
  if (text === undefined) return undefined;
  const cleaned = redact(text.trim(), secrets);
  return /^[A-Za-z0-9_.:-]{1,128}$/.test(cleaned) ? cleaned : undefined;
}

/** Removes every secret from a string that came from upstream (codes, params, messages, ids). */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 4) result = result.split(secret).join("[redacted]");
  }
  return result;
}
