import { isBotError } from "../errors.js";
import {
  SeedreamError,
  type SeedreamErrorCode,
  SeedreamValidationError,
  type ValidationIssue,
} from "../seedream/errors.js";
import { MODEL_ALIASES, type ModelCapabilities } from "../seedream/models.js";
import type { ImageFailureKind } from "../seedream/types.js";
import { andList, orList, plural } from "./text.js";

/**
 * Every sentence the core shows a chat user, in one place. Errors map to exactly one sentence;
 * a request id is added for support, never the API key or the API's internal message.
 */

export function promptTooLongSentence(length: number, limit: number): string {
  const count = (n: number) => n.toLocaleString("en-GB");
  return `Your prompt is ${count(length)} characters long; the limit here is ${count(limit)}. Shorten it and try again (Seedream follows a short, concrete prompt best).`;
}

/**
 * Upstream words (an API code, a field name) are shown only when they look like one: the client
 * has scrubbed secrets from them already, and this keeps whatever else a proxy echoes out.
 */
function plausibleToken(text: string | undefined): text is string {
  return text !== undefined && /^[A-Za-z][\w.[\]-]{0,79}$/.test(text);
}

/** "2/3". Callers never pass an index at or past `total` (the run drops those). */
export function imageLabel(index: number, total: number): string {
  return `${index + 1}/${total}`;
}

/** A stream that closed after `shown` of `total` slots: which images were never generated. */
export function streamEndedSentence(shown: number, total: number, missing: readonly number[]): string {
  const labels = missing.map((index) => String(index + 1));
  const which = labels.length === 1 ? `image ${labels[0]} was` : `images ${andList(labels)} were`;
  return `The connection to Seedream dropped after ${shown} of ${total} images; ${which} not generated.`;
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

/** A run handed to the shared queue, before a worker takes it (or its place in line is known). */
export const QUEUED_STATUS = "Queued: starting as soon as a worker is free.";

export function queueFullSentence(waiting: number): string {
  return `The bot is busy: ${waiting} request${waiting === 1 ? " is" : "s are"} already waiting. Please try again in a few minutes.`;
}

export function userQueueFullSentence(waiting: number): string {
  return `You already have ${waiting} request${waiting === 1 ? "" : "s"} waiting; this one was not queued. Send it again once one of them has started (\`cancel\` drops them all).`;
}
/** SEEDREAM_IMAGES_PER_MINUTE is spent for this minute: the run waits instead of drawing a 429. */
export const CAPACITY_STATUS =
  "Waiting for Seedream capacity: the images-per-minute budget is spent, starting within a minute.";

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
  return plausibleToken(code)
    ? `Image ${label} could not be generated (Seedream error ${code}).`
    : `Image ${label} could not be generated.`;
}

export function corruptedImageSentence(index: number, total: number): string {
  return `Image ${imageLabel(index, total)} came back corrupted, so it was not posted.`;
}

export function postFailureSentence(index: number, total: number): string {
  return `Image ${imageLabel(index, total)} was generated but could not be posted here.`;
}

/** Said once in a thread when an image had to change format to fit the platform's upload limit. */
export function reencodedNote(from: string, to: string): string {
  const name = (mime: string) => (mime.split("/")[1] ?? mime).toUpperCase();
  return `Images too large to upload here as ${name(from)} are posted as ${name(to)} (the platform's file size limit).`;
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
  /** Web searches the model ran (`--web`), when reported. */
  webSearches?: number;
  /** Slots never generated because the request failed part-way (a dropped stream, a timeout). */
  notGenerated?: number;
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
  if (counts.notGenerated !== undefined && counts.notGenerated > 0)
    parts.push(`${counts.notGenerated} not generated`);
  if (counts.webSearches !== undefined && counts.webSearches > 0) {
    parts.push(`${counts.webSearches} web search${counts.webSearches === 1 ? "" : "es"} used`);
  }
  return `${head}: ${parts.join(", ")} (${formatDuration(counts.elapsedMs)}).`;
}

