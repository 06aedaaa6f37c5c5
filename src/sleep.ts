/** Waiting that a cancelled request cuts short, so a retry back-off or a paced demo never outlives its run. */

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * Resolves after `ms`. An abort, before or during the wait, rejects at once: with `abortError()`
 * where the caller has its own error for a cancellation, otherwise with the signal's reason.
 */
export function abortableSleep(ms: number, signal?: AbortSignal, abortError?: () => unknown): Promise<void> {
  const reason = (): unknown => (abortError ? abortError() : signal?.reason);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(reason());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(reason());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
