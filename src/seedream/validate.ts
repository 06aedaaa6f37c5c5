import { SeedreamValidationError, type ValidationIssue } from "./errors.js";
import {
  MAX_IMAGES_PER_REQUEST,
  type ModelCapabilities,
  modelCapabilities,
  modelNamesWith,
  type OutputFormat,
  type SizeTier,
  sizeForRatio,
} from "./models.js";
import { modelIdFor, type ProviderProfile } from "./providers.js";
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

const area = (bound: { width: number; height: number }): number => bound.width * bound.height;

/** Neutral text for logs and library callers; the sentence a person reads is the core's. */
function describe(issue: ValidationIssue): string {
  const { kind, caps, ...details } = issue;
  const limits =
    kind === "size_too_small"
      ? { min: `${caps.minPixels.width}x${caps.minPixels.height}` }
      : kind === "size_too_large"
        ? { max: `${caps.maxPixels.width}x${caps.maxPixels.height}` }
        : {};
  const fields = Object.entries({ ...details, ...limits }).map(
    ([key, value]) => `${key}=${JSON.stringify(value)}`,
  );
  return `Request does not fit ${caps.name}: ${kind}${fields.length > 0 ? ` (${fields.join(", ")})` : ""}.`;
}

const fail = (issue: ValidationIssue, param: string): never => {
  throw new SeedreamValidationError("validation", describe(issue), { param, issue });
};

/** The wire size for a request: `--ar` turned into this model's pixel size for it. */
function resolvedSize(request: GenerateRequest, caps: ModelCapabilities): string | undefined {
  if (request.aspectRatio === undefined) return request.size;
  const ratio = request.aspectRatio;
  const aspect = ratio.width / ratio.height;
  if (aspect < caps.minAspect || aspect > caps.maxAspect)
    fail({ kind: "ratio_out_of_range", caps, ratio }, "size");
  const parsed = request.size === undefined ? undefined : parseSize(request.size);
  if (parsed !== undefined && parsed.kind !== "tier") fail({ kind: "ratio_with_pixels", caps }, "size");
  const pixels = sizeForRatio(ratio, caps, parsed?.kind === "tier" ? parsed.tier : undefined);
  return `${pixels.width}x${pixels.height}`;
}

/**
 * The accepted size closest to a too-small one, in its shape: the model's own size for that
 * ratio at its smallest tier when it has one, else the same shape scaled up to the minimum.
 */
function nearestAccepted(width: number, height: number, caps: ModelCapabilities): string {
  const smallest = caps.tiers[0];
  const own = smallest ? sizeForRatio({ width, height }, caps, smallest) : undefined;
  if (own && area(own) >= area(caps.minPixels) && area(own) <= area(caps.maxPixels)) {
    return `${own.width}x${own.height}`;
  }
  const scale = Math.sqrt(area(caps.minPixels) / (width * height));
  const up = (side: number) => Math.ceil((side * scale) / 16) * 16;
  return `${up(width)}x${up(height)}`;
}

function validateSize(size: string, caps: ModelCapabilities): void {
  const parsed = parseSize(size);
  if (parsed === undefined) {
    fail({ kind: "size_unreadable", caps, size, mixed: /\d\s*k/i.test(size) && /[x×*]/i.test(size) }, "size");
  }
  const requested = parsed as RequestedSize;
  if (requested.kind === "adaptive") {
    if (!caps.adaptiveOnly && caps.family !== "unknown") fail({ kind: "size_no_adaptive", caps }, "size");
    return;
  }
  if (caps.adaptiveOnly) fail({ kind: "size_adaptive_only", caps }, "size");
  if (requested.kind === "tier") {
    if (caps.unreliableTiers.includes(requested.tier)) {
      fail({ kind: "size_tier_unreliable", caps, tier: requested.tier }, "size");
    }
    if (!caps.tiers.includes(requested.tier))
      fail({ kind: "size_no_tier", caps, tier: requested.tier }, "size");
    return;
  }
  if (!caps.pixelSizes) fail({ kind: "size_no_pixels", caps }, "size");
  const { width, height } = requested;
  // The shape first: a size that is both too small and too narrow is fixed by its shape.
  const aspect = width / height;
  if (aspect < caps.minAspect || aspect > caps.maxAspect) {
    fail({ kind: "size_aspect", caps, width, height }, "size");
  }
  if (width * height < area(caps.minPixels)) {
    fail(
      { kind: "size_too_small", caps, width, height, nearest: nearestAccepted(width, height, caps) },
      "size",
    );
  }
  if (width * height > area(caps.maxPixels)) fail({ kind: "size_too_large", caps, width, height }, "size");
}

