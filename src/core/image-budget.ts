import { setTimeout as delay } from "node:timers/promises";
import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { CancelledError, StoreUnavailableError } from "./errors.js";

/**
 * SEEDREAM_IMAGES_PER_MINUTE: one budget of images per minute for the whole Seedream account,
 * weighted by the images a run may make, and shared by every process on the same Redis. A run
 * that would pass it waits for the next minute instead of drawing the API's 429.
 *
 * Counting is rate-limiter-flexible's fixed one-minute window (an atomic Lua INCRBY on Redis,
 * a map in one process). Its `consume` counts points even when it refuses them; the refused
 * points are given back at once, so a big request that waits never starves smaller ones that
 * still fit.
 */

export interface ImageBudget {
  /**
   * Takes `images` from this minute's budget, waiting (and calling `onWait` once) for the next
   * minute while they do not fit. A request bigger than the whole budget takes the whole budget.
   */
  take(images: number, options?: { signal?: AbortSignal; onWait?: () => void }): Promise<void>;
}

const KEY = "account";
const WINDOW_S = 60;

export interface ImageBudgetOptions {
  perMinute: number;
  /** Shared by every process when given; one process's own budget otherwise. */
  redis?: Redis;
  /** Redis key prefix (tests keep budgets apart). */
  keyPrefix?: string;
  /** The window, in seconds (default 60: the vendor counts per minute; tests make it short). */
  windowSeconds?: number;
}

export function createImageBudget(options: ImageBudgetOptions): ImageBudget {
  const common = {
    points: options.perMinute,
    duration: options.windowSeconds ?? WINDOW_S,
    keyPrefix: options.keyPrefix ?? "seedream-bot:images",
  };
  const limiter = options.redis
    ? new RateLimiterRedis({ ...common, storeClient: options.redis })
    : new RateLimiterMemory(common);

  return {
    async take(images, { signal, onWait } = {}) {
      const weight = Math.max(1, Math.min(images, options.perMinute));
      let told = false;
      for (;;) {
        if (signal?.aborted) throw signal.reason ?? new CancelledError();
        try {
          await limiter.consume(KEY, weight);
          return;
        } catch (refusal) {
          // Anything but a refusal is the store failing (Redis gone).
          if (!(refusal instanceof RateLimiterRes)) throw new StoreUnavailableError(refusal);
          await limiter.reward(KEY, weight);
          if (!told) {
            told = true;
            onWait?.();
          }
          await abortableSleep(Math.max(refusal.msBeforeNext, 20), signal);
        }
      }
    },
  };
}

/** Node's abortable timer, rejecting with the signal's own reason (a cancel stays a cancel). */
async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    throw signal?.aborted ? (signal.reason ?? new CancelledError()) : error;
  }
}