export function cancelReply(count: number): string {
  return count === 0 ? "You have nothing running or waiting to cancel." : "Cancelled.";
}

/** The one sentence a user sees for any error. */
export const STORE_UNAVAILABLE = "The bot's state store is unavailable, try again shortly.";

export function errorSentence(error: unknown): string {
  // The Seedream client's errors are neutral: they are worded here, by code. Every other error
  // we raise carries its sentence.
  if (error instanceof SeedreamValidationError) return validationSentence(error.issue);
  if (error instanceof SeedreamError) return withRequestId(seedreamSentence(error), error.requestId);
  if (isBotError(error)) return error.userMessage;
  return "Something went wrong inside the bot; the error has been logged.";
}

function withRequestId(sentence: string, requestId: string | undefined): string {
  return requestId ? `${sentence} (request id ${requestId}).` : `${sentence}.`;
}

/** One sentence per Seedream error code (without the request id). */
const SEEDREAM_SENTENCES: Record<
  Exclude<SeedreamErrorCode, "validation">,
  (error: SeedreamError) => string
> = {
  moderation_prompt: (error) => `Seedream's content filter blocked the prompt${why(error)}; try rewording it`,
  moderation_reference: (error) =>
    `Seedream's content filter blocked ${whichReference(error)}${why(error)}; try a different image`,
  moderation_output: (error) =>
    `Seedream's content filter blocked the generated image${why(error)}; try a different prompt`,
  moderation: (error) =>
    `Seedream's content filter blocked this request${why(error)}; try a different prompt`,
  rate_limited: () => "Seedream is busy right now (rate limit reached); please try again in a minute",
  auth: () => "Seedream rejected the bot's API key; an admin needs to check SEEDREAM_API_KEY",
  account: () =>
    "Seedream refused the request because of the bot's account (billing or access); an admin needs to check it",
  account_overdue: () =>
    "The bot's Seedream account is out of credit; an admin must top it up in the provider's console",
  invalid_parameter: (error) =>
    plausibleToken(error.param)
      ? `Seedream rejected the request: its ${error.param} value isn't accepted`
      : "Seedream rejected the request as invalid",
  model_unavailable: (error) =>
    `${error.model ? `The model ${error.model}` : "That model"} isn't available on the bot's Seedream account; try another --model, or ask an admin to enable it`,
  model_not_enabled: (error) =>
    `${error.model ? `The model ${error.model}` : "That model"} is not enabled on the bot's Seedream account: an admin can enable it in the provider's console or set SEEDREAM_MODEL to one that is; meanwhile try --model with another version (${MODEL_ALIASES.join(", ")})`,
  server: () => "Seedream had an internal error; please try again",
  timeout: () => "Seedream took too long to answer; please try again, perhaps with fewer images",
  network: () => "The bot could not reach Seedream; please try again later",
  // Worded with the counts by the run (`streamEndedSentence`) once an image was shown.
  stream_ended: () => "The connection to Seedream dropped before any image arrived; please try again",
  aborted: () => "Cancelled",
  protocol: () => "Seedream sent an answer the bot could not read; please try again",
};

/** What the content filter objected to, when the API's code says (`….PolicyViolation` is copyright). */
function why(error: SeedreamError): string {
  const code = error.apiCode ?? "";
  if (/\.PolicyViolation$/i.test(code)) return " as a likely copyright or policy violation";
  if (/\.SevereViolation$/i.test(code)) return " as a severe violation";
  if (/\.Violence$/i.test(code)) return " for violent content";
  return "";
}

/** "reference image 2" when the API names it (`param: image[1]`, `image_2`), else "a reference image". */
function whichReference(error: SeedreamError): string {
  const match = /^images?\W*(\d+)\W*$/i.exec(error.param ?? "");
  return match ? `reference image ${Number(match[1]) + 1}` : "a reference image";
}

