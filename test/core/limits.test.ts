import { beforeEach, describe, expect, it } from "vitest";
import { CancelledError, QueueFullError, UserQueueFullError } from "../../src/core/errors.js";
import { RunLimiter } from "../../src/core/limits.js";
import { errorSentence } from "../../src/core/messages.js";
import type { StatusTimers } from "../../src/core/status-throttle.js";
import { SeedreamValidationError } from "../../src/seedream/errors.js";
import { type ModelCapabilities, modelCapabilities } from "../../src/seedream/models.js";
import { validateRequest } from "../../src/seedream/validate.js";

/** The reference-count rules are the model table's, checked by the one validation. */
const checkReferenceCount = (references: number, images: number, caps: ModelCapabilities) =>
  validateRequest({ prompt: "p", maxImages: images }, caps, references);

const seedream45 = modelCapabilities("doubao-seedream-4-5-251128");

function countRefusal(references: number, images: number, modelId = "doubao-seedream-4-5-251128"): string {
  try {
    checkReferenceCount(references, images, modelCapabilities(modelId));
  } catch (error) {
    expect(error).toBeInstanceOf(SeedreamValidationError);
    return errorSentence(error);
  }
  throw new Error("expected a refusal");
}

describe("reference count limits", () => {
  it("accepts references + images up to 15", () => {
    expect(() => checkReferenceCount(14, 1, seedream45)).not.toThrow();
    expect(() => checkReferenceCount(10, 5, seedream45)).not.toThrow();
    expect(() => checkReferenceCount(0, 15, seedream45)).not.toThrow();
  });

  it("refuses references + images over 15 and says what --n would fit", () => {
    expect(countRefusal(12, 4)).toBe(
      "12 reference images plus 4 new images is more than the 15 a request may have: use --n 3 or attach fewer images.",
    );
  });

  it("refuses more references than the model takes", () => {
    expect(countRefusal(15, 1)).toBe(
      "Seedream 4.5 takes at most 14 reference images and this request has 15: attach fewer images.",
    );
  });

  it("refuses references on a text-only model and names the fix", () => {
    expect(countRefusal(1, 1, "doubao-seedream-3-0-t2i-250415")).toContain("--model 4.5");
  });

  it("requires the one image SeedEdit edits", () => {
    expect(countRefusal(0, 1, "doubao-seededit-3-0-i2i-250628")).toContain("attach one, or reply to one");
  });
});

function limiter(
  maxConcurrentRuns: number,
  maxConcurrentRunsPerUser: number,
  maxQueueLength = 10,
  maxQueuedPerUser = 10,
) {
  return new RunLimiter(
    { maxConcurrentRuns, maxConcurrentRunsPerUser, maxQueueLength, maxQueuedPerUser },
    timers,
  );
}

/** Time that moves only when a test says so; `advance` runs what fell due, in order. */
class ManualTimers implements StatusTimers {
  time = 0;
  #due: { at: number; fn: () => void; cancelled: boolean }[] = [];
  now(): number {
    return this.time;
  }
  schedule(fn: () => void, ms: number): () => void {
    const item = { at: this.time + ms, fn, cancelled: false };
    this.#due.push(item);
    return () => {
      item.cancelled = true;
    };
  }
  advance(ms: number): void {
    this.time += ms;
    for (;;) {
      const next = this.#due
        .filter((item) => !item.cancelled && item.at <= this.time)
        .sort((a, b) => a.at - b.at)[0];
      if (!next) return;
      next.cancelled = true;
      next.fn();
    }
  }
}

let timers = new ManualTimers();
beforeEach(() => {
  timers = new ManualTimers();
});

