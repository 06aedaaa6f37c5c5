import sharp from "sharp";
import type { Attachment, ByteStream } from "../../src/core/ports.js";

/** Test attachments whose byte streams count what the core actually pulled. */

export interface CountingAttachment extends Attachment {
  /** Bytes handed to the core so far. */
  readonly pulled: number;
  /** How many times `fetch` was called. */
  readonly fetches: number;
  /** Whether the producer was closed (the core stopped the transfer). */
  readonly closed: boolean;
}

export interface StreamSpec {
  name: string;
  /** Produces the chunks; called once per fetch. */
  chunks: () => Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  declared?: Partial<Pick<Attachment, "contentType" | "size" | "width" | "height">> & {
    contentLength?: number;
  };
}

export function streamingAttachment(spec: StreamSpec): CountingAttachment {
  const state = { pulled: 0, fetches: 0, closed: false };
  const attachment: CountingAttachment = {
    name: spec.name,
    ...(spec.declared?.contentType === undefined ? {} : { contentType: spec.declared.contentType }),
    ...(spec.declared?.size === undefined ? {} : { size: spec.declared.size }),
    get pulled() {
      return state.pulled;
    },
    get fetches() {
      return state.fetches;
    },
    get closed() {
      return state.closed;
    },
    // The signal is deliberately ignored: tests prove the core stops pulling on its own.
    async fetch(_signal: AbortSignal): Promise<ByteStream> {
      state.fetches++;
      async function* body(): AsyncGenerator<Uint8Array> {
        try {
          for await (const chunk of spec.chunks()) {
            state.pulled += chunk.byteLength;
            yield chunk;
          }
        } finally {
          state.closed = true;
        }
      }
      const stream: ByteStream = { body: body() };
      if (spec.declared?.contentLength !== undefined) stream.contentLength = spec.declared.contentLength;
      return stream;
    },
  };
  return attachment;
}

/** An attachment serving `bytes` in chunks of `chunkSize`. */
export function bytesAttachment(name: string, bytes: Buffer, chunkSize = 64 * 1024): CountingAttachment {
  return streamingAttachment({
    name,
    chunks: function* () {
      for (let offset = 0; offset < bytes.byteLength; offset += chunkSize) {
        yield bytes.subarray(offset, offset + chunkSize);
      }
    },
  });
}

export async function solidImage(
  width: number,
  height: number,
  format: "png" | "jpeg" | "webp",
  options: { alpha?: boolean } = {},
): Promise<Buffer> {
  const channels = options.alpha ? 4 : 3;
  const background = options.alpha ? { r: 200, g: 40, b: 40, alpha: 0.5 } : { r: 200, g: 40, b: 40 };
  return sharp({ create: { width, height, channels, background } }).toFormat(format).toBuffer();
}

/** Decodes a `data:image/…;base64,` URI and reports what is in it. */
export async function inspectDataUri(
  uri: string,
): Promise<{ declared: string; format: string; width: number; height: number; bytes: number }> {
  const match = /^data:image\/([a-z]+);base64,(.*)$/s.exec(uri);
  if (!match) throw new Error(`not a base64 image data URI: ${uri.slice(0, 40)}`);
  const bytes = Buffer.from(match[2] ?? "", "base64");
  const metadata = await sharp(bytes).metadata();
  return {
    declared: match[1] ?? "",
    format: metadata.format,
    width: metadata.width,
    height: metadata.height,
    bytes: bytes.byteLength,
  };
}