function seedreamSentence(error: SeedreamError): string {
  return error.code === "validation"
    ? "The request does not fit the model"
    : SEEDREAM_SENTENCES[error.code](error);
}

const dims = (bound: { width: number; height: number }): string => `${bound.width}x${bound.height}`;

function sizeSuggestion(caps: ModelCapabilities): string {
  if (caps.tiers.length > 0) {
    return `use ${orList(caps.tiers)}${caps.pixelSizes ? " or WIDTHxHEIGHT such as 2048x2048" : ""}`;
  }
  return caps.adaptiveOnly
    ? "leave the size out (the output follows the reference)"
    : "use WIDTHxHEIGHT such as 1024x1024";
}

/** What a person reads when a request does not fit the model: what is wrong, and what would fit. */
export function validationSentence(issue: ValidationIssue): string {
  const { caps } = issue;
  const name = caps.name;
  switch (issue.kind) {
    case "prompt_empty":
      return "Write a prompt describing the image you want.";
    case "reference_format":
      return `Reference image ${issue.position} must be an http(s) URL or a data:image/…;base64 URI.`;
    case "references_too_many":
      return caps.maxReferences === 0
        ? `${name} doesn't take reference images: remove them, or pick a 4.x model with --model 4.5.`
        : `${name} takes at most ${plural(caps.maxReferences, "reference image")} and this request has ${issue.references}: attach fewer images.`;
    case "references_too_few":
      return `${name} edits an existing image: attach one, or reply to one, and try again.`;
    case "images_out_of_range":
      return `The number of images must be a whole number from 1 to 15 (got ${issue.images}).`;
    case "images_too_many_total": {
      const room = caps.maxTotalImages - issue.references;
      return `${plural(issue.references, "reference image")} plus ${plural(issue.images, "new image")} is more than the ${caps.maxTotalImages} a request may have: ${room > 0 ? `use --n ${room} or attach fewer images` : "attach fewer images"}.`;
    }
    case "size_unreadable":
      return issue.mixed
        ? `A size is either a tier like 2K or pixels like 2048x2048, not both ("${issue.size}").`
        : `"${issue.size}" is not a size ${name} understands; ${sizeSuggestion(caps)}.`;
    case "size_no_adaptive":
      return `${name} has no adaptive size; ${sizeSuggestion(caps)}.`;
    case "size_adaptive_only":
      return `${name} sizes its output after the reference image; leave the size out.`;
    case "size_no_tier":
      return `${name} has no ${issue.tier} size; ${sizeSuggestion(caps)}.`;
    case "size_tier_unreliable":
      return `${name} does not reliably make ${issue.tier} images; use ${caps.tiers.at(-1) ?? "a smaller size"} (up to ${dims(caps.maxPixels)} pixels).`;
    case "size_no_pixels":
      return `${name} does not take pixel sizes; ${sizeSuggestion(caps)}.`;
    case "size_too_small": {
      // A square's nearest accepted size is the smallest tier itself; other shapes get their size.
      const square = issue.width === issue.height && caps.tiers[0] !== undefined;
      return `${name} needs at least ${dims(caps.minPixels)} pixels; try --size ${square ? caps.tiers[0] : issue.nearest}.`;
    }
    case "size_too_large":
      return `${name} allows at most ${dims(caps.maxPixels)} pixels; try --size ${caps.tiers.at(-1) ?? dims(caps.maxPixels)}.`;
    case "size_aspect":
      return `${issue.width}x${issue.height} is too ${issue.width < issue.height ? "tall" : "wide"}: width and height may differ at most 16 times.`;
    case "ratio_out_of_range":
      return `--ar ${issue.ratio.width}:${issue.ratio.height} is too extreme: Seedream allows from 1:16 to 16:1.`;
    case "ratio_with_pixels":
      return "Use either --size WIDTHxHEIGHT or --ar, not both (--ar works with --size 1K…4K).";
    case "model_unknown_version":
      return `There is no Seedream ${issue.typed}: use --model ${MODEL_ALIASES.join(", ")} or a model id.`;
    case "model_not_offered":
      return `${issue.provider} does not offer Seedream ${issue.typed}; pick another --model (see help).`;
    case "seed_unsupported":
      return `${name} does not take a seed; only Seedream 3.0 and SeedEdit 3.0 do.`;
    case "seed_out_of_range":
      return "The seed must be a whole number from -1 to 2147483647.";
    case "guidance_unsupported":
      return `${name} does not take a guidance scale; only Seedream 3.0 and SeedEdit 3.0 do.`;
    case "guidance_out_of_range":
      return "The guidance scale must be between 1 and 10.";
    case "fast_unsupported":
      return `Fast mode is only available on ${andList(issue.models)}, not ${name}.`;
    case "format_unsupported":
      return `--format ${issue.format} is only available on ${andList(issue.models)}; ${name} makes JPEG images.`;
    case "web_search_unsupported":
      return `--web is only available on ${andList(issue.models)}, not ${name}.`;
  }
}