describe("run limits", () => {
  it("queues beyond the overall limit and reports positions as they change", async () => {
    const limits = limiter(1, 1);
    const positions: Record<string, number[]> = { b: [], c: [] };
    const a = await limits.acquire("a");
    const order: string[] = [];
    const b = limits.acquire("b", { onQueued: (position) => positions.b?.push(position) }).then((ticket) => {
      order.push("b");
      return ticket;
    });
    const c = limits.acquire("c", { onQueued: (position) => positions.c?.push(position) }).then((ticket) => {
      order.push("c");
      return ticket;
    });
    expect(positions).toEqual({ b: [1], c: [2] });
    expect(limits.waitingCount).toBe(2);

    a.release();
    const bTicket = await b;
    expect(order).toEqual(["b"]);
    // c was told "2" a moment ago: its next position waits for the interval.
    expect(positions.c).toEqual([2]);
    timers.advance(4_999);
    expect(positions.c).toEqual([2]);
    timers.advance(1);
    expect(positions.c).toEqual([2, 1]);

    bTicket.release();
    bTicket.release(); // releasing twice must not free a second slot
    (await c).release();
    expect(order).toEqual(["b", "c"]);
    expect(limits.runningCount).toBe(0);
  });

  it("holds a user's second run while others go ahead", async () => {
    const limits = limiter(4, 1);
    const first = await limits.acquire("alice");
    let secondStarted = false;
    const second = limits.acquire("alice").then((ticket) => {
      secondStarted = true;
      return ticket;
    });
    const bob = await limits.acquire("bob");
    expect(limits.runningCount).toBe(2);
    expect(secondStarted).toBe(false);
    first.release();
    (await second).release();
    expect(secondStarted).toBe(true);
    bob.release();
  });

  it("refuses when the line is full", async () => {
    const limits = limiter(1, 1, 1);
    await limits.acquire("a");
    void limits.acquire("b");
    const error = await limits.acquire("c").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as QueueFullError).userMessage).toBe(
      "The bot is busy: 1 request is already waiting. Please try again in a few minutes.",
    );
  });

  it("lets one user have at most maxQueuedPerUser waiting; others still get a place", async () => {
    const limits = limiter(1, 1, 4, 2);
    await limits.acquire("alice");
    const waiting = [limits.acquire("alice"), limits.acquire("alice")];
    const error = await limits.acquire("alice").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserQueueFullError);
    expect((error as UserQueueFullError).userMessage).toMatch(/^You already have 2 requests waiting/);
    const positions: number[] = [];
    void limits.acquire("bob", { onQueued: (position) => positions.push(position) });
    expect(positions).toEqual([3]);
    expect(limits.waitingCount).toBe(3);
    limits.cancel("alice");
    await Promise.allSettled(waiting);
  });

  it("cancels a user's running and waiting requests, and the line moves on", async () => {
    const limits = limiter(1, 1);
    const running = await limits.acquire("alice");
    const waiting = limits.acquire("alice");
    const bobPositions: number[] = [];
    const bob = limits.acquire("bob", { onQueued: (position) => bobPositions.push(position) });
    expect(bobPositions).toEqual([2]);

    expect(limits.cancel("alice")).toBe(2);
    await expect(waiting).rejects.toBeInstanceOf(CancelledError);
    expect(running.signal.aborted).toBe(true);
    timers.advance(5_000);
    expect(bobPositions).toEqual([2, 1]);

    running.release();
    (await bob).release();
    expect(limits.cancel("alice")).toBe(0);
  });

  it("tells N waiting requests each position at most once per 5 s, and only when it changed", async () => {
    const N = 20;
    const limits = limiter(1, 1, 100, 100);
    const first = await limits.acquire("runner");
    const told: number[][] = Array.from({ length: N }, () => []);
    const tickets = told.map((positions, i) =>
      limits.acquire(`user${i}`, { onQueued: (position) => positions.push(position) }),
    );
    // Each is told its place once on joining the line.
    expect(told.map((positions) => positions.length)).toEqual(Array(N).fill(1));

    // Ten runs end within the same second: the line moves ten places, nobody hears yet.
    first.release();
    for (let i = 0; i < 9; i++) (await tickets[i])?.release();
    const edits = () => told.reduce((sum, positions) => sum + positions.length, 0);
    expect(edits()).toBe(N);
    // Five seconds on, each request still waiting hears its new place once.
    timers.advance(5_000);
    expect(edits()).toBe(N + (N - 10));
    expect(told[10]).toEqual([11, 1]);
    expect(told[19]).toEqual([20, 10]);
    // Nothing moved since: no more edits, however long they wait.
    timers.advance(60_000);
    expect(edits()).toBe(N + (N - 10));
    // Before: every release re-told every request behind it, N + (N-1) + … edits.
    for (let i = 9; i < N; i++) (await tickets[i])?.release();
  });
});
