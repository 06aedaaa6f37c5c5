/**
 * How the fake Seedream server spells things on the wire: SSE framing variants, error envelopes,
 * image sizes. Kept apart from the server so tests can also build recorded streams by hand.
 */

export type SseFormat = "lf" | "crlf" | "multiline" | "eventless";

export interface FrameOptions {
  format?: SseFormat;
  /** Drop `type` from the JSON, leaving only the `event:` line to say what it is. */
  omitTypeField?: boolean;
}

/** One SSE event carrying `payload` (which includes `type` unless `omitTypeField`). */
export function sseFrame(payload: Record<string, unknown>, options: FrameOptions = {}): string {
  const format = options.format ?? "lf";
  const { type, ...rest } = payload;
  const data = options.omitTypeField ? rest : payload;
  const eol = format === "crlf" ? "\r\n" : "\n";
  const eventLine = format === "eventless" ? "" : `event: ${String(type)}${eol}`;
  const json = format === "multiline" ? JSON.stringify(data, null, 2) : JSON.stringify(data);
  const dataLines = json
    .split("\n")
    .map((line) => `data: ${line}`)
    .join(eol);
  return `${eventLine}${dataLines}${eol}${eol}`;
}

export function sseDone(format: SseFormat = "lf"): string {
  const eol = format === "crlf" ? "\r\n" : "\n";
  return `data: [DONE]${eol}${eol}`;
}

export function sseComment(text: string, format: SseFormat = "lf"): string {
  return `: ${text}${format === "crlf" ? "\r\n" : "\n"}`;
}

export interface ErrorBody {
  code: string;
  message: string;
  param?: string;
  type?: string;
}

/** The API's envelope; Ark messages end with the request id, which clients may parse. */
export function errorEnvelope(error: ErrorBody, requestId: string): { error: Record<string, string> } {
  return {
    error: {
      code: error.code,
      message: `${error.message} Request id: ${requestId}`,
      ...(error.param ? { param: error.param } : {}),
      type: error.type ?? "BadRequest",
    },
  };
}

export const DEFAULT_MESSAGES: Record<string, string> = {
  InputTextSensitiveContentDetected:
    "The request failed because the input text may contain sensitive information.",
  InputImageSensitiveContentDetected:
    "The request failed because the input image may contain sensitive information.",
  OutputImageSensitiveContentDetected:
    "The request failed because the output image may contain sensitive information.",
  InternalServiceError: "The service encountered an unexpected internal error.",
  AuthenticationError: "The API key in the request is missing or invalid.",
  "InvalidEndpointOrModel.NotFound": "The model or endpoint does not exist or you do not have access to it.",
  "RateLimitExceeded.EndpointIPM": "Images per minute limit of the model has been exceeded.",
  InvalidParameter: "A parameter specified in the request is not valid.",
};

/** The `size` the API reports for a requested size (tiers map to their square). */
export function reportedSize(
  requested: unknown,
  separator: "x" | "×" = "x",
): { text: string; pixels: number } {
  let width = 2048;
  let height = 2048;
  const text = typeof requested === "string" ? requested : "";
  const tier = /^([1-4])K$/i.exec(text);
  const pixels = /^(\d+)x(\d+)$/i.exec(text);
  if (tier) width = height = Number(tier[1]) * 1024;
  else if (pixels) [width, height] = [Number(pixels[1]), Number(pixels[2])];
  return { text: `${width}${separator}${height}`, pixels: width * height };
}