function validateReference(reference: string, position: number, caps: ModelCapabilities): void {
  if (/^data:image\/[a-z0-9.+-]+;base64,/.test(reference)) return;
  if (/^https?:\/\//i.test(reference)) return;
  fail({ kind: "reference_format", caps, position }, "image");
}

/**
 * Checks a request against a model before any network call, and returns it with its size in
 * wire form (`--ar` resolved for this model). `referenceCount` stands in for `references` when
 * the caller has not downloaded them yet (the bot checks before it queues or downloads).
 * Failures are `SeedreamValidationError`s carrying a `ValidationIssue`; the wording is the caller's.
 */
export function validateRequest(
  request: GenerateRequest,
  caps: ModelCapabilities,
  referenceCount = request.references?.length ?? 0,
): GenerateRequest {
  if (request.prompt.trim() === "") fail({ kind: "prompt_empty", caps }, "prompt");

  for (const [i, reference] of (request.references ?? []).entries())
    validateReference(reference, i + 1, caps);
  const references = referenceCount;
  if (references > caps.maxReferences) {
    fail({ kind: "references_too_many", caps, references }, "image");
  }
  if (references < caps.minReferences) fail({ kind: "references_too_few", caps, references }, "image");

  const maxImages = request.maxImages ?? REQUEST_DEFAULTS.maxImages;
  if (!Number.isInteger(maxImages) || maxImages < 1 || maxImages > MAX_IMAGES_PER_REQUEST) {
    fail({ kind: "images_out_of_range", caps, images: maxImages }, "max_images");
  }
  // Without groups, `--n N` is N single-image requests, each carrying the references.
  if (references + (caps.group ? maxImages : 1) > caps.maxTotalImages) {
    fail({ kind: "images_too_many_total", caps, references, images: maxImages }, "max_images");
  }

  const size = resolvedSize(request, caps);
  if (size !== undefined) validateSize(size, caps);

  if (request.seed !== undefined) {
    if (!caps.seed) fail({ kind: "seed_unsupported", caps }, "seed");
    if (!Number.isInteger(request.seed) || request.seed < -1 || request.seed > 2_147_483_647) {
      fail({ kind: "seed_out_of_range", caps }, "seed");
    }
  }
  if (request.guidanceScale !== undefined) {
    if (!caps.guidanceScale) fail({ kind: "guidance_unsupported", caps }, "guidance_scale");
    if (!(request.guidanceScale >= 1 && request.guidanceScale <= 10)) {
      fail({ kind: "guidance_out_of_range", caps }, "guidance_scale");
    }
  }
  if (request.fast && !caps.fastMode) {
    fail({ kind: "fast_unsupported", caps, models: modelNamesWith((other) => other.fastMode) }, "fast");
  }
  if (request.outputFormat !== undefined && !caps.outputFormats.includes(request.outputFormat)) {
    const models = modelNamesWith((other) =>
      other.outputFormats.includes(request.outputFormat as OutputFormat),
    );
    fail({ kind: "format_unsupported", caps, format: request.outputFormat, models }, "output_format");
  }
  if (request.webSearch && !caps.webSearch) {
    fail(
      { kind: "web_search_unsupported", caps, models: modelNamesWith((other) => other.webSearch) },
      "tools",
    );
  }

  const { aspectRatio: _ratio, ...rest } = request;
  return size === undefined ? rest : { ...rest, size };
}

/** Which provider's ids `--model 4.5` resolves to, and the model used when none is named. */
export interface ModelContext {
  provider: ProviderProfile;
  defaultModel: string;
}

/**
 * The one check of a request: its model resolved (an alias becomes this provider's id), then
 * validated against that model. Returns the request as it will be sent (model id, wire size).
 */
export function prepareRequest(
  request: GenerateRequest,
  context: ModelContext,
  referenceCount?: number,
): GenerateRequest & { model: string } {
  let model = context.defaultModel;
  if (request.model !== undefined) {
    const found = modelIdFor(request.model, context.provider);
    if ("problem" in found) {
      const caps = modelCapabilities(request.model);
      if (found.problem === "not_offered") {
        fail(
          { kind: "model_not_offered", caps, typed: request.model, provider: context.provider.name },
          "model",
        );
      }
      fail({ kind: "model_unknown_version", caps, typed: request.model }, "model");
    }
    model = (found as { id: string }).id;
  }
  return { ...validateRequest({ ...request, model }, modelCapabilities(model), referenceCount), model };
}
