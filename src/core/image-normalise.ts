import sharp from "sharp";
import { referenceDecodes } from "./decode-slots.js";
import { formatMegabytes } from "./download.js";
import { ReferenceImageError } from "./errors.js";

/**
 * Turns downloaded bytes into a reference the API will take: the format is detected from the
 * bytes (never the declared type), anything other than JPEG/PNG is converted (JPEG and PNG are
 * the only formats every Seedream model and provider accepts), and images over the pixel or
 * byte limits are scaled down. Images no resize can fix (tiny, too narrow) are refused.
 */

export interface ReferenceRules {
  /** Largest width·height sent (6000·6000). */
  maxPixels: number;
  /**
   * Largest width·height decoded (the API's 36 MP input limit, 6000·6000). Formats that sharp
   * shrinks while decoding (JPEG, WebP: up to 8× per side) may be that much larger on paper.
   */
  maxDecodePixels: number;
  /** Largest encoded size sent (10 MB: the older, stricter of the documented limits). */
  maxBytes: number;
  /** Each side must be larger than this (14 px). */
  minSideExclusive: number;
  /** Largest long/short side ratio (16 on 4.x, 3 on 3.x models). */
  maxAspect: number;
  /** For messages: "Seedream 4.5". */
  modelName: string;
}

export const DEFAULT_REFERENCE_RULES: ReferenceRules = {
  maxPixels: 6000 * 6000,
  maxDecodePixels: 6000 * 6000,
  maxBytes: 10 * 1024 * 1024,
  minSideExclusive: 14,
  maxAspect: 16,
  modelName: "Seedream",
};

export interface NormalisedImage {
  /** `data:image/jpeg;base64,…` or `data:image/png;base64,…`. */
  dataUri: string;
  format: "jpeg" | "png";
  width: number;
  height: number;
  byteLength: number;
  /** False when the original bytes are sent unchanged. */
  converted: boolean;
}

const DECODABLE = new Set(["jpeg", "png", "webp", "gif", "tiff", "heif"]);

/** Per-side factor by which sharp can shrink these formats while decoding (libjpeg DCT scaling, libwebp). */
const SHRINK_ON_LOAD: Readonly<Record<string, number>> = { jpeg: 8, webp: 8 };

/** The side of a square of `pixels` pixels, for sentences: 36 MP → "6000×6000". */
const square = (pixels: number): string => {
  const side = Math.floor(Math.sqrt(pixels));
  return `${side}×${side}`;
};

const damaged = (name: string, cause: unknown): ReferenceImageError =>
  new ReferenceImageError(
    `“${name}” is damaged or incomplete (it does not decode to the end); attach it again, or export it anew.`,
    { cause },
  );

/** Browsers and chat apps hand out HTML (login pages, error pages) under image names. */
function looksLikeWebPage(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 512).toString("latin1").trimStart().toLowerCase();
  return head.startsWith("<!doctype html") || head.startsWith("<html") || head.startsWith("<head");
}