// --- Durable runs: deploys and restarts ---------------------------------------------------

export const RESUMED_NOTE = "(resumed after a restart)";

/** A status shown again after a restart carries the note once. */
export function resumedStatus(status: string): string {
  return status.endsWith(RESUMED_NOTE) ? status : `${status} ${RESUMED_NOTE}`;
}

/** A request that arrives while the bot drains for a restart: recorded, started by the next process. */
export const RESTARTING_QUEUED_STATUS = "Queued: the bot is restarting, your request will start in a moment.";

/** A run stopped at the end of the shutdown grace; the next process continues it. */
export function pausedStatus(delivered: number, total: number): string {
  return `Paused: the bot is restarting (${delivered} of ${plural(total, "image")} delivered so far); it will continue in a moment.`;
}

export type AfterRestart = "restart" | "continue" | "give-up";

/**
 * The one message a run's thread gets after the bot restarted during it: what had been
 * delivered and what happens now.
 */
export function restartedSentence(delivered: number, total: number, next: AfterRestart): string {
  const images = total === 1 ? "image" : "images";
  const head = `The bot restarted while making your ${images}${next === "give-up" ? " again" : ""}: ${delivered} of ${total} were delivered.`;
  if (next === "restart") return `${head} Starting again.`;
  if (next === "continue") {
    const missing = total - delivered;
    return `${head} Making the ${missing === 1 ? "last one" : `other ${missing}`} now.`;
  }
  return `${head} It stopped twice on this request, so it won't try again: ask again for the rest if you still want them.`;
}

/** The status of a run given up after its second interruption. */
export function givenUpStatus(delivered: number, total: number): string {
  return `Stopped: ${delivered} of ${plural(total, "image")} delivered (the bot restarted twice during this request).`;
}

/** A follow-up pressed on an image whose run the store no longer has (past its TTL). */
export const FOLLOW_UP_TOO_OLD = "This image is too old to reuse; reply to it with the image attached.";

/** Again on a run one of whose references can no longer be fetched. */
export const REFERENCES_GONE =
  "The images this one was made from can no longer be fetched; reply to it with them attached.";

/** An Edit… form sent without saying what should change. */
export const EDIT_NEEDS_PROMPT = "Describe how the image should change, e.g. “make it night”.";

/** Cancel pressed by someone other than the requester (or an admin); `requester` as the platform shows a user. */
export function cancelRefused(requester: string): string {
  return `Only ${requester} can cancel this.`;
}

/** Cancel pressed on a run that is no longer going. */
export const RUN_ALREADY_OVER = "That run has already finished.";

/** "Edit with Seedream" run on a message without images (or one that can no longer be read). */
export const NO_IMAGES_TO_EDIT = "That message has no images to edit.";
