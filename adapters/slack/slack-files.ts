import type { Attachment, ByteStream, FileDescriptor, StoredImageRef } from "../../src/core/ports.js";
import type { Logger } from "../../src/logger.js";
import { FileDownloadError } from "../shared/download-error.js";
import {
  discardBody,
  downloadErrors,
  openGuardedDownload,
  responseByteStream,
  sameOrigin,
} from "../shared/guarded-download.js";
import type { HostPolicy } from "../shared/host-policy.js";
import { storedImageAttachment as sharedStoredImage } from "../shared/stored-image.js";
import { missingFilesReadScope, neededScope, slackErrorCode } from "./slack-errors.js";
import type { Fetch, SlackWeb } from "./slack-web.js";
import type { SlackFile } from "./slack-wire.js";

/**
 * Slack files as core attachments. Private files need the bot token, so every download is
 * checked against the token host policy, redirects are followed by hand (only on the same host),
 * and Slack's HTML sign-in page (what a token without files:read gets, with HTTP 200) is
 * recognised and explained. The size cap is the core's job: this only opens the stream.
 */

export interface FileDeps {
  web: SlackWeb;
  fetch: Fetch;
  token: string;
  tokenHosts: HostPolicy;
  logger: Logger;
}

const MAX_REDIRECTS = 3;

export async function openSlackDownload(
  url: string,
  name: string,
  deps: FileDeps,
  signal: AbortSignal,
): Promise<ByteStream> {
  const response = await openGuardedDownload(url, signal, {
    allowedHost: deps.tokenHosts,
    headers: (hop) => (deps.tokenHosts(hop) ? { authorization: `Bearer ${deps.token}` } : undefined),
    refuseRedirect: (from, to) => {
      if (sameOrigin(from, to)) return undefined;
      deps.logger.warn("refused a file redirect to another host", { host: to.host });
      return new FileDownloadError(
        "slack_file_redirect",
        `Slack redirected the download of “${name}” to another host (${to.host}), so the bot didn't follow it; upload the image to Slack directly.`,
      );
    },
    fetch: deps.fetch,
    maxRedirects: MAX_REDIRECTS,
    errors: downloadErrors({
      platform: "Slack",
      codePrefix: "slack_file",
      fileName: name,
      warn: (message, fields) => deps.logger.warn(message, fields),
    }),
  });
  if (!response.ok) {
    await discardBody(response);
    throw downloadStatusError(response.status, name);
  }
  const stream = responseByteStream(response);
  if (stream.contentType !== undefined && /^\s*text\/html/i.test(stream.contentType)) {
    await discardBody(response);
    throw missingFilesReadScope(name);
  }
  return stream;
}

/** A file from an event or files.info as a core attachment. */
export function fileAttachment(file: SlackFile, deps: FileDeps): Attachment {
  const name = file.name ?? file.title ?? file.id;
  const attachment: Attachment = {
    name,
    // Private URLs need the token anyway: the file id is all a restarted bot needs (files.info).
    descriptor: {
      kind: "file",
      platform: "slack",
      name,
      ...(file.mimetype === undefined ? {} : { contentType: file.mimetype }),
      locator: { fileId: file.id },
    },
    fetch: async (signal) => {
      const url = file.url_private_download ?? file.url_private;
      if (file.is_external || url === undefined) {
        throw new FileDownloadError(
          "slack_file_external",
          `“${name}” is stored outside Slack${file.external_type ? ` (${file.external_type})` : ""}, so the bot can't read it; upload the image to Slack instead.`,
        );
      }
      return openSlackDownload(url, name, deps, signal);
    },
  };
  if (file.mimetype !== undefined) attachment.contentType = file.mimetype;
  if (file.size !== undefined) attachment.size = file.size;
  if (file.original_w !== undefined) attachment.width = file.original_w;
  if (file.original_h !== undefined) attachment.height = file.original_h;
  return attachment;
}

/** The files of a message, in order; Slack Connect stubs are completed with files.info first. */
export async function eventAttachments(files: readonly SlackFile[], deps: FileDeps): Promise<Attachment[]> {
  return Promise.all(
    files.map(async (file) => {
      if (file.file_access !== "check_file_info") return fileAttachment(file, deps);
      try {
        return fileAttachment(await deps.web.fileInfo(file.id), deps);
      } catch (error) {
        deps.logger.warn("files.info failed for a Slack Connect file", { file: file.id, error });
        return failingAttachment(file.id, fileInfoError(error, "a file shared from another organisation"));
      }
    }),
  );
}

/** A user's file recorded by a run (its id), fetched again after a restart: files.info, then the download. */
export function describedAttachment(descriptor: FileDescriptor, deps: FileDeps): Attachment {
  const fileId = descriptor.locator.fileId ?? "";
  const attachment: Attachment = {
    name: descriptor.name,
    descriptor,
    fetch: async (signal) => {
      let file: SlackFile;
      try {
        file = await deps.web.fileInfo(fileId);
      } catch (error) {
        deps.logger.warn("files.info failed for a recorded reference", { file: fileId, error });
        throw fileInfoError(error, `“${descriptor.name}”`);
      }
      return fileAttachment(file, deps).fetch(signal);
    },
  };
  if (descriptor.contentType !== undefined) attachment.contentType = descriptor.contentType;
  return attachment;
}

/** An image the bot posted earlier (recorded with its file id), fetched again for an edit. */
export function storedImageAttachment(stored: StoredImageRef, deps: FileDeps): Attachment {
  return sharedStoredImage(stored, async (image, signal) => {
    const fileId = image.ref ?? image.messageId;
    let file: SlackFile;
    try {
      file = await deps.web.fileInfo(fileId);
    } catch (error) {
      deps.logger.warn("files.info failed for an earlier image", { file: fileId, error });
      throw fileInfoError(error, `the earlier image “${image.fileName}”`);
    }
    return fileAttachment({ ...file, name: image.fileName }, deps).fetch(signal);
  });
}

function failingAttachment(name: string, error: FileDownloadError): Attachment {
  return {
    name,
    fetch: async () => {
      throw error;
    },
  };
}

function fileInfoError(error: unknown, what: string): FileDownloadError {
  const code = slackErrorCode(error);
  if (code === "missing_scope") {
    return new FileDownloadError(
      "slack_files_read",
      `The bot can't read ${what}: it is missing the ${neededScope(error) ?? "files:read"} scope. An admin can add it under OAuth & Permissions and reinstall the app.`,
      { cause: error },
    );
  }
  if (code === "file_not_found" || code === "file_deleted") {
    return new FileDownloadError(
      "slack_file_gone",
      `Slack no longer has ${what} (or the bot may not see it); attach it again.`,
      { cause: error },
    );
  }
  return new FileDownloadError("slack_file_info", `Slack didn't let the bot read ${what}; try again.`, {
    cause: error,
  });
}

function downloadStatusError(status: number, name: string): FileDownloadError {
  if (status === 404 || status === 410) {
    return new FileDownloadError("slack_file_gone", `Slack no longer has “${name}”; attach it again.`);
  }
  if (status === 401 || status === 403) {
    return new FileDownloadError(
      "slack_files_read",
      `Slack refused to hand over “${name}” (HTTP ${status}): the bot is most likely missing the files:read scope.`,
    );
  }
  return new FileDownloadError(
    "slack_file_download",
    `Slack answered HTTP ${status} for “${name}”; try attaching it again.`,
  );
}