export async function normaliseImage(
  bytes: Buffer,
  name: string,
  rules: ReferenceRules,
): Promise<NormalisedImage> {
  if (looksLikeWebPage(bytes)) {
    throw new ReferenceImageError(
      `“${name}” isn't an image: it is a web page (the file link may need a login).`,
    );
  }
  let metadata: sharp.Metadata;
  try {
    // The header only, whatever its size: the pixel cap below is ours to word.
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ReferenceImageError(`“${name}” isn't an image; attach a JPEG, PNG or WebP file.`, {
      cause: error,
    });
  }
  if (metadata.format === "svg") {
    throw new ReferenceImageError(`“${name}” is an SVG drawing; attach a JPEG or PNG image instead.`);
  }
  if (!DECODABLE.has(metadata.format)) {
    throw new ReferenceImageError(
      `“${name}” is a ${metadata.format} file, which isn't supported; attach a JPEG or PNG.`,
    );
  }

  const { width, height } = metadata.autoOrient;
  const shrink = SHRINK_ON_LOAD[metadata.format] ?? 1;
  const decodeLimit = rules.maxDecodePixels * shrink * shrink;
  if (width * height > decodeLimit) {
    throw new ReferenceImageError(
      `“${name}” is ${width}×${height} px; the limit is ${square(decodeLimit)} (${Math.round(decodeLimit / 1e6)} megapixels). Scale it down and try again.`,
    );
  }
  const min = rules.minSideExclusive;
  if (width <= min || height <= min) {
    throw new ReferenceImageError(
      `“${name}” is too small (${width}x${height} px): reference images must be larger than ${min} px on each side.`,
    );
  }
  const aspect = Math.max(width / height, height / width);
  if (aspect > rules.maxAspect) {
    const ratio = width >= height ? `${Math.round(aspect)}:1` : `1:${Math.round(aspect)}`;
    throw new ReferenceImageError(
      `“${name}” is too ${width >= height ? "wide" : "tall"} (${ratio}): ${rules.modelName} takes reference images from 1:${rules.maxAspect} to ${rules.maxAspect}:1; crop it and try again.`,
    );
  }

  const passThrough =
    (metadata.format === "jpeg" || metadata.format === "png") &&
    (metadata.orientation ?? 1) === 1 &&
    metadata.space !== "cmyk" &&
    (metadata.pages ?? 1) === 1 &&
    width * height <= rules.maxPixels &&
    bytes.byteLength <= rules.maxBytes;
  const input = { limitInputPixels: decodeLimit, failOn: "truncated", sequentialRead: true } as const;
  if (passThrough) {
    // Sent as is, so decoded to the end first (into a thumbnail: bounded memory): a file cut
    // short in transit has a valid header and would otherwise reach the API.
    await referenceDecodes
      .run(() => sharp(bytes, input).resize(64, 64, { fit: "inside" }).raw().toBuffer())
      .catch((error: unknown) => {
        throw damaged(name, error);
      });
    const format = metadata.format as "jpeg" | "png";
    return {
      dataUri: toDataUri(bytes, format),
      format,
      width,
      height,
      byteLength: bytes.byteLength,
      converted: false,
    };
  }
  return referenceDecodes.run(() => reencode(bytes, name, width, height, metadata.hasAlpha, rules, input));
}

async function reencode(
  bytes: Buffer,
  name: string,
  width: number,
  height: number,
  hasAlpha: boolean,
  rules: ReferenceRules,
  input: sharp.SharpOptions,
): Promise<NormalisedImage> {
  // Transparency survives only as PNG; everything else goes to JPEG, which is far smaller.
  const format: "jpeg" | "png" = hasAlpha ? "png" : "jpeg";
  let scale = Math.min(1, Math.sqrt(rules.maxPixels / (width * height)));
  for (let attempt = 0; attempt < 8; attempt++) {
    const targetWidth = Math.max(rules.minSideExclusive + 1, Math.floor(width * scale));
    const targetHeight = Math.max(rules.minSideExclusive + 1, Math.floor(height * scale));
    const pipeline = sharp(bytes, input).autoOrient().toColourspace("srgb");
    // A large reduction lets sharp decode JPEG/WebP at 1/2…1/8 scale (shrink-on-load).
    if (scale < 1) pipeline.resize(targetWidth, targetHeight, { fit: "fill" });
    let output: Buffer;
    try {
      output =
        format === "png"
          ? await pipeline.png({ compressionLevel: 9 }).toBuffer()
          : await pipeline.flatten({ background: "#ffffff" }).jpeg({ quality: 90 }).toBuffer();
    } catch (error) {
      throw damaged(name, error);
    }
    if (output.byteLength <= rules.maxBytes) {
      return {
        dataUri: toDataUri(output, format),
        format,
        width: scale < 1 ? targetWidth : width,
        height: scale < 1 ? targetHeight : height,
        byteLength: output.byteLength,
        converted: true,
      };
    }
    // Shrink in proportion to the overshoot, with a margin so few attempts are needed.
    scale *= Math.min(0.9, Math.sqrt(rules.maxBytes / output.byteLength) * 0.95);
  }
  throw new ReferenceImageError(
    `“${name}” could not be made smaller than ${formatMegabytes(rules.maxBytes)}; attach a smaller image.`,
  );
}

function toDataUri(bytes: Buffer, format: "jpeg" | "png"): string {
  return `data:image/${format};base64,${bytes.toString("base64")}`;
}
