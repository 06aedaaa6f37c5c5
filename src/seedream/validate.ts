import { SeedreamValidationError } from "./errors.js";
import type { ModelCapabilities, PixelBound, SizeTier } from "./models.js";
import { type GenerateRequest, REQUEST_DEFAULTS } from "./types.js";

export type RequestedSize =
  | { kind: "tier"; tier: SizeTier }
  | { kind: "pixels"; width: number; height: number }
  | { kind: "adaptive" };

/** Parses what a person typed (`2k`, `2048x2048`, `2048×2048`, `adaptive`); undefined if unreadable. */
export function parseSize(text: string): RequestedSize | undefined {
  const value = text.trim();
  const tier = /^([1-4])k$/i.exec(value);
  if (tier) return { kind: "tier", tier: `${tier[1]}K` as SizeTier };
  const pixels = /^(\d{2,5})\s*[x×*]\s*(\d{2,5})$/i.exec(value);
  if (pixels) return { kind: "pixels", width: Number(pixels[1]), height: Number(pixels[2]) };
  if (/^adaptive$/i.test(value)) return { kind: "adaptive" };
  return undefined;
}

/** The `size` value the API expects: upper-case tier, `WxH` with a plain `x`. */
export function wireSize(size: RequestedSize): string {
  if (size.kind === "tier") return size.tier;
  if (size.kind === "pixels") return `${size.width}x${size.height}`;
  return "adaptive";
}

const fail = (message: string, param?: string): never => {
  throw new SeedreamValidationError("validation", message, { userMessage: message, param });
};

const dims = (bound: PixelBound): string => `${bound.width}x${bound.height}`;
const area = (bound: PixelBound): number => bound.width * bound.height;

const orList = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;

function validateSize(size: string, caps: ModelCapabilities): void {
  const parsed = parseSize(size);
  const name = caps.name;
  const suggestion =
    caps.tiers.length > 0
      ? `use ${orList(caps.tiers)}${caps.pixelSizes ? " or WIDTHxHEIGHT such as 2048x2048" : ""}`
      : caps.adaptiveOnly
        ? "leave the size out (the output follows the reference)"
        : "use WIDTHxHEIGHT such as 1024x1024";
  if (parsed === undefined) {
    if (/\d\s*k/i.test(size) && /[x×*]/i.test(size)) {
      fail(`A size is either a tier like 2K or pixels like 2048x2048, not both ("${size}").`, "size");
    }
    fail(`"${size}" is not a size ${name} understands; ${suggestion}.`, "size");
  }
  const requested = parsed as RequestedSize;
  if (requested.kind === "adaptive") {
    if (!caps.adaptiveOnly && caps.family !== "unknown")
      fail(`${name} has no adaptive size; ${suggestion}.`, "size");
    return;
  }
  if (caps.adaptiveOnly)
    fail(`${name} sizes its output after the reference image; leave the size out.`, "size");
  if (requested.kind === "tier") {
    if (!caps.tiers.includes(requested.tier))
      fail(`${name} has no ${requested.tier} size; ${suggestion}.`, "size");
    return;
  }
  if (!caps.pixelSizes) fail(`${name} does not take pixel sizes; ${suggestion}.`, "size");
  const { width, height } = requested;
  const pixels = width * height;
  const smallest = caps.tiers[0];
  const largest = caps.tiers.at(-1);
  if (pixels < area(caps.minPixels)) {
    const hint = smallest ? `try --size ${smallest}` : `try --size ${dims(caps.minPixels)}`;
    fail(`${name} needs at least ${dims(caps.minPixels)} pixels; ${hint}.`, "size");
  }
  if (pixels > area(caps.maxPixels)) {
    const hint = largest ? `try --size ${largest}` : `try --size ${dims(caps.maxPixels)}`;
    fail(`${name} allows at most ${dims(caps.maxPixels)} pixels; ${hint}.`, "size");
  }
  const aspect = width / height;
  if (aspect < caps.minAspect || aspect > caps.maxAspect) {
    fail(
      `${width}x${height} is too ${aspect < 1 ? "tall" : "wide"}: width and height may differ at most 16 times.`,
      "size",
    );
  }
}

function validateReference(reference: string, position: number): void {
  if (/^data:image\/[a-z0-9.+-]+;base64,/.test(reference)) return;
  if (/^https?:\/\//i.test(reference)) return;
  fail(`Reference image ${position} must be an http(s) URL or a data:image/…;base64 URI.`, "image");
}

/**
 * Checks a request against a model before any network call. Every message is one sentence a
 * person can act on; it is both the error's `message` and its `userMessage`.
 */
export function validateRequest(request: GenerateRequest, caps: ModelCapabilities): void {
  const name = caps.name;
  if (request.prompt.trim() === "") fail("Write a prompt describing the image you want.", "prompt");

  const references = request.references ?? [];
  for (const [i, reference] of references.entries()) validateReference(reference, i + 1);
  if (references.length < caps.minReferences) {
    fail(
      caps.minReferences === 1
        ? `${name} edits an image: attach exactly one reference image.`
        : `${name} needs at least ${caps.minReferences} reference images.`,
      "image",
    );
  }
  if (references.length > caps.maxReferences) {
    fail(
      caps.maxReferences === 0
        ? `${name} does not take reference images; remove them or pick a Seedream 4.x model.`
        : `${name} accepts at most ${caps.maxReferences} reference image${caps.maxReferences === 1 ? "" : "s"}; you gave ${references.length}.`,
      "image",
    );
  }

  const maxImages = request.maxImages ?? REQUEST_DEFAULTS.maxImages;
  if (!Number.isInteger(maxImages) || maxImages < 1 || maxImages > 15) {
    fail(`The number of images must be a whole number from 1 to 15 (got ${maxImages}).`, "max_images");
  }
  if (maxImages > 1 && !caps.group)
    fail(`${name} makes one image per request; ask for 1 image.`, "max_images");
  if (references.length + maxImages > caps.maxTotalImages) {
    const room = caps.maxTotalImages - references.length;
    fail(
      `Seedream allows at most ${caps.maxTotalImages} images per request counting references: with ${references.length} references ask for at most ${room} image${room === 1 ? "" : "s"}.`,
      "max_images",
    );
  }

  if (request.size !== undefined) validateSize(request.size, caps);

  if (request.seed !== undefined) {
    if (!caps.seed) fail(`${name} does not take a seed; only Seedream 3.0 and SeedEdit 3.0 do.`, "seed");
    if (!Number.isInteger(request.seed) || request.seed < -1 || request.seed > 2_147_483_647) {
      fail("The seed must be a whole number from -1 to 2147483647.", "seed");
    }
  }
  if (request.guidanceScale !== undefined) {
    if (!caps.guidanceScale) {
      fail(
        `${name} does not take a guidance scale; only Seedream 3.0 and SeedEdit 3.0 do.`,
        "guidance_scale",
      );
    }
    if (!(request.guidanceScale >= 1 && request.guidanceScale <= 10)) {
      fail("The guidance scale must be between 1 and 10.", "guidance_scale");
    }
  }
  if (request.fast && !caps.fastMode)
    fail(`Fast mode is only available on Seedream 4.0, not ${name}.`, "fast");
}
