import type { Attachment as DiscordAttachment, Message } from "discord.js";
import { type Dispatcher, fetch as undiciFetch } from "undici";
import type { Attachment, ByteStream, FileDescriptor, StoredImageRef } from "../../src/core/ports.js";
import type { Logger } from "../../src/logger.js";
import { FileDownloadError } from "../shared/download-error.js";
import {
  discardBody,
  downloadErrors,
  openGuardedDownload,
  responseByteStream,
} from "../shared/guarded-download.js";
import { type HostPolicy, hostPolicy } from "../shared/host-policy.js";
import { storedImageAttachment as sharedStoredImage } from "../shared/stored-image.js";
import { discordErrorCode, isPermissionError } from "./discord-errors.js";

/**
 * Discord attachments as core attachments. Bytes come only from Discord's CDN hosts (and the
 * host of DISCORD_API_URL, where a test or proxy serves them), never with the bot token, and
 * are streamed: the core caps the size while reading and detects the format from the bytes.
 * CDN links are signed and expire; a link that stopped working is refreshed by fetching its
 * message again, which returns freshly signed URLs.
 */

const CDN_HOSTS: readonly string[] = ["cdn.discordapp.com", "media.discordapp.net"];
const MAX_REDIRECTS = 3;

export const cdnHostPolicy = (apiUrl: string | undefined): HostPolicy =>
  hostPolicy(apiUrl, { hosts: CDN_HOSTS });

/** Where a message lives, to fetch it again. */
/** What the adapter reads of a discord.js attachment (a recorded one is rebuilt from these). */
export type AttachmentFields = Pick<DiscordAttachment, "id" | "name" | "url" | "contentType"> &
  Partial<Pick<DiscordAttachment, "size" | "width" | "height">>;

export interface MessageLocation {
  channelId: string;
  messageId: string;
}

export interface FileDeps {
  dispatcher: Dispatcher;
  hosts: HostPolicy;
  logger: Logger;
  /** The message as Discord returns it now (fresh attachment URLs). */
  fetchMessage(location: MessageLocation): Promise<Message>;
}

type Opened = { stream: ByteStream } | { gone: true; status: number };

async function open(url: string, name: string, deps: FileDeps, signal: AbortSignal): Promise<Opened> {
  const response = await openGuardedDownload(url, signal, {
    allowedHost: deps.hosts,
    // No headers: the bot token never goes to a CDN.
    fetch: (hop, init) => undiciFetch(hop, { ...init, dispatcher: deps.dispatcher }),
    maxRedirects: MAX_REDIRECTS,
    errors: downloadErrors({
      platform: "Discord",
      codePrefix: "discord_file",
      fileName: name,
      warn: (message, fields) => deps.logger.warn(message, fields),
    }),
  });
  if (response.status === 403 || response.status === 404 || response.status === 410) {
    await discardBody(response);
    return { gone: true, status: response.status };
  }
  if (!response.ok) {
    await discardBody(response);
    throw new FileDownloadError(
      "discord_file_download",
      `Discord answered HTTP ${response.status} for “${name}”; try attaching it again.`,
    );
  }
  return { stream: responseByteStream(response) };
}

/**
 * An attachment of a message (or of a slash command option, which has no message to refresh
 * its link from: `location` undefined).
 */
export function discordAttachment(
  file: AttachmentFields,
  location: MessageLocation | undefined,
  deps: FileDeps,
): Attachment {
  const attachment: Attachment = {
    name: file.name,
    // Ids to find it again after a restart: links expire, its message gives fresh ones.
    descriptor: {
      kind: "file",
      platform: "discord",
      name: file.name,
      ...(file.contentType ? { contentType: file.contentType } : {}),
      locator: { attachmentId: file.id, url: file.url, ...(location ?? {}) },
    },
    fetch: async (signal) => {
      const first = await open(file.url, file.name, deps, signal);
      if ("stream" in first) return first.stream;
      if (location === undefined) throw gone(file.name);
      deps.logger.debug("attachment link expired; fetching its message again", { attachment: file.id });
      const message = await refetch(location, file.name, deps);
      const fresh = message.attachments.get(file.id);
      if (!fresh) throw gone(file.name);
      const second = await open(fresh.url, file.name, deps, signal);
      if ("stream" in second) return second.stream;
      throw gone(file.name);
    },
  };
  if (file.contentType) attachment.contentType = file.contentType;
  if (file.size !== undefined && Number.isFinite(file.size)) attachment.size = file.size;
  if (file.width) attachment.width = file.width;
  if (file.height) attachment.height = file.height;
  return attachment;
}

/** A user's file recorded by a run, as an attachment again (its message refreshes an expired link). */
export function describedAttachment(descriptor: FileDescriptor, deps: FileDeps): Attachment {
  const { attachmentId, url, channelId, messageId } = descriptor.locator;
  const file: AttachmentFields = {
    id: attachmentId ?? "",
    name: descriptor.name,
    url: url ?? "",
    contentType: null,
  };
  if (descriptor.contentType !== undefined) file.contentType = descriptor.contentType;
  const location = channelId !== undefined && messageId !== undefined ? { channelId, messageId } : undefined;
  return discordAttachment(file, location, deps);
}

/** The ref recorded with each posted image: where to fetch its message again. */
export function imageRef(message: { channelId: string; id: string }): string {
  return `${message.channelId}/${message.id}`;
}

/** An image the bot posted earlier, fetched again through its message (links expire). */
export function storedImageAttachment(stored: StoredImageRef, deps: FileDeps): Attachment {
  return sharedStoredImage(stored, async (image, signal) => {
    const [refChannel, refMessage] = (image.ref ?? "").split("/");
    const location = {
      channelId: refChannel || image.conversationId,
      messageId: refMessage || image.messageId,
    };
    const message = await refetch(location, image.fileName, deps);
    const file = message.attachments.find((a) => a.name === image.fileName) ?? message.attachments.first();
    if (!file) throw gone(image.fileName);
    const opened = await open(file.url, image.fileName, deps, signal);
    if ("stream" in opened) return opened.stream;
    throw gone(image.fileName);
  });
}

async function refetch(location: MessageLocation, name: string, deps: FileDeps): Promise<Message> {
  try {
    return await deps.fetchMessage(location);
  } catch (error) {
    deps.logger.warn("could not fetch a message to refresh an attachment link", {
      ...location,
      code: discordErrorCode(error),
      error,
    });
    if (isPermissionError(error)) {
      throw new FileDownloadError(
        "discord_read_history",
        `The bot can't read “${name}” again: it needs the Read Message History permission in this channel.`,
        { cause: error },
      );
    }
    throw gone(name, error);
  }
}

const gone = (name: string, cause?: unknown): FileDownloadError =>
  new FileDownloadError("discord_file_gone", `Discord no longer has “${name}”; attach it again.`, { cause });
