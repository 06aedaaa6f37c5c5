import { z } from "zod";
import type { ModelCapabilities } from "./models.js";
import type { ProviderProfile } from "./providers.js";
import { type GenerateRequest, type ImageSize, REQUEST_DEFAULTS } from "./types.js";
import { parseSize, wireSize } from "./validate.js";

/**
 * What the API sends and receives, as it is on the wire. Schemas are loose on purpose: the
 * vendors add and drop fields (DMXAPI omits `model` and `size`, SDKs say `created_at`), and a
 * missing optional field must never turn a good image into an error.
 */

/** Ark uses `code` strings; Modelverse sometimes puts its code in `type`; some gateways send numbers. */
export const wireErrorSchema = z.looseObject({
  code: z.union([z.string(), z.number()]).nullish(),
  message: z.string().nullish(),
  param: z.string().nullish(),
  type: z.string().nullish(),
});
export type WireError = z.infer<typeof wireErrorSchema>;

export const wireErrorEnvelopeSchema = z.looseObject({ error: wireErrorSchema });

export const wireUsageSchema = z.looseObject({
  generated_images: z.number().nullish(),
  /** 5.0 lite with `tools: web_search`: how many searches the model ran. */
  tool_usage: z.looseObject({ web_search: z.number().nullish() }).nullish(),
  output_tokens: z.number().nullish(),
  total_tokens: z.number().nullish(),
});

const common = {
  model: z.string().nullish(),
  created: z.number().nullish(),
  created_at: z.number().nullish(),
};

/** One SSE `data:` payload. `type` may be absent when the event name came on the `event:` line. */
export const wireStreamEventSchema = z.looseObject({
  ...common,
  type: z.string().nullish(),
  image_index: z.number().int().nonnegative().nullish(),
  url: z.string().nullish(),
  b64_json: z.string().nullish(),
  size: z.string().nullish(),
  error: wireErrorSchema.nullish(),
  usage: wireUsageSchema.nullish(),
});

export const wireDataEntrySchema = z.looseObject({
  url: z.string().nullish(),
  b64_json: z.string().nullish(),
  size: z.string().nullish(),
  error: wireErrorSchema.nullish(),
});
export type WireDataEntry = z.infer<typeof wireDataEntrySchema>;

export const wireResponseSchema = z.looseObject({
  ...common,
  data: z.array(wireDataEntrySchema),
  usage: wireUsageSchema.nullish(),
});

export const STREAM_EVENT = {
  succeeded: "image_generation.partial_succeeded",
  failed: "image_generation.partial_failed",
  completed: "image_generation.completed",
} as const;

/** `2048x2048` or `2048×2048` (the docs use both). */
export function parseWireSize(size: string | null | undefined): ImageSize | undefined {
  if (!size) return undefined;
  const match = /^\s*(\d+)\s*[x×*]\s*(\d+)\s*$/i.exec(size);
  return match ? { width: Number(match[1]), height: Number(match[2]) } : undefined;
}

export interface BodyContext {
  provider: ProviderProfile;
  model: string;
  caps: ModelCapabilities;
  stream: boolean;
}

/** The JSON body for `POST /images/generations`; the request has already been validated. */
export function buildRequestBody(request: GenerateRequest, context: BodyContext): Record<string, unknown> {
  const { provider, model, caps, stream } = context;
  const body: Record<string, unknown> = { model, prompt: request.prompt };
  const references = request.references ?? [];
  if (references.length > 0) {
    if (provider.referenceField === "images") body.images = references;
    else body.image = references.length === 1 ? references[0] : references;
  }
  if (request.size !== undefined) {
    const parsed = parseSize(request.size);
    body.size = parsed ? wireSize(parsed) : request.size;
  }
  const maxImages = request.maxImages ?? REQUEST_DEFAULTS.maxImages;
  // Older models reject fields they do not know, so group fields go only to models that have groups.
  if (caps.group) {
    if (maxImages > 1) {
      body.sequential_image_generation = "auto";
      body.sequential_image_generation_options = { max_images: maxImages };
    } else {
      body.sequential_image_generation = "disabled";
    }
  }
  if (stream) body.stream = true;
  body.response_format = request.responseFormat ?? REQUEST_DEFAULTS.responseFormat;
  body.watermark = provider.forcesWatermarkOff ? false : (request.watermark ?? REQUEST_DEFAULTS.watermark);
  if (request.fast) body.optimize_prompt_options = { mode: "fast" };
  if (request.outputFormat !== undefined) body.output_format = request.outputFormat;
  if (request.webSearch) body.tools = [{ type: "web_search" }];
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.guidanceScale !== undefined) body.guidance_scale = request.guidanceScale;
  return body;
}
