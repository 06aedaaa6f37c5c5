import sharp from "sharp";

/**
 * Checks a generated image before it is posted: the upstream (or a proxy in between) may send
 * base64 of an HTML page, a truncated file, or bytes that are no image at all, and a chat must
 * never show those as a picture. The bytes must be a PNG, JPEG or WebP by their signature, decode
 * to the end, and be no larger than the size the API claimed (a lying `size` must not smuggle in a
 * decompression bomb). Returns the real format, or why the image is refused.
 */

export const IMAGE_CHECK_DEFAULTS = {
  /** The largest generated image: 4K at the widest ratio is about 16.6 MP; 40 MP leaves room. */
  maxPixels: 40_000_000,
  /** Decoded dimensions may exceed the claimed ones by this much (rounding by proxies). */
  sizeTolerance: 1.02,
} as const;

export type ImageCheck =
  | { ok: true; mimeType: "image/png" | "image/jpeg" | "image/webp"; width: number; height: number }
  | { ok: false; reason: string };

export function sniffImageType(bytes: Uint8Array): "image/png" | "image/jpeg" | "image/webp" | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  const text = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString("latin1");
  if (text(0, 4) === "RIFF" && text(8, 12) === "WEBP") return "image/webp";
  return undefined;
}

export async function checkGeneratedImage(
  bytes: Buffer,
  claimed?: { width: number; height: number },
): Promise<ImageCheck> {
  const mimeType = sniffImageType(bytes);
  if (mimeType === undefined) return { ok: false, reason: "not a PNG, JPEG or WebP" };
  let width: number;
  let height: number;
  try {
    const image = sharp(bytes, { failOn: "truncated", limitInputPixels: IMAGE_CHECK_DEFAULTS.maxPixels });
    const metadata = await image.metadata();
    width = metadata.width;
    height = metadata.height;
    // Decoding to the end is what finds a truncated file; a tiny output keeps it cheap (JPEG
    // shrinks on load, and the pixels are never kept).
    await image.resize(32, 32, { fit: "inside" }).raw().toBuffer();
  } catch (error) {
    return {
      ok: false,
      reason: `does not decode (${error instanceof Error ? error.message : String(error)})`,
    };
  }
  if (claimed) {
    const tolerance = IMAGE_CHECK_DEFAULTS.sizeTolerance;
    if (width > claimed.width * tolerance || height > claimed.height * tolerance) {
      return {
        ok: false,
        reason: `is ${width}x${height}, larger than the ${claimed.width}x${claimed.height} claimed`,
      };
    }
  }
  return { ok: true, mimeType, width, height };
}
