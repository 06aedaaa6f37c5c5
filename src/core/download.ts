import { BotError } from "../errors.js";
import { CancelledError, ReferenceImageError } from "./errors.js";
import type { Attachment } from "./ports.js";

export interface DownloadLimits {
  maxBytes: number;
  timeoutMs: number;
  /** The run's cancel signal. */
  signal?: AbortSignal;
}

export const formatMegabytes = (bytes: number): string => {
  const mb = bytes / (1024 * 1024);
  return `${mb >= 10 ? Math.round(mb) : Math.round(mb * 10) / 10} MB`;
};

/**
 * Downloads an attachment through the adapter's fetcher. The cap is enforced while streaming:
 * the transfer is aborted as soon as it passes `maxBytes`, so a huge file is never read whole.
 */
export async function downloadAttachment(attachment: Attachment, limits: DownloadLimits): Promise<Buffer> {
  const { maxBytes, timeoutMs, signal } = limits;
  const tooLarge = () =>
    new ReferenceImageError(
      `“${attachment.name}” is larger than ${formatMegabytes(maxBytes)}, the limit for reference images.`,
    );
  if (signal?.aborted) throw new CancelledError();
  if (attachment.size !== undefined && attachment.size > maxBytes) throw tooLarge();

  // Ours stops the producer once we are done; the timeout and the caller's cancel join it.
  const stop = new AbortController();
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = AbortSignal.any([stop.signal, timeout, ...(signal ? [signal] : [])]);
  let finished = false;
  let iterator: AsyncIterator<Uint8Array> | undefined;
  let pendingNext = false;
  try {
    const stream = await untilAborted(attachment.fetch(combined), combined);
    if (stream.contentLength !== undefined && stream.contentLength > maxBytes) throw tooLarge();
    iterator = stream.body[Symbol.asyncIterator]();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      pendingNext = true;
      const step = await untilAborted(iterator.next(), combined);
      pendingNext = false;
      if (step.done) break;
      total += step.value.byteLength;
      if (total > maxBytes) throw tooLarge();
      chunks.push(step.value);
    }
    finished = true;
    return Buffer.concat(chunks, total);
  } catch (error) {
    if (timeout.aborted && !signal?.aborted) {
      throw new ReferenceImageError(
        `Downloading “${attachment.name}” took longer than ${Math.round(timeoutMs / 1000)} s; try again or attach a smaller file.`,
        { cause: error },
      );
    }
    if (signal?.aborted) throw new CancelledError();
    if (error instanceof BotError) throw error;
    throw new ReferenceImageError(`Could not download “${attachment.name}”; try attaching it again.`, {
      cause: error,
    });
  } finally {
    if (!finished) {
      stop.abort(new Error("download stopped"));
      // Ends the producer (closes its connection). A stalled producer still owes a chunk and
      // would not finish `return()` until it delivers, so that case is not waited for.
      const closing = iterator?.return?.().catch(() => {});
      if (!pendingNext) await closing;
    }
  }
}

/** Rejects as soon as `signal` aborts, even if `promise` never settles (a stalled stream). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
