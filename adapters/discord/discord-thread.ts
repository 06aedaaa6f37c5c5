import type { ImagePost, OutputThread, PostedImage, ThreadAddress } from "../../src/core/ports.js";

import { truncate } from "../../src/core/text.js";

import type { Logger } from "../../src/logger.js";
import { cancelRow, imageButtonsRow } from "./discord-buttons.js";
import { isPermissionError } from "./discord-errors.js";
import { imageRef } from "./discord-files.js";
import { ALT_TEXT_LIMIT, CONTENT_LIMIT } from "./discord-text.js";
import type { ReplyTarget } from "./reply-targets.js";

/** Discord's upload limit per file for bots (the core re-encodes larger images to fit). */
export const DISCORD_UPLOAD_LIMIT = 10 * 1024 * 1024;

export const THREAD_DEFAULTS = {
  /**
   * Least time between two edits of one status message. Discord allows a bot 50 requests/s in
   * all: an edit per image would spend that budget on "3/15 done" and hold up others' images.
   */
  statusIntervalMs: 1_500,
} as const satisfies Record<string, number>;

export interface ThreadDeps {
  logger: Logger;
  /**
   * Discord's typing indicator lasts ~10 s; it is sent at most this often while a run goes on
   * (renewed by a timer, or at the next image once this long has passed).
   */
  typingIntervalMs: number;
  /** Least time between two status edits (default `THREAD_DEFAULTS`). */
  statusIntervalMs?: number;
  /** The typing indicator's clock (default `Date.now`). */
  now?: () => number;
  /** Called once per request when Discord refuses a post for lack of a permission. */
  onPermissionError(error: unknown): Promise<void>;
  maxUploadBytes?: number;
}

/**
 * The core's output thread on Discord: each image its own message labelled "2/4" with the
 * prompt as alt text, one status message edited as the run goes (the core coalesces edits;
 * discord.js queues those that hit a rate limit), a typing indicator kept alive until the run
 * ends. Text is cut to Discord's limits here; pings are disabled by the target.
 */
export class DiscordThread implements OutputThread {
  readonly maxUploadBytes: number;
  readonly statusIntervalMs: number;
  readonly postEphemeral?: (text: string) => Promise<void>;
  #typingTimer: NodeJS.Timeout | undefined;
  #typingSentAt = Number.NEGATIVE_INFINITY;
  #typingRefused = false;
  #finished = false;
  #permissionReported = false;
  /** The run whose Cancel button the status carries while it goes on. */
  #cancelRunId: string | undefined;
  /** The last status shown, and whether it carried the button (removed when the answer ends). */
  #shown: { text: string; withButton: boolean } | undefined;

  constructor(
    private readonly target: ReplyTarget,
    private readonly deps: ThreadDeps,
  ) {
    this.maxUploadBytes = deps.maxUploadBytes ?? DISCORD_UPLOAD_LIMIT;
    this.statusIntervalMs = deps.statusIntervalMs ?? THREAD_DEFAULTS.statusIntervalMs;
    const ephemeral = target.ephemeral?.bind(target);
    if (ephemeral) this.postEphemeral = (text) => this.#guard(() => ephemeral(truncate(text, CONTENT_LIMIT)));
  }

  postText(text: string): Promise<void> {
    return this.#guard(() => this.target.postText(truncate(text, CONTENT_LIMIT)));
  }

  async postImage(image: ImagePost): Promise<PostedImage> {
    const message = await this.#guard(() =>
      this.target.post({
        content: truncate(image.caption, CONTENT_LIMIT),
        files: [
          {
            attachment: image.bytes,
            name: image.fileName,
            description: truncate(image.altText, ALT_TEXT_LIMIT),
          },
        ],
        components: [imageButtonsRow(image.key)],
      }),
    );
    return { messageId: message.id, ref: imageRef(message) };
  }

  address(): ThreadAddress | undefined {
    return this.target.address?.();
  }

  updateStatus(text: string): Promise<void> {
    return this.#showStatus(truncate(text, CONTENT_LIMIT));
  }

  cancellable(runId: string | undefined): void {
    this.#cancelRunId = runId;
  }

  async #showStatus(text: string): Promise<void> {
    const runId = this.#cancelRunId;
    const components = runId ? [cancelRow(runId)] : this.#shown?.withButton ? [] : undefined;
    await this.#guard(() => this.target.showStatus(text, components));
    this.#shown = { text, withButton: runId !== undefined };
  }

  /**
   * Shows "typing…" unless it was sent less than `typingIntervalMs` ago (the core asks after
   * every image; each ask would otherwise be a REST call). A timer renews it while the run goes
   * on; nothing is sent once the request is answered.
   */
  async typing(): Promise<void> {
    const now = this.deps.now ?? Date.now;
    if (this.#finished || this.#typingRefused || now() - this.#typingSentAt < this.deps.typingIntervalMs)
      return;
    this.#typingSentAt = now();
    clearTimeout(this.#typingTimer);
    this.#typingTimer = setTimeout(() => void this.typing(), this.deps.typingIntervalMs);
    this.#typingTimer.unref();
    await this.target.typing().catch((error: unknown) => {
      // Typing is a nicety: one refusal (no Send Messages here) ends it for this request.
      this.#typingRefused = true;
      clearTimeout(this.#typingTimer);
      this.deps.logger.debug("typing indicator failed", { error });
    });
  }

  /** The request is answered (the summary shown): stop typing, tidy up. */
  async finish(): Promise<void> {
    this.#finished = true;
    clearTimeout(this.#typingTimer);
    if (this.#shown?.withButton) {
      this.#cancelRunId = undefined;
      await this.#showStatus(this.#shown.text).catch((error: unknown) =>
        this.deps.logger.warn("could not remove the Cancel button", { error }),
      );
    }
    await this.target.finish();
  }

  async #guard<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (isPermissionError(error) && !this.#permissionReported) {
        this.#permissionReported = true;
        await this.deps.onPermissionError(error).catch(() => {});
      }
      throw error;
    }
  }
}
