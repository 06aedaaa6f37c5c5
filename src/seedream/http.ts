import type { IncomingHttpHeaders } from "node:http";
import { type Dispatcher, request } from "undici";
import { redact, seedreamError } from "./error-mapping.js";
import { SeedreamError } from "./errors.js";

export interface HttpSettings {
  /** Always ours or injected: discord.js loads undici 6 and shares the process-wide dispatcher. */
  dispatcher: Dispatcher;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  secrets: readonly string[];
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Chunks as they arrive; waiting longer than `idleTimeoutMs` for one aborts with a timeout. */
  body: AsyncIterable<Buffer>;
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `controller` is the attempt's own (the idle timer aborts it with a timeout; clean-up after a
 * `break` aborts it); `signal` is that one combined with the caller's cancel (`AbortSignal.any`).
 */
export interface AttemptSignals {
  controller: AbortController;
  signal: AbortSignal;
}

/** One HTTP exchange, aborted through `signals`: any abort closes the connection. */
export async function send(
  url: string,
  init: { method: "GET" | "POST"; headers?: Record<string, string>; body?: string },
  signals: AttemptSignals,
  settings: HttpSettings,
): Promise<HttpResponse> {
  const { controller } = signals;
  const response = await request(url, {
    method: init.method,
    headers: init.headers,
    body: init.body,
    dispatcher: settings.dispatcher,
    signal: signals.signal,
    headersTimeout: settings.headersTimeoutMs,
    // Our own idle timer (below) only runs while we are waiting for data; undici's would also
    // count the time the caller spends posting an image to a chat before asking for the next.
    bodyTimeout: 0,
  });
  // After an abort the body errors with the abort reason; nobody may be listening any more.
  response.body.on("error", () => {});
  return {
    status: response.statusCode,
    headers: response.headers,
    body: idleTimed(response.body, settings.idleTimeoutMs, controller),
  };
}

async function* idleTimed(
  body: AsyncIterable<Buffer>,
  idleMs: number,
  controller: AbortController,
): AsyncGenerator<Buffer, void, undefined> {
  const iterator = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      const timer = setTimeout(() => {
        controller.abort(
          seedreamError(
            "timeout",
            `Seedream sent nothing for ${Math.round(idleMs / 1000)} s; gave up waiting.`,
          ),
        );
      }, idleMs);
      let step: IteratorResult<Buffer>;
      try {
        step = await iterator.next();
      } finally {
        clearTimeout(timer);
      }
      if (step.done) return;
      yield step.value;
    }
  } finally {
    await iterator.return?.();
  }
}

export async function readAll(
  body: AsyncIterable<Buffer>,
  limitBytes = Number.POSITIVE_INFINITY,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    length += chunk.length;
    if (length > limitBytes) break;
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/**
 * Turns whatever a failed exchange threw into a SeedreamError: our own timeout (the abort
 * reason), a cancel by the caller, undici's timeouts, or a network failure.
 */
export function transportError(
  error: unknown,
  context: { controller: AbortController; callerSignal: AbortSignal | undefined; secrets: readonly string[] },
): SeedreamError {
  const reason: unknown = context.controller.signal.reason;
  if (context.controller.signal.aborted && reason instanceof SeedreamError) return reason;
  if (context.callerSignal?.aborted) {
    return seedreamError("aborted", "The Seedream request was cancelled.", {
      cause: context.callerSignal.reason,
    });
  }
  if (error instanceof SeedreamError) return error;
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = redact(error instanceof Error ? error.message : String(error), context.secrets);
  if (typeof code === "string" && TIMEOUT_CODES.has(code)) {
    return seedreamError("timeout", `Seedream did not answer in time (${message}).`, { cause: error });
  }
  return seedreamError("network", `Could not talk to Seedream: ${message}`, { cause: error });
}

export type BodyKind = "json" | "sse" | "empty";

/**
 * Looks at the first meaningful byte: `{` or `[` is JSON (an error, or a non-stream reply even
 * though we asked for a stream), anything else is SSE. Content-Type is not trusted for this.
 */
export async function sniffBody(
  body: AsyncIterable<Buffer>,
): Promise<{ kind: BodyKind; chunks: AsyncIterable<Buffer> }> {
  const iterator = body[Symbol.asyncIterator]();
  const held: Buffer[] = [];
  let kind: BodyKind = "empty";
  for (;;) {
    const step = await iterator.next();
    if (step.done) break;
    held.push(step.value);
    const first = firstMeaningfulByte(step.value, held.length === 1);
    if (first === undefined) continue;
    kind = first === 0x7b || first === 0x5b ? "json" : "sse";
    break;
  }
  async function* chunks(): AsyncGenerator<Buffer, void, undefined> {
    try {
      yield* held.splice(0);
      for (;;) {
        const step = await iterator.next();
        if (step.done) return;
        yield step.value;
      }
    } finally {
      await iterator.return?.();
    }
  }
  return { kind, chunks: chunks() };
}

function firstMeaningfulByte(chunk: Buffer, isFirst: boolean): number | undefined {
  // Skip a UTF-8 byte-order mark at the very start, then whitespace.
  let i = isFirst && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
  for (; i < chunk.length; i++) {
    const byte = chunk[i] as number;
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return byte;
  }
  return undefined;
}
