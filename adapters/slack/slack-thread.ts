import type { ImagePost, OutputThread, PostedImage, ThreadAddress } from "../../src/core/ports.js";
import { truncate } from "../../src/core/text.js";
import type { Logger } from "../../src/logger.js";
import { cancellableStatusBlocks, imageButtonsBlocks } from "./slack-buttons.js";
import { escapePrivateText, escapeSlackText } from "./slack-text.js";
import type { SlackWeb } from "./slack-web.js";

/**
 * The core's output thread on Slack: texts and one upload per image go into a Slack thread;
 * the status line is one bot message edited in place (the slash command's parent message, or a
 * message in the thread for mentions), at most once per `statusIntervalMs` (Slack allows about
 * one edit per second per message; the core throttles). Everything the core says is escaped
 * before it is sent.
 */

export interface ThreadDeps {
  web: SlackWeb;
  logger: Logger;
  statusIntervalMs: number;
}

export interface SlackThreadOptions {
  channel: string;
  /** The thread everything goes into. */
  threadTs: string;
  /** Who asked (ephemeral messages go to them). */
  userId: string;
  /** The bot's parent message of a slash command: the status is shown under `prefix` in it. */
  parent?: { ts: string; prefix: string };
  /** Private replies through the slash command's response_url; chat.postEphemeral otherwise. */
  respond?: (text: string) => Promise<void>;
  /** The status message, when it exists already (a thread rebuilt after a restart). */
  statusTs?: string;
}

/** Slack's limit for alt text (files.getUploadURLExternal `alt_txt`). */
const ALT_TEXT_LIMIT = 1000;

export class SlackThread implements OutputThread {
  readonly statusIntervalMs: number;
  private statusTs: string | undefined;
  /** The run whose Cancel button the status carries while it goes on. */
  private cancelRunId: string | undefined;
  /** The last status shown, and whether it carried the button (removed when the answer ends). */
  private shown: { text: string; withButton: boolean } | undefined;

  constructor(
    private readonly deps: ThreadDeps,
    private readonly options: SlackThreadOptions,
  ) {
    this.statusTs = options.statusTs ?? options.parent?.ts;
    this.statusIntervalMs = deps.statusIntervalMs;
  }

  async postText(text: string): Promise<void> {
    await this.deps.web.postMessage(this.options.channel, escapeSlackText(text), this.options.threadTs);
  }

  async postImage(image: ImagePost): Promise<PostedImage> {
    const fileId = await this.deps.web.uploadFile({
      channel: this.options.channel,
      threadTs: this.options.threadTs,
      bytes: image.bytes,
      fileName: image.fileName,
      title: image.caption,
      altText: truncate(image.altText, ALT_TEXT_LIMIT),
    });
    // The image is shared as a file (never lost to a refused image block); its buttons follow at
    // once in a compact message. A failure there leaves the image in place, only unbuttoned.
    try {
      const blocks = imageButtonsBlocks(image.caption, { fileId, key: image.key });
      await this.deps.web.postMessage(
        this.options.channel,
        escapeSlackText(image.caption),
        this.options.threadTs,
        blocks,
      );
    } catch (error) {
      this.deps.logger.warn("could not post the buttons of an image", { fileId, error });
    }
    // Uploads are shared asynchronously and return no message ts: the file id names the image.
    return { messageId: fileId, ref: fileId };
  }

  cancellable(runId: string | undefined): void {
    this.cancelRunId = runId;
  }

  /** The answer is over: a status still showing its Cancel button is shown once more without it. */
  async finish(): Promise<void> {
    if (!this.shown?.withButton || this.statusTs === undefined) return;
    this.cancelRunId = undefined;
    await this.showStatus(this.shown.text);
  }

  updateStatus(text: string): Promise<void> {
    return this.showStatus(escapeSlackText(text));
  }

  /** `escaped` is Slack text; with a running run it gets a Cancel button below it. */
  private async showStatus(escaped: string): Promise<void> {
    const { channel, threadTs, parent } = this.options;
    const runId = this.cancelRunId;
    const full = parent ? `${parent.prefix}\n${escaped}` : escaped;
    // Blocks replace the text on screen; [] removes an earlier button (omitting them would keep it).
    const blocks = runId ? cancellableStatusBlocks(full, runId) : this.shown?.withButton ? [] : undefined;
    if (this.statusTs === undefined) {
      this.statusTs = await this.deps.web.postMessage(
        channel,
        escaped,
        threadTs,
        runId ? cancellableStatusBlocks(escaped, runId) : undefined,
      );
    } else {
      await this.deps.web.updateMessage(channel, this.statusTs, full, blocks);
    }
    this.shown = { text: escaped, withButton: runId !== undefined };
  }

  address(): ThreadAddress {
    const { channel, threadTs, userId, parent } = this.options;
    return {
      platform: "slack",
      channel,
      thread: threadTs,
      ...(this.statusTs === undefined ? {} : { statusMessageId: this.statusTs }),
      details: parent ? { userId, parentTs: parent.ts, prefix: parent.prefix } : { userId },
    };
  }

  /** The thread at `address` (recorded by `address()`), as it was: the status is edited, not posted again. */
  static at(deps: ThreadDeps, address: ThreadAddress): SlackThread {
    const details = address.details ?? {};
    const threadTs = address.thread ?? address.statusMessageId ?? "";
    const options: SlackThreadOptions = { channel: address.channel, threadTs, userId: details.userId ?? "" };
    if (details.parentTs !== undefined)
      options.parent = { ts: details.parentTs, prefix: details.prefix ?? "" };
    if (address.statusMessageId !== undefined) options.statusTs = address.statusMessageId;
    return new SlackThread(deps, options);
  }

  async postEphemeral(text: string): Promise<void> {
    const escaped = escapePrivateText(text);
    const { channel, userId, threadTs, respond } = this.options;
    if (respond) {
      try {
        await respond(escaped);
        return;
      } catch (error) {
        this.deps.logger.warn("response_url failed; using chat.postEphemeral", { error });
      }
    }
    await this.deps.web.postEphemeral(channel, userId, escaped, threadTs);
  }
}

/**
 * Where a slash command's answer goes before there is a thread (help, cancel, a command that
 * doesn't parse): privately to the user who typed it.
 */
export class EphemeralThread implements OutputThread {
  constructor(private readonly respond: (text: string) => Promise<void>) {}

  postText(text: string): Promise<void> {
    return this.respond(escapeSlackText(text));
  }

  postEphemeral(text: string): Promise<void> {
    return this.respond(escapePrivateText(text));
  }

  async updateStatus(): Promise<void> {}

  async postImage(): Promise<PostedImage> {
    throw new Error("a private answer cannot carry images");
  }
}
