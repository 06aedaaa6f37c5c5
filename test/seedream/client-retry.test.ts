import { describe, expect, it } from "vitest";
import { errorSentence } from "../../src/core/messages.js";
import type { RetryInfo } from "../../src/seedream/client.js";
import {
  SeedreamAbortedError,
  type SeedreamError,
  SeedreamRateLimitError,
} from "../../src/seedream/errors.js";
import type { FakeSeedream } from "../fakes/seedream-server.js";
import { caught, clientFor, collect, useFakeSeedream } from "./helpers.js";

let fake: FakeSeedream;
useFakeSeedream((started) => {
  fake = started;
});

/** A sleep that only records what it was asked to wait. */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: (ms: number) => Promise.resolve(void waits.push(ms)) };
}

describe("retries before the first image", () => {
  it("retries a 429 (honouring Retry-After) and a 500, then succeeds", async () => {
    fake.queue(
      { error: { status: 429, code: "RateLimitExceeded.EndpointIPM", retryAfter: "3" } },
      { error: { status: 500, code: "InternalServiceError" } },
    );
    const { waits, sleep } = recordingSleep();
    const retries: RetryInfo[] = [];
    const client = clientFor(fake, {
      maxRetries: 2,
      sleep,
      random: () => 0.5,
      onRetry: (info) => retries.push(info),
    });
    const events = await collect(client.generate({ prompt: "again" }));
    expect(events.map((event) => event.type)).toEqual(["image", "completed"]);
    expect(fake.requests).toHaveLength(3);
    // 3 s from Retry-After; then backoff 2 s ceiling with equal jitter at random 0.5 → 1.5 s.
    expect(waits).toEqual([3000, 1500]);
    expect(retries.map((info) => [info.attempt, info.error.code])).toEqual([
      [1, "rate_limited"],
      [2, "server"],
    ]);
  });

  it("honours a Retry-After given as an HTTP date", async () => {
    const date = "Wed, 21 Oct 2015 07:28:00 GMT";
    fake.queue({ error: { status: 429, code: "ServerOverloaded", retryAfter: date } });
    const { waits, sleep } = recordingSleep();
    const client = clientFor(fake, { maxRetries: 1, sleep, now: () => Date.parse(date) - 5000 });
    await collect(client.generate({ prompt: "date" }));
    expect(waits).toEqual([5000]);
  });

  it("gives up after maxRetries with the last error", async () => {
    fake.setScenario({ error: { status: 429, code: "RateLimitExceeded.EndpointIPM" } });
    const { waits, sleep } = recordingSleep();
    const error = await caught(
      collect(clientFor(fake, { maxRetries: 2, sleep, random: () => 0 }).generate({ prompt: "p" })),
    );
    expect(error).toBeInstanceOf(SeedreamRateLimitError);
    expect(fake.requests).toHaveLength(3);
    expect(waits).toEqual([500, 1000]);
  });

  it("does not wait for a Retry-After longer than a minute", async () => {
    fake.setScenario({ error: { status: 429, code: "QuotaExceeded", retryAfter: "3600" } });
    const error = (await caught(
      collect(clientFor(fake, { maxRetries: 2 }).generate({ prompt: "p" })),
    )) as SeedreamError;
    expect(error).toMatchObject({ code: "rate_limited", retryAfterMs: 3_600_000 });
    expect(fake.requests).toHaveLength(1);
  });

  it("does not retry errors a retry cannot fix", async () => {
    fake.setScenario({ error: { status: 400, code: "InputTextSensitiveContentDetected" } });
    await caught(collect(clientFor(fake, { maxRetries: 2 }).generate({ prompt: "p" })));
    expect(fake.requests).toHaveLength(1);
  });

  it("retries a connection dropped before any image", async () => {
    fake.queue({ cutAfter: 0 });
    const client = clientFor(fake, { maxRetries: 1 });
    const events = await collect(client.generate({ prompt: "drop" }));
    expect(events.map((event) => event.type)).toEqual(["image", "completed"]);
    expect(fake.requests).toHaveLength(2);
  });

  it("never retries once an image has been yielded: a stream stopping mid-way is an error", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }, { kind: "ok" }], cutAfter: 1 });
    const seen: string[] = [];
    const client = clientFor(fake, { maxRetries: 3 });
    const error = await caught(
      (async () => {
        for await (const event of client.generate({ prompt: "cut", maxImages: 3 })) seen.push(event.type);
      })(),
    );
    expect(seen).toEqual(["image"]);
    expect(error).toMatchObject({ name: "SeedreamNetworkError", code: "stream_ended" });
    expect(fake.requests).toHaveLength(1);
  });

  it("does not retry after a failed image either", async () => {
    fake.setScenario({ images: [{ kind: "moderation" }, { kind: "ok" }], cutAfter: 1 });
    const error = await caught(
      collect(clientFor(fake, { maxRetries: 3 }).generate({ prompt: "p", maxImages: 2 })),
    );
    expect(error).toMatchObject({ name: "SeedreamNetworkError", code: "stream_ended" });
    expect(fake.requests).toHaveLength(1);
  });
});

