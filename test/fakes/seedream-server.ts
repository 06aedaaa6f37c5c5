/**
 * A fake Seedream API on 127.0.0.1 (random port) speaking the real wire protocol: JSON in,
 * SSE or JSON out, real JPEG bytes (see `jpeg.ts`), errors in the API's envelope.
 *
 * ```ts
 * const fake = await startFakeSeedream();            // afterAll(() => fake.close())
 * // SEEDREAM_BASE_URL = fake.url  (ends in /api/v3; any path ending /images/generations works)
 * fake.setScenario({ images: [{ kind: "ok" }, { kind: "moderation" }, { kind: "ok", gate: true }] });
 * ...start a generation...
 * await fake.sent(0);               // image 0 has been written to the socket
 * await fake.reached(2);            // the server is holding image 2 at its gate
 * expect(fake.wasSent(2)).toBe(false);
 * fake.release(2);                  // let image 2 go
 * fake.requests[0].body             // the parsed JSON the client sent; .headers too
 * await fake.closed(0)              // "finished" | "aborted" (client hung up early)
 * fake.reset();                     // between tests: requests, log, gates, queue, scenario
 * ```
 *
 * Scenarios:
 * - generation (default): `images` in emission order, each `{ kind: "ok" | "moderation" |
 *   "internal", index?, delayMs?, gate?, code?, bytes? }`. Without `images`, every request gets
 *   `max_images` ok images (1 unless `sequential_image_generation: auto`). An `internal` image
 *   stops the ones after it, like the real API. Stream vs JSON follows the request's `stream`;
 *   b64 vs url follows `response_format` (default `url`, served from this server under /files/).
 *   SSE spelling: `format` (lf | crlf | multiline | eventless), `omitTypeField`, `comments`,
 *   `unknownEvents`, `chunkSize` (split every write), `sizeSeparator`, `createdField`,
 *   `omitModel` (DMXAPI style), `done` (send `[DONE]`, default true).
 *   Timing: `headersDelayMs`, `earlyHeaders` (default: headers go with the first image, as the
 *   real API does), `cutAfter: n` (destroy the socket after n images: a stream stopping
 *   mid-way), `hangAfter: n` (stop writing after n images but keep the socket open), `pacing` (when each
 *   image's `delayMs` starts: the model's own clock by default, or after the previous write).
 * - `error`: `{ status, code, message?, param?, type?, retryAfter?, requestIdHeader? }` sent as
 *   the API's JSON envelope (also for stream requests, as the real API does).
 * - `raw`: `{ status?, headers?, chunks }` written verbatim (recorded streams, HTML gateways).
 * Before any scenario, the fake refuses what the real models refuse (`seedream-refusals.ts`:
 * 5.0 Pro with `stream` or `sequential_image_generation`, `output_format` off the 5.0 family,
 * `tools` off 5.0 lite, fast mode off 4.0/5.0 Pro, `seed` on 4.x/5.x) with a 400.
 * `queue(...)` adds one-shot scenarios used by the next requests in order (e.g. a 429, then
 * success); when the queue is empty, the `setScenario` one applies.
 */
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fakeJpeg } from "./jpeg.js";
import { handleGeneration } from "./seedream-handler.js";
import { refusalFor } from "./seedream-refusals.js";
import { DEFAULT_MESSAGES, errorEnvelope, type SseFormat } from "./seedream-wire.js";

export type FakeImageKind = "ok" | "moderation" | "internal";

export interface FakeImage {
  kind: FakeImageKind;
  /** `image_index` to report; default: position in the list. */
  index?: number;
  /**
   * The model's time to make this image, counted from when the previous one was ready (or from
   * the request): see `pacing` for when the clock restarts.
   */
  delayMs?: number;
  /** Hold this image until `release(index)`. */
  gate?: boolean;
  /** Error code for `moderation` (default `OutputImageSensitiveContentDetected`). */
  code?: string;
  /** Image bytes to send instead of the generated JPEG. */
  bytes?: Buffer;
}

