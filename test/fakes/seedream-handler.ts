import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { fakeJpeg, fakePng } from "./jpeg.js";
import type { FakeImage, FakeImageKind, GenerationScenario, RecordedRequest } from "./seedream-server.js";
import { DEFAULT_MESSAGES, reportedSize, sseComment, sseDone, sseFrame } from "./seedream-wire.js";

export interface GenerationContext {
  res: ServerResponse;
  record: RecordedRequest;
  body: Record<string, unknown>;
  scenario: GenerationScenario;
  origin: string;
  files: Map<string, Buffer>;
  gate: (index: number, kind: FakeImageKind) => Promise<void>;
  onWriting: (index: number, kind: FakeImageKind) => void;
  onSent: (index: number, kind: FakeImageKind) => void;
}

const EVENT = {
  succeeded: "image_generation.partial_succeeded",
  failed: "image_generation.partial_failed",
  completed: "image_generation.completed",
  partialImage: "image_generation.partial_image",
} as const;

function defaultImages(body: Record<string, unknown>): FakeImage[] {
  const options = body.sequential_image_generation_options as { max_images?: unknown } | undefined;
  const count =
    body.sequential_image_generation === "auto" && typeof options?.max_images === "number"
      ? options.max_images
      : 1;
  return Array.from({ length: count }, () => ({ kind: "ok" as const }));
}

/** Writes `text` in pieces of `chunkSize` bytes, honouring backpressure; resolves once flushed. */
async function write(res: ServerResponse, text: string, chunkSize: number | undefined): Promise<void> {
  const bytes = Buffer.from(text, "utf8");
  const size = chunkSize && chunkSize > 0 ? chunkSize : bytes.length;
  for (let offset = 0; offset < bytes.length; offset += size) {
    if (res.destroyed) return;
    const piece = bytes.subarray(offset, offset + size);
    const flushed = new Promise<void>((resolve) => res.write(piece, () => resolve()));
    if (res.writableNeedDrain)
      await Promise.race([new Promise((r) => res.once("drain", r)), closedPromise(res)]);
    await Promise.race([flushed, closedPromise(res)]);
  }
}

const closings = new WeakMap<ServerResponse, Promise<void>>();

/** One listener per response, however many writes wait on it. */
function closedPromise(res: ServerResponse): Promise<void> {
  let closing = closings.get(res);
  if (!closing) {
    closing = res.destroyed
      ? Promise.resolve()
      : new Promise((resolve) => res.once("close", () => resolve()));
    closings.set(res, closing);
  }
  return closing;
}

export async function handleGeneration(context: GenerationContext): Promise<void> {
  const { res, body, scenario, record } = context;
  const stream = body.stream === true;
  const format = scenario.format ?? "lf";
  const _asUrl = body.response_format !== "b64_json";
  const images = scenario.images ?? defaultImages(body);
  const size = reportedSize(body.size, scenario.sizeSeparator);
  const base: Record<string, unknown> = {
    ...(scenario.omitModel ? {} : { model: body.model }),
    [scenario.createdField ?? "created"]: 1757321139,
  };
  const headers = {
    "content-type": stream ? "text/event-stream" : "application/json",
    "cache-control": "no-cache",
    "x-request-id": record.requestId,
  };
  const frame = (payload: Record<string, unknown>) =>
    sseFrame(payload, { format, omitTypeField: scenario.omitTypeField });
  const send = (text: string) => write(res, text, scenario.chunkSize);

  if (scenario.headersDelayMs) await sleep(scenario.headersDelayMs);
  if (stream && scenario.earlyHeaders) {
    res.writeHead(200, headers);
    res.flushHeaders();
  }

  let succeeded = 0;
  let pixels = 0;
  const data: Record<string, unknown>[] = [];
  const sentKinds: Array<[number, FakeImageKind]> = [];
  // The model's clock (see `pacing`): when the image before this one was ready.
  let readyAt = performance.now();
  for (const [position, image] of images.entries()) {
    const index = image.index ?? position;
    if (stream && scenario.cutAfter === position) {
      res.destroy();
      return;
    }
    if (stream && scenario.hangAfter === position) {
      await closedPromise(res);
      return;
    }
    if (image.delayMs) {
      readyAt += image.delayMs;
      const wait = readyAt - performance.now();
      if (wait > 0) await sleep(wait);
    }
    if (image.gate) {
      await context.gate(index, image.kind);
      readyAt = Math.max(readyAt, performance.now());
    }
    if (res.destroyed) return;

    const entry = await entryFor(image, index, context, scenario.omitModel ? undefined : size.text);
    if (image.kind === "ok") {
      succeeded += 1;
      pixels += size.pixels;
    }
    if (stream) {
      if (!res.headersSent) res.writeHead(200, headers);
      if (scenario.comments) await send(sseComment("keep-alive", format));
      if (scenario.unknownEvents) {
        await send(frame({ type: EVENT.partialImage, ...base, image_index: index, partial_image_index: 0 }));
      }
      const type = image.kind === "ok" ? EVENT.succeeded : EVENT.failed;
      context.onWriting(index, image.kind);
      await send(frame({ type, ...base, image_index: index, ...entry }));
      if (res.destroyed) return;
      context.onSent(index, image.kind);
      if (scenario.pacing === "after-sent") readyAt = performance.now();
    } else {
      data.push(entry);
      sentKinds.push([index, image.kind]);
    }
    if (image.kind === "internal") break;
  }

  const searched =
    Array.isArray(body.tools) &&
    body.tools.some((tool) => (tool as { type?: unknown }).type === "web_search");
  const usage = {
    generated_images: succeeded,
    output_tokens: Math.round(pixels / 256),
    total_tokens: Math.round(pixels / 256),
    ...(searched ? { tool_usage: { web_search: scenario.webSearches ?? 1 } } : {}),
  };
  if (stream) {
    if (!res.headersSent) res.writeHead(200, headers);
    await send(frame({ type: EVENT.completed, ...base, usage }));
    if (scenario.done !== false) await send(sseDone(format));
    res.end();
    return;
  }
  res.writeHead(200, headers);
  await send(JSON.stringify({ ...base, data, usage }));
  res.end();
  for (const [index, kind] of sentKinds) context.onSent(index, kind);
}

/** Base64 of scenario-supplied bytes, encoded once: a bench sends the same 4K JPEG hundreds of times. */
const base64Of = new WeakMap<Buffer, string>();

function base64(bytes: Buffer): string {
  let text = base64Of.get(bytes);
  if (text === undefined) {
    text = bytes.toString("base64");
    base64Of.set(bytes, text);
  }
  return text;
}

async function entryFor(
  image: FakeImage,
  index: number,
  context: GenerationContext,
  sizeText: string | undefined,
): Promise<Record<string, unknown>> {
  if (image.kind !== "ok") {
    const code =
      image.kind === "internal"
        ? "InternalServiceError"
        : (image.code ?? "OutputImageSensitiveContentDetected");
    const message = `${DEFAULT_MESSAGES[code] ?? "The image failed."} Request id: ${context.record.requestId}`;
    return { error: { code, message } };
  }
  const png = context.body.output_format === "png";
  const bytes = image.bytes ?? (await (png ? fakePng(index) : fakeJpeg(index)));
  const sizeField = sizeText ? { size: sizeText } : {};
  if (context.body.response_format === "b64_json") return { b64_json: base64(bytes), ...sizeField };
  const path = `/files/${context.record.number}-${index}.${png ? "png" : "jpeg"}`;
  context.files.set(path, bytes);
  return { url: `${context.origin}${path}`, ...sizeField };
}
