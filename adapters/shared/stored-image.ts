import type { Attachment, ByteStream, StoredImageRef } from "../../src/core/ports.js";

/**
 * An image the bot posted earlier, as an attachment the core can fetch again for an edit. Only
 * how to open it differs per platform (Slack asks files.info for the file id, Discord fetches the
 * message again because its CDN links expire).
 */
export function storedImageAttachment(
  image: StoredImageRef,
  open: (image: StoredImageRef, signal: AbortSignal) => Promise<ByteStream>,
): Attachment {
  return {
    name: image.fileName,
    contentType: image.mimeType,
    fetch: (signal) => open(image, signal),
  };
}
