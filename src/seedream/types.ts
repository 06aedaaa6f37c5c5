import type { ModelAlias, ModelCapabilities } from "./models.js";

/**
 * Domain types of the Seedream client. These are what the rest of the bot sees; the wire
 * shapes the API actually sends live in `wire.ts` and are translated once, at the boundary.
 */

export interface ImageSize {
  width: number;
  height: number;
}

/** What went wrong with one image of a group. */
export type ImageFailureKind = "moderation" | "internal" | "other";

export interface Usage {
  generatedImages: number;
  /** Web searches the model ran (`usage.tool_usage.web_search`), when reported. */
  webSearches?: number;
  outputTokens?: number;
  totalTokens?: number;
}

/** One event of a generation; `generate()` yields these in the order the API sends them. */
export type GenerationEvent =
  | {
      type: "image";
      /** 0-based position in the group (`image_index`); arrival order is not guaranteed. */
      index: number;
      /** The image itself. For `response_format: url` the client has already downloaded it. */
      bytes: Buffer;
      mimeType: string;
      /** The API's URL when it sent one (expires after 24 h; informational only). */
      url?: string;
      size?: ImageSize;
    }
  | {
      type: "image_failed";
      index: number;
      /** The API's error code, e.g. `OutputImageSensitiveContentDetected`. */
      code: string;
      message: string;
      kind: ImageFailureKind;
    }
  | { type: "completed"; usage: Usage };

/** A request in domain terms; `client.ts` turns it into the provider's wire body. */
export interface GenerateRequest {
  prompt: string;
  /** Model id or version alias (`4.5`); the client's configured model when absent. */
  model?: string;
  /** References in order, as `data:` URIs (what the bot sends) or URLs. */
  references?: string[];
  /** `1K` / `2K` / `3K` / `4K`, `WxH`, or `adaptive`. Model default when absent. */
  size?: string;
  /** `--ar W:H`: becomes the model's pixel size for that ratio (at `size` when it is a tier). */
  aspectRatio?: { width: number; height: number };
  /** How many images at most. 1 (default) = single image; above 1 = group generation. */
  maxImages?: number;
  seed?: number;
  guidanceScale?: number;
  /** Sent explicitly on every request because the API's default is `true`. */
  watermark?: boolean;
  /** `optimize_prompt_options.mode = fast` (Seedream 4.0 and 5.0 Pro). */
  fast?: boolean;
  /** `output_format` (5.0 family): the generated images' format. JPEG when absent. */
  outputFormat?: "png" | "jpeg";
  /** `tools: [{"type":"web_search"}]` (5.0 lite): the model may search the web for the prompt. */
  webSearch?: boolean;
  /** Stream with SSE (default when the model supports it). */
  stream?: boolean;
  /** Default `b64_json`, so images never depend on an expiring URL. */
  responseFormat?: "b64_json" | "url";
}

/** What a request field left out means. */
export const REQUEST_DEFAULTS = {
  maxImages: 1,
  /** Streamed whenever the model can stream. */
  stream: true,
  /** Images never depend on an expiring URL. */
  responseFormat: "b64_json",
  /** The API's own default is `true`: the bot always says what it means. */
  watermark: false,
} as const satisfies Required<Pick<GenerateRequest, "maxImages" | "stream" | "responseFormat" | "watermark">>;

export interface GenerateOptions {
  signal?: AbortSignal;
}

/** A `--model` alias this generator serves, the id it sends, and what that model accepts. */
export interface ModelOffer {
  alias: ModelAlias;
  id: string;
  caps: ModelCapabilities;
}

/**
 * Anything that can generate images: the real client, the demo provider, a test double.
 * Breaking out of the iteration (or aborting `signal`) cancels the underlying request.
 */
export interface ImageGenerator {
  generate(request: GenerateRequest, options?: GenerateOptions): AsyncIterable<GenerationEvent>;
  /**
   * Checks a request against the model's capabilities without any network call, and returns it
   * as it will be sent (model alias resolved, `aspectRatio` turned into that model's size).
   * `referenceCount` stands in for references not downloaded yet. Throws a
   * `SeedreamValidationError` whose `issue` says what does not fit.
   */
  validate(request: GenerateRequest, referenceCount?: number): GenerateRequest & { model: string };
  /** The human name of a model id ("Seedream 4.5"), for status lines. */
  describeModel(modelId?: string): string;
  /** The versions `--model` can name here, for the help text. */
  models?(): ModelOffer[];
}
