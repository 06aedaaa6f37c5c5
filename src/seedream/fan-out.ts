import type { SeedreamError } from "./errors.js";
import type { GenerationEvent } from "./types.js";

/**
 * `--n N` on a model without group or stream support (5.0 Pro, SeedEdit 3.0, Seedream 3.0): N
 * single-image requests, at most `parallel` in flight, merged into one event stream in order of
 * arrival. Slot k is the k-th request to finish, so labels count up as images land, exactly as a
 * streamed group does. A request that fails on its own (moderation, a server error, a timeout
 * after its retries) is that slot's `image_failed` and the rest go on; a failure that every
 * request would share (the key, the account, the model, the parameters, a cancel) stops them all.
 * Breaking out, or aborting `signal`, aborts every request in flight.
 */
export async function* fanOut(
  total: number,
  parallel: number,
  one: (signal: AbortSignal) => AsyncIterable<GenerationEvent>,
  signal: AbortSignal | undefined,
): AsyncGenerator<GenerationEvent, void, undefined> {
  const stop = new AbortController();
  const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  type Outcome = { slot: number; events: GenerationEvent[] } | { slot: number; error: unknown };
  const running = new Map<number, Promise<Outcome>>();
  let started = 0;
  let arrived = 0;
  let generatedImages = 0;
  let webSearches: number | undefined;

  const start = (): void => {
    const slot = started++;
    const outcome = collect(one(combined)).then(
      (events): Outcome => ({ slot, events }),
      (error: unknown): Outcome => ({ slot, error }),
    );
    running.set(slot, outcome);
  };

  try {
    while (started < total || running.size > 0) {
      while (started < total && running.size < Math.max(1, parallel)) start();
      const outcome = await Promise.race(running.values());
      running.delete(outcome.slot);
      const index = arrived++;
      if ("error" in outcome) {
        if (sharedFailure(outcome.error)) throw outcome.error;
        yield slotFailure(index, outcome.error as SeedreamError);
        continue;
      }
      for (const event of outcome.events) {
        if (event.type === "completed") {
          generatedImages += event.usage.generatedImages;
          if (event.usage.webSearches !== undefined)
            webSearches = (webSearches ?? 0) + event.usage.webSearches;
        } else {
          // One image per request: its slot is its place in the order of arrival.
          yield { ...event, index };
        }
      }
    }
    yield {
      type: "completed",
      usage: { generatedImages, ...(webSearches === undefined ? {} : { webSearches }) },
    };
  } finally {
    stop.abort();
    await Promise.allSettled(running.values());
  }
}

async function collect(events: AsyncIterable<GenerationEvent>): Promise<GenerationEvent[]> {
  const all: GenerationEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

/** Failures no other request of the same batch would escape: stop everything, say it once. */
const SHARED = new Set([
  "aborted",
  "auth",
  "account",
  "account_overdue",
  "model_not_enabled",
  "model_unavailable",
  "invalid_parameter",
  "validation",
]);

function sharedFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code !== "string" || SHARED.has(code);
}

function slotFailure(index: number, error: SeedreamError): GenerationEvent {
  return {
    type: "image_failed",
    index,
    code: error.apiCode ?? error.code,
    // Already scrubbed of the key by the client.
    message: error.message,
    kind: error.code.startsWith("moderation") ? "moderation" : "other",
  };
}
