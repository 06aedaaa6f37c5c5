import { SeedreamError } from "../seedream/errors.js";
import type { GenerateRequest, GenerationEvent, ImageGenerator } from "../seedream/types.js";
import { CancelledError, InterruptedError } from "./errors.js";
import { fitUpload } from "./fit-upload.js";
import { checkGeneratedImage } from "./image-check.js";
import {
  corruptedImageSentence,
  errorSentence,
  imageFailureSentence,
  imageLabel,
  postFailureSentence,
  progressStatus,
  reencodedNote,
  startingStatus,
  streamEndedSentence,
  summaryStatus,
} from "./messages.js";
import type { ImageOutcome } from "./observer.js";
import type { ImagePost, OutputThread, PostedImage } from "./ports.js";
import type { Clock, Logger, Sleep } from "./runtime.js";
import { truncate } from "./text.js";

/**
 * One generation, streamed into a thread: each image is posted the moment its event arrives,
 * labelled by its `image_index` (events may arrive out of order), failures are posted inline at
 * their position, and the status line ends with a summary.
 */

export interface RunInput {
  runId: string;
  generator: ImageGenerator;
  request: GenerateRequest;
  /** Images asked for (labels read "2/total"). */
  total: number;
  modelName: string;
  thread: OutputThread;
  signal: AbortSignal;
  clock: Clock;
  sleep: Sleep;
  /** Bound to this run (`logger.child({ runId })`). */
  logger: Logger;
  /** Called after each image is posted (the handler records it); errors are logged, not fatal. */
  onImagePosted?(posted: PostedImage, index: number, post: ImagePost): Promise<void>;
  /** Each image's end (metrics); `deliveryMs`: from its event to its post, for delivered ones. */
  onImageEnd?(outcome: ImageOutcome, deliveryMs?: number): void;
  /** Retries of a failed image post (default `RUN_DEFAULTS.postRetries`). */
  postRetries?: number;
  /** A continuation: Seedream's image i is the run's image `indexes[i]` (default: i itself). */
  indexes?: readonly number[];
  /** Images of this run delivered by earlier attempts (counted in the status and the result). */
  delivered?: number;
}

export interface RunResult {
  /** Delivered in all, earlier attempts included. */
  delivered: number;
  blocked: number;
  /** Images that failed at Seedream for other reasons, or could not be posted. */
  failed: number;
  cancelled: boolean;
  /** Stopped by a shutdown (`InterruptedError`): no summary was shown, the next process continues. */
  interrupted?: boolean;
  /** The request-level failure, if any (its sentence was posted). */
  error?: unknown;
  elapsedMs: number;
  /** Web searches the model ran (`--web`), when the API reported them. */
  webSearches?: number;
  /** Slots never generated because the request failed part-way. */
  notGenerated?: number;
}

export const RUN_DEFAULTS = {
  /** Retries of a failed image post. */
  postRetries: 2,
  /** First wait before retrying a post; doubled each time. */
  postRetryDelayMs: 500,
  /** Longest alt text handed to an adapter (it may cut further to its platform's limit). */
  altTextLimit: 1000,
} as const satisfies Record<string, number>;

export async function runGeneration(input: RunInput): Promise<RunResult> {
  const { thread, logger, clock, total, modelName } = input;
  const started = clock.now();
  const result: RunResult = {
    delivered: input.delivered ?? 0,
    blocked: 0,
    failed: 0,
    cancelled: false,
    elapsedMs: 0,
  };
  const safely = async (what: string, action: () => Promise<void>): Promise<void> => {
    try {
      await action();
    } catch (error) {
      logger.warn(`could not ${what}`, { error });
    }
  };
  const typing = () => {
    if (thread.typing) void thread.typing().catch(() => {});
  };

  // The request goes to Seedream while the status is still being posted, not after: under load
  // the post waits its turn behind every other run's (50 runs at once held their requests back by
  // 0.4–1 s, bench/RESULTS.md). Nothing of the stream is shown before the status, so the thread
  // reads in the same order as before.
  const starting = safely("update the status", () =>
    thread.updateStatus(startingStatus(total, modelName)),
  ).then(typing);
  const notes = new Set<"reencoded">();
  // The slots this attempt asked for, and those it has shown (an image or an inline failure).
  const slots = input.indexes ?? Array.from({ length: total }, (_, index) => index);
  const shown = new Set<number>();
  try {
    for await (const raw of input.generator.generate(input.request, { signal: input.signal })) {
      await starting;
      // Events already received are not posted once the run is stopped (cancel, shutdown).
      if (input.signal.aborted) throw input.signal.reason;
      const index = raw.type === "completed" ? undefined : slots[raw.index];
      if (raw.type !== "completed" && (index === undefined || shown.has(index))) {
        // An upstream that repeats an image_index or invents one past the request: never a
        // label above the total, never an image twice, never "3 of 2" in the summary.
        logger.warn("ignored an image event with a repeated or out-of-range image_index", {
          imageIndex: raw.index,
          total,
          repeated: index !== undefined,
        });
        continue;
      }
      if (index !== undefined) shown.add(index);
      const event = raw.type === "completed" ? raw : { ...raw, index: index as number };
      if (event.type === "image") {
        await deliver(input, event, result, safely, notes);
        await safely("update the status", () =>
          thread.updateStatus(progressStatus(result.delivered, total, modelName)),
        );
        typing();
      } else if (event.type === "completed") {
        if (event.usage.webSearches !== undefined) result.webSearches = event.usage.webSearches;
      } else if (event.type === "image_failed") {
        if (event.kind === "moderation") result.blocked++;
        else result.failed++;
        input.onImageEnd?.(event.kind === "moderation" ? "blocked" : "failed");
        logger.info("image failed", { index: event.index, code: event.code });
        await safely("post a failure", () =>
          thread.postText(imageFailureSentence(event.index, total, event.kind, event.code)),
        );
      }
    }
  } catch (error) {
    await starting;
    if (input.signal.aborted || error instanceof CancelledError || isAborted(error)) {
      result.cancelled = true;
      if (input.signal.reason instanceof InterruptedError) result.interrupted = true;
    } else {
      result.error = error;
      logger.warn("generation failed", { error });
      const missing = slots.filter((slot) => !shown.has(slot));
      // Part-way through, the user is told which images will not come; the summary counts them.
      if (shown.size > 0) result.notGenerated = missing.length;
      const sentence =
        isStreamEnd(error) && shown.size > 0
          ? streamEndedSentence(total - missing.length, total, missing)
          : errorSentence(error);
      await safely("post the error", () => thread.postText(sentence));
    }
  }
  await starting;
  result.elapsedMs = clock.now() - started;
  if (result.interrupted) return result;
  await safely("update the status", () =>
    thread.updateStatus(
      summaryStatus({ ...result, total, cancelled: result.cancelled, errored: result.error !== undefined }),
    ),
  );
  return result;
}

