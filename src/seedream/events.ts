import type { z } from "zod";
import { apiCodeOf, errorFromApi, imageFailureKind, redact, seedreamError } from "./error-mapping.js";
import { SeedreamError } from "./errors.js";
import { parseEventJson } from "./event-json.js";
import type { SseMessage } from "./sse.js";
import type { GenerationEvent, Usage } from "./types.js";
import {
  parseWireSize,
  STREAM_EVENT,
  type WireDataEntry,
  type WireError,
  wireErrorEnvelopeSchema,
  wireResponseSchema,
  wireStreamEventSchema,
  type wireUsageSchema,
} from "./wire.js";

/** What translating wire events into domain events needs from the client. */
export interface TranslateContext {
  status: number;
  requestIdHeader: string | undefined;
  model: string;
  secrets: readonly string[];
  /** Fetches an image the API returned as a URL (`response_format: url`). */
  download: (url: string) => Promise<Buffer>;
}

export function sniffMimeType(bytes: Buffer): string {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  if (
    bytes.subarray(0, 4).toString("latin1") === "RIFF" &&
    bytes.subarray(8, 12).toString("latin1") === "WEBP"
  ) {
    return "image/webp";
  }
  return "image/jpeg";
}

async function imageEvent(
  index: number,
  entry: WireDataEntry,
  context: TranslateContext,
  decoded?: Buffer,
): Promise<GenerationEvent> {
  const size = parseWireSize(entry.size);
  if (decoded || entry.b64_json) {
    const bytes = decoded ?? Buffer.from(entry.b64_json ?? "", "base64");
    return { type: "image", index, bytes, mimeType: sniffMimeType(bytes), ...(size ? { size } : {}) };
  }
  const url = entry.url ?? "";
  try {
    const bytes = await context.download(url);
    return { type: "image", index, bytes, mimeType: sniffMimeType(bytes), url, ...(size ? { size } : {}) };
  } catch (error) {
    if (error instanceof SeedreamError && error.code === "aborted") throw error;
    // The image exists but we could not fetch it: one failed slot, not a failed group.
    const message = redact(error instanceof Error ? error.message : String(error), context.secrets);
    return { type: "image_failed", index, code: "ImageDownloadFailed", message, kind: "other" };
  }
}

function failedEvent(
  index: number,
  error: WireError | null | undefined,
  context: TranslateContext,
): GenerationEvent {
  const code = redact(apiCodeOf(error ?? undefined) ?? "Unknown", context.secrets);
  const message = redact(error?.message ?? "", context.secrets);
  return { type: "image_failed", index, code, message, kind: imageFailureKind(code) };
}

function usageOf(usage: z.infer<typeof wireUsageSchema> | null | undefined, succeeded: number): Usage {
  const searches = usage?.tool_usage?.web_search;
  return {
    generatedImages: usage?.generated_images ?? succeeded,
    ...(searches != null ? { webSearches: searches } : {}),
    ...(usage?.output_tokens != null ? { outputTokens: usage.output_tokens } : {}),
    ...(usage?.total_tokens != null ? { totalTokens: usage.total_tokens } : {}),
  };
}

function protocolError(what: string, context: TranslateContext, cause?: unknown) {
  return seedreamError("protocol", `Seedream sent ${what}.`, {
    status: context.status,
    requestId: context.requestIdHeader,
    cause,
  });
}

function parseJson<T>(text: string, context: TranslateContext, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (error) {
    throw protocolError("an event that is not JSON", context, error);
  }
}

/**
 * Domain events from SSE messages. Ends after `completed` (or `[DONE]`); a stream that ends
 * before either is an error, because images may be missing.
 */
export async function* eventsFromSse(
  messages: AsyncIterable<SseMessage>,
  context: TranslateContext,
): AsyncGenerator<GenerationEvent, void, undefined> {
  let seen = 0;
  let succeeded = 0;
  for await (const message of messages) {
    if (message.data.trim() === "[DONE]") {
      // Some gateways end with [DONE] but no `completed`: the images are all there.
      yield { type: "completed", usage: usageOf(undefined, succeeded) };
      return;
    }
    // The base64 was lifted out of the bytes, or is decoded straight from the event's text
    // (see sse-lift.ts, event-json.ts), not via a string of its own.
    const { json, bytes } = parseJson(message.data, context, (text) => parseEventJson(text, message.lifted));
    const parsed = wireStreamEventSchema.safeParse(json);
    if (!parsed.success) throw protocolError("an event of an unexpected shape", context, parsed.error);
    const event = parsed.data;
    const type = event.type || (message.event !== "message" ? message.event : undefined);
    if (type === STREAM_EVENT.succeeded || type === STREAM_EVENT.failed) {
      const index = event.image_index ?? seen;
      seen += 1;
      if (type === STREAM_EVENT.failed) {
        yield failedEvent(index, event.error, context);
        continue;
      }
      if (!bytes && !event.b64_json && !event.url) {
        throw protocolError("an image event without an image", context);
      }
      const result = await imageEvent(index, event, context, bytes);
      if (result.type === "image") succeeded += 1;
      yield result;
    } else if (type === STREAM_EVENT.completed) {
      yield { type: "completed", usage: usageOf(event.usage, succeeded) };
      return;
    } else if ((!type || type === "error") && event.error) {
      // An error event mid-stream is its HTTP twin: the same typed error.
      throw errorFromApi({
        status: context.status,
        error: event.error,
        requestIdHeader: context.requestIdHeader,
        model: context.model,
        secrets: context.secrets,
      });
    }
    // Anything else (`image_generation.partial_image`, future types) is not ours to fail on.
  }
  throw seedreamError("stream_ended", "The Seedream stream ended before the generation was complete.", {
    status: context.status,
    requestId: context.requestIdHeader,
  });
}

/** Domain events from a whole JSON body: a non-stream response, or an error envelope. */
export async function* eventsFromJson(
  text: string,
  context: TranslateContext,
): AsyncGenerator<GenerationEvent, void, undefined> {
  const json = parseJson(text, context, JSON.parse);
  const response = wireResponseSchema.safeParse(json);
  if (!response.success) {
    const envelope = wireErrorEnvelopeSchema.safeParse(json);
    if (envelope.success) {
      throw errorFromApi({
        status: context.status,
        error: envelope.data.error,
        requestIdHeader: context.requestIdHeader,
        model: context.model,
        secrets: context.secrets,
      });
    }
    throw protocolError("a reply of an unexpected shape", context, response.error);
  }
  let succeeded = 0;
  for (const [index, entry] of response.data.data.entries()) {
    if (entry.error || (!entry.b64_json && !entry.url)) {
      yield failedEvent(index, entry.error, context);
      continue;
    }
    const event = await imageEvent(index, entry, context);
    if (event.type === "image") succeeded += 1;
    yield event;
  }
  yield { type: "completed", usage: usageOf(response.data.usage, succeeded) };
}
