import { isBotError } from "../errors.js";
import type { ImageFailureKind } from "../seedream/types.js";

/**
 * Every sentence the core shows a chat user, in one place. Errors map to exactly one sentence;
 * a request id is added for support, never the API key or the API's internal message.
 */

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? "" : "s"}`;

export function imageLabel(index: number, total: number): string {
  return `${index + 1}/${Math.max(total, index + 1)}`;
}

export function startingStatus(total: number, modelName: string): string {
  return total === 1
    ? `Generating an image with ${modelName}…`
    : `Generating ${total} images with ${modelName}…`;
}

export function progressStatus(done: number, total: number, modelName: string): string {
  return `${startingStatus(total, modelName)} ${done}/${total} done`;
}

export function preparingStatus(references: number): string {
  return `Preparing ${plural(references, "reference image")}…`;
}

export function waitingStatus(position: number): string {
  return position === 1
    ? "Waiting for a free slot: you are next in line."
    : `Waiting for a free slot: you are number ${position} in line.`;
}

export const STOPPED_STATUS = "Stopped before generating (see the message below).";

export function imageFailureSentence(
  index: number,
  total: number,
  kind: ImageFailureKind,
  code: string,
): string {
  const label = imageLabel(index, total);
  if (kind === "moderation") return `Image ${label} was blocked by Seedream's content filter.`;
  if (kind === "internal") {
    return `Image ${label} failed with an internal error at Seedream, so the images after it were not generated.`;
  }
  return `Image ${label} could not be generated (Seedream error ${code}).`;
}

export function postFailureSentence(index: number, total: number): string {
  return `Image ${imageLabel(index, total)} was generated but could not be posted here.`;
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}

export interface SummaryCounts {
  total: number;
  delivered: number;
  blocked: number;
  failed: number;
  elapsedMs: number;
  cancelled: boolean;
  /** A request-level failure happened (its sentence was posted separately). */
  errored: boolean;
}

export function summaryStatus(counts: SummaryCounts): string {
  const { total, delivered, blocked, failed } = counts;
  const head = counts.cancelled ? "Cancelled" : counts.errored && delivered === 0 ? "Failed" : "Done";
  const parts = [
    total === 1
      ? `${delivered === 1 ? "image" : "no image"} delivered`
      : `${delivered} of ${total} images delivered`,
  ];
  if (blocked > 0) parts.push(`${blocked} blocked by the content filter`);
  if (failed > 0) parts.push(`${failed} failed`);
  return `${head}: ${parts.join(", ")} (${formatDuration(counts.elapsedMs)}).`;
}

export function cancelReply(count: number): string {
  return count === 0 ? "You have nothing running or waiting to cancel." : "Cancelled.";
}

/** The one sentence a user sees for any error. */
export function errorSentence(error: unknown): string {
  // Every error we raise carries its sentence; Seedream's are worded once, with the request id,
  // in src/seedream/error-mapping.ts.
  if (isBotError(error)) return error.userMessage;
  return "Something went wrong inside the bot; the error has been logged.";
}