function isStreamEnd(error: unknown): boolean {
  return error instanceof SeedreamError && error.code === "stream_ended";
}

function isAborted(error: unknown): boolean {
  return error instanceof SeedreamError && error.code === "aborted";
}

async function deliver(
  input: RunInput,
  event: Extract<GenerationEvent, { type: "image" }>,
  result: RunResult,
  safely: (what: string, action: () => Promise<void>) => Promise<void>,
  notes: Set<"reencoded">,
): Promise<void> {
  const { thread, total } = input;
  const arrived = input.clock.now();
  const label = imageLabel(event.index, total);
  // Broken image data (not an image, base64 of an HTML page, cut short, bigger than claimed) is
  // that slot's failure, never an upload.
  const check = await checkGeneratedImage(event.bytes, event.size);
  if (!check.ok) {
    input.logger.warn("a generated image is corrupted", { index: event.index, reason: check.reason });
    result.failed++;
    await safely("post a failure", () => thread.postText(corruptedImageSentence(event.index, total)));
    return;
  }
  let post: ImagePost;
  try {
    const fitted = await fitUpload(event.bytes, check.mimeType, thread.maxUploadBytes);
    if (fitted.mimeType !== check.mimeType && !notes.has("reencoded")) {
      // Said once per thread, before the first image it concerns.
      notes.add("reencoded");
      await safely("post a note", () => thread.postText(reencodedNote(check.mimeType, fitted.mimeType)));
    }
    post = {
      key: { runId: input.runId, index: event.index },
      bytes: fitted.bytes,
      mimeType: fitted.mimeType,
      fileName: `seedream-${input.runId.slice(0, 8)}-${event.index + 1}.${extension(fitted.mimeType)}`,
      caption: label,
      altText: truncate(input.request.prompt, RUN_DEFAULTS.altTextLimit),
    };
  } catch (error) {
    input.logger.warn("could not prepare an image for upload", {
      index: event.index,
      error,
    });
    result.failed++;
    input.onImageEnd?.("failed");
    await safely("post a failure", () => thread.postText(postFailureSentence(event.index, total)));
    return;
  }

  const attempts = 1 + (input.postRetries ?? RUN_DEFAULTS.postRetries);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const posted = await thread.postImage(post);
      result.delivered++;
      input.onImageEnd?.("delivered", input.clock.now() - arrived);
      if (input.onImagePosted) {
        const record = input.onImagePosted;
        await safely("record the image", () => record(posted, event.index, post));
      }
      return;
    } catch (error) {
      input.logger.warn("posting an image failed", {
        index: event.index,
        attempt,
        error,
      });
      if (attempt < attempts)
        await input.sleep(RUN_DEFAULTS.postRetryDelayMs * 2 ** (attempt - 1)).catch(() => {});
    }
  }
  result.failed++;
  input.onImageEnd?.("failed");
  await safely("post a failure", () => thread.postText(postFailureSentence(event.index, total)));
}

function extension(mimeType: string): string {
  const subtype = mimeType.split("/")[1]?.split(";")[0]?.trim().toLowerCase() ?? "jpg";
  return subtype === "jpeg" ? "jpg" : subtype;
}
