/** Backoff for retries before the first image; the numbers are small because a person is waiting. */
export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the user hears "busy" instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY = {
  maxRetries: 2,
  baseDelayMs: 1_000,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
} as const satisfies RetryPolicy;

/** Waits `ms`; an abort of `signal`, before or during the wait, rejects at once. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * Delay before retry number `attempt` (0-based): the server's `Retry-After` when it gave one,
 * else exponential backoff with "equal jitter" (half fixed, half random) so that several bots
 * hitting the same limit do not retry in lockstep. `undefined` means: do not retry.
 */
export function retryDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number,
  retryAfterMs?: number,
): number | undefined {
  if (retryAfterMs !== undefined) return retryAfterMs <= policy.maxRetryAfterMs ? retryAfterMs : undefined;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** `Retry-After: 7` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`, in milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === "") return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