export interface GenerationScenario {
  images?: FakeImage[];
  format?: SseFormat;
  omitTypeField?: boolean;
  comments?: boolean;
  unknownEvents?: boolean;
  chunkSize?: number;
  sizeSeparator?: "x" | "×";
  createdField?: "created" | "created_at";
  omitModel?: boolean;
  done?: boolean;
  headersDelayMs?: number;
  earlyHeaders?: boolean;
  cutAfter?: number;
  hangAfter?: number;
  /** `usage.tool_usage.web_search` reported for a request with `tools: web_search` (default 1). */
  webSearches?: number;
  /**
   * When each image's `delayMs` starts. `generation` (default), as the real API behaves: the model
   * starts the next image as soon as it has made one, however long that one takes to reach a
   * client that reads slowly (the server buffers it), so image k is ready at the request plus the
   * sum of the first k delays and is written once it is ready and the one before it is written.
   * `after-sent`: each delay starts only when the previous image's write has been flushed to the
   * socket, so a slow reader also slows the model down (what this fake did before; the delivery
   * bench keeps it to compare).
   */
  pacing?: "generation" | "after-sent";
}

export interface ErrorScenario {
  error: {
    status: number;
    code: string;
    message?: string;
    param?: string;
    type?: string;
    /** `Retry-After` header value, e.g. "2" or an HTTP date. */
    retryAfter?: string;
    /** Send `X-Request-Id` (default true; the id is also at the end of the message). */
    requestIdHeader?: boolean;
  };
}

export interface RawScenario {
  raw: { status?: number; headers?: Record<string, string>; chunks: Array<string | Buffer> };
}

export type FakeScenario = GenerationScenario | ErrorScenario | RawScenario;

export interface RecordedRequest {
  number: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined if it was not JSON). */
  body: Record<string, unknown> | undefined;
  rawBody: string;
  requestId: string;
  /** When its body had arrived: `performance.timeOrigin + performance.now()` (ms). */
  at: number;
}

export interface FakeLogEntry {
  request: number;
  index: number;
  kind: FakeImageKind;
  /** `writing`: its event is about to be written; `sent`: the write has been flushed. */
  event: "reached-gate" | "writing" | "sent";
  /** When it happened: `performance.timeOrigin + performance.now()` (ms), comparable across processes. */
  at: number;
}