describe("cancelling and timeouts", () => {
  it("aborting the signal mid-stream cancels the HTTP request", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
    const controller = new AbortController();
    const iterator = clientFor(fake)
      .generate({ prompt: "stop", maxImages: 2 }, { signal: controller.signal })
      [Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: "image", index: 0 });
    const next = iterator.next();
    await fake.reached(1);
    controller.abort();
    const error = await caught(next);
    expect(error).toBeInstanceOf(SeedreamAbortedError);
    expect(errorSentence(error)).toBe("Cancelled.");
    expect(await fake.closed(0)).toBe("aborted");
    expect(fake.wasSent(1)).toBe(false);
  });

  it("breaking out of the for-await closes the connection", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }, { kind: "ok" }] });
    for await (const event of clientFor(fake).generate({ prompt: "enough", maxImages: 3 })) {
      expect(event).toMatchObject({ type: "image", index: 0 });
      break;
    }
    expect(await fake.closed(0)).toBe("aborted");
  });

  it("an abort during the retry wait stops without another request", async () => {
    fake.setScenario({ error: { status: 500, code: "InternalServiceError" } });
    const controller = new AbortController();
    const client = clientFor(fake, {
      maxRetries: 2,
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => {
          signal?.addEventListener("abort", () => reject(signal.reason));
          controller.abort();
        }),
    });
    const error = await caught(collect(client.generate({ prompt: "p" }, { signal: controller.signal })));
    expect(error).toBeInstanceOf(SeedreamAbortedError);
    expect(fake.requests).toHaveLength(1);
  });

  it("an already-aborted signal sends nothing", async () => {
    const error = await caught(
      collect(clientFor(fake).generate({ prompt: "p" }, { signal: AbortSignal.abort() })),
    );
    expect(error).toBeInstanceOf(SeedreamAbortedError);
    expect(fake.requests).toHaveLength(0);
  });

  it("times out when the stream goes quiet between images, without retrying", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }], hangAfter: 1 });
    const seen: string[] = [];
    const client = clientFor(fake, { idleTimeoutMs: 150, maxRetries: 2 });
    const error = await caught(
      (async () => {
        for await (const event of client.generate({ prompt: "quiet", maxImages: 2 })) seen.push(event.type);
      })(),
    );
    expect(seen).toEqual(["image"]);
    expect(error).toMatchObject({ name: "SeedreamTimeoutError", code: "timeout" });
    expect(await fake.closed(0)).toBe("aborted");
  });

  it("times out when headers never come, without retrying", async () => {
    fake.setScenario({ images: [{ kind: "ok", gate: true }] });
    const client = clientFor(fake, { headersTimeoutMs: 150, maxRetries: 2 });
    const error = await caught(collect(client.generate({ prompt: "never" })));
    expect(error).toMatchObject({ name: "SeedreamTimeoutError", code: "timeout" });
    expect(fake.requests).toHaveLength(1);
    await client.close();
  });
});

describe("validation happens before any request", () => {
  it("rejects a seed on Seedream 4.5 without calling the API", async () => {
    const error = await caught(collect(clientFor(fake).generate({ prompt: "p", seed: 1 })));
    expect(error).toMatchObject({ name: "SeedreamValidationError", code: "validation" });
    expect(fake.requests).toHaveLength(0);
  });
});
