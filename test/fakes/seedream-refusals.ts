import type { ErrorScenario } from "./seedream-server.js";

/**
 * The refusals the real models give for fields they do not take, so a client regression shows
 * up in tests as the failed request it would be in production (every one is a 400
 * `InvalidParameter` naming the field, as Ark answers). Facts: ../../../shared/seedream-api.md.
 */
type Refusal = ErrorScenario["error"];

const invalid = (param: string, message: string): Refusal => ({
  status: 400,
  code: "InvalidParameter",
  param,
  message,
});

const isPro = (model: string) => /seedream[-_]?5[-.]0[-_.]?pro/i.test(model);
const isFive = (model: string) => /seedream[-_]?5[-.]0/i.test(model);
const isLite = (model: string) => isFive(model) && !isPro(model);
const isFour = (model: string) => /seedream[-_]?4[-.][05]/i.test(model);
const isFourZero = (model: string) => /seedream[-_]?4[-.]0/i.test(model);

export function refusalFor(body: Record<string, unknown>): Refusal | undefined {
  const model = String(body.model);
  const has = (field: string) => Object.hasOwn(body, field);
  // 5.0 Pro: `stream` or `sequential_image_generation` in the body, even `false`/`disabled`, is a 400.
  if (isPro(model)) {
    if (has("stream")) return invalid("stream", "The parameter `stream` is not supported by this model.");
    if (has("sequential_image_generation")) {
      return invalid(
        "sequential_image_generation",
        "The parameter `sequential_image_generation` is not supported by this model.",
      );
    }
    const references = Array.isArray(body.image) ? body.image.length : body.image === undefined ? 0 : 1;
    if (references > 10) return invalid("image", "At most 10 reference images are supported.");
  }
  // output_format: the 5.0 family only; tools (web_search): 5.0 lite only.
  if (has("output_format") && !isFive(model)) {
    return invalid("output_format", "The parameter `output_format` is not supported by this model.");
  }
  if (has("tools") && !isLite(model)) {
    return invalid("tools", "The parameter `tools` is not supported by this model.");
  }
  // optimize_prompt_options.mode=fast: 4.0 and 5.0 Pro only.
  const mode = (body.optimize_prompt_options as { mode?: unknown } | undefined)?.mode;
  if (mode === "fast" && !isFourZero(model) && !isPro(model)) {
    return invalid("optimize_prompt_options.mode", "The value `fast` is not supported by this model.");
  }
  // seed and guidance_scale: 3.0 models only.
  if ((has("seed") || has("guidance_scale")) && (isFour(model) || isFive(model))) {
    return invalid(has("seed") ? "seed" : "guidance_scale", "The parameter is not supported by this model.");
  }
  return undefined;
}