export interface FakeSeedream {
  /** Base URL including `/api/v3`, no trailing slash. */
  url: string;
  origin: string;
  requests: RecordedRequest[];
  /** Image downloads (`response_format: url`), with the headers the client sent. */
  downloads: Array<{ path: string; headers: IncomingHttpHeaders }>;
  log: FakeLogEntry[];
  setScenario(scenario: FakeScenario): void;
  queue(...scenarios: FakeScenario[]): void;
  release(index: number): void;
  releaseAll(): void;
  /** Resolves when image `index` has been written (by any request). */
  sent(index: number): Promise<void>;
  wasSent(index: number): boolean;
  /** Resolves when the server is holding image `index` at its gate. */
  reached(index: number): Promise<void>;
  /** The JPEG the fake sends for `index` (same bytes the client should receive). */
  imageBytes(index: number): Promise<Buffer>;
  /** Resolves when request `number` (0-based) has arrived. */
  request(number: number): Promise<RecordedRequest>;
  /** How request `number`'s response ended: "finished", or "aborted" when the client hung up. */
  closed(number: number): Promise<"finished" | "aborted">;
  reset(): void;
  close(): Promise<void>;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lazily created promises keyed by number: `get(k)` before or after `resolve(k)` both work. */
class Signals<T = void> {
  private map = new Map<number, Deferred<T> & { done: boolean }>();
  private entry(key: number) {
    let found = this.map.get(key);
    if (!found) {
      found = { ...deferred<T>(), done: false };
      this.map.set(key, found);
    }
    return found;
  }
  get(key: number): Promise<T> {
    return this.entry(key).promise;
  }
  resolve(key: number, value: T): void {
    const found = this.entry(key);
    found.done = true;
    found.resolve(value);
  }
  done(key: number): boolean {
    return this.map.get(key)?.done ?? false;
  }
  resolveAll(value: T): void {
    for (const key of this.map.keys()) this.resolve(key, value);
  }
  clear(): void {
    this.map.clear();
  }
}

export async function startFakeSeedream(initial: FakeScenario = {}): Promise<FakeSeedream> {
  let scenario = initial;
  let pending: FakeScenario[] = [];
  const gates = new Signals();
  let gatesOpen = false;
  const sentSignals = new Signals();
  const reachedSignals = new Signals();
  const arrived = new Signals<RecordedRequest>();
  const closedSignals = new Signals<"finished" | "aborted">();
  const files = new Map<string, Buffer>();
  const sockets = new Set<import("node:net").Socket>();

  const fake: FakeSeedream = {
    url: "",
    origin: "",
    requests: [],
    downloads: [],
    log: [],
    setScenario: (next) => {
      scenario = next;
    },
    queue: (...next) => {
      pending.push(...next);
    },
    release: (index) => gates.resolve(index),
    releaseAll: () => {
      gatesOpen = true;
      gates.resolveAll();
    },
    sent: (index) => sentSignals.get(index),
    wasSent: (index) => sentSignals.done(index),
    reached: (index) => reachedSignals.get(index),
    imageBytes: (index) => fakeJpeg(index),
    request: (number) => arrived.get(number),
    closed: (number) => closedSignals.get(number),
    reset: () => {
      scenario = {};
      pending = [];
      fake.requests.length = 0;
      fake.downloads.length = 0;
      fake.log.length = 0;
      // Let handlers still parked at an old gate finish (their clients are gone) before forgetting.
      gates.resolveAll();
      gatesOpen = false;
      for (const signals of [gates, sentSignals, reachedSignals, arrived, closedSignals]) signals.clear();
    },
    close: async () => {
      gatesOpen = true;
      gates.resolveAll();
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method === "GET" && path.startsWith("/files/")) {
      fake.downloads.push({ path, headers: req.headers });
      const bytes = files.get(path);
      res.writeHead(bytes ? 200 : 404, { "content-type": bytes ? "image/jpeg" : "text/plain" });
      res.end(bytes ?? "not found");
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString("utf8");
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(rawBody) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    const number = fake.requests.length;
    const requestId = `0217fake${String(number).padStart(8, "0")}`;
    const record: RecordedRequest = {
      number,
      method: req.method ?? "",
      path,
      headers: req.headers,
      body,
      rawBody,
      requestId,
      at: wallClock(),
    };
    fake.requests.push(record);
    arrived.resolve(number, record);
    res.on("close", () => closedSignals.resolve(number, res.writableFinished ? "finished" : "aborted"));

    if (req.method !== "POST" || !path.endsWith("/images/generations")) {
      sendError(
        res,
        { status: 404, code: "NotFound", message: `No route ${req.method} ${path}.` },
        requestId,
      );
      return;
    }
    if (!body || typeof body.model !== "string" || typeof body.prompt !== "string") {
      sendError(
        res,
        { status: 400, code: "MissingParameter", message: "model and prompt are required.", param: "prompt" },
        requestId,
      );
      return;
    }
    // The model's own refusals come first, as in production: a scenario cannot mask a bad body.
    const refusal = refusalFor(body);
    if (refusal) {
      sendError(res, refusal, requestId);
      return;
    }
    const current = pending.shift() ?? scenario;
    if ("error" in current) {
      sendError(res, current.error, requestId);
      return;
    }
    if ("raw" in current) {
      res.writeHead(
        current.raw.status ?? 200,
        current.raw.headers ?? { "content-type": "text/event-stream" },
      );
      for (const chunk of current.raw.chunks) res.write(chunk);
      res.end();
      return;
    }
    await handleGeneration({
      res,
      record,
      body,
      scenario: current,
      origin: fake.origin,
      files,
      gate: (index, kind) => {
        fake.log.push({ request: number, index, kind, event: "reached-gate", at: wallClock() });
        reachedSignals.resolve(index);
        return gatesOpen ? Promise.resolve() : gates.get(index);
      },
      onWriting: (index, kind) => {
        fake.log.push({ request: number, index, kind, event: "writing", at: wallClock() });
      },
      onSent: (index, kind) => {
        fake.log.push({ request: number, index, kind, event: "sent", at: wallClock() });
        sentSignals.resolve(index);
      },
    });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  fake.origin = `http://127.0.0.1:${port}`;
  fake.url = `${fake.origin}/api/v3`;
  return fake;
}

/** Milliseconds since the epoch with sub-millisecond resolution (the benches compare processes' times). */
const wallClock = (): number => performance.timeOrigin + performance.now();

function sendError(res: ServerResponse, error: ErrorScenario["error"], requestId: string): void {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (error.requestIdHeader !== false) headers["x-request-id"] = requestId;
  if (error.retryAfter !== undefined) headers["retry-after"] = error.retryAfter;
  const message = error.message ?? DEFAULT_MESSAGES[error.code] ?? "The request failed.";
  res.writeHead(error.status, headers);
  res.end(JSON.stringify(errorEnvelope({ ...error, message }, requestId)));
}
