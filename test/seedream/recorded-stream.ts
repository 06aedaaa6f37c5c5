import { type SseFormat, sseComment, sseDone, sseFrame } from "../fakes/seedream-wire.js";

/**
 * A Seedream stream as the API writes it: a success, a moderation failure with a Chinese
 * message (multi-byte UTF-8 to split), an unknown event type, a success arriving out of order
 * with a `×` size, then `completed` and `[DONE]`.
 */
export const IMAGE_A = Buffer.from("first image bytes \u00ff\u0000\u0001 ".repeat(40), "latin1");
export const IMAGE_B = Buffer.from("second image, different bytes ".repeat(30), "latin1");

export function recordedStream(format: SseFormat = "lf", options: { omitTypeField?: boolean } = {}): string {
  const base = { model: "doubao-seedream-4-5-251128", created: 1757321139 };
  const frame = (payload: Record<string, unknown>) => sseFrame(payload, { format, ...options });
  return [
    sseComment("keep-alive", format),
    frame({
      type: "image_generation.partial_succeeded",
      ...base,
      image_index: 0,
      b64_json: IMAGE_A.toString("base64"),
      size: "2048x2048",
    }),
    frame({
      type: "image_generation.partial_failed",
      ...base,
      image_index: 2,
      error: {
        code: "OutputImageSensitiveContentDetected",
        message: "输出图片可能包含敏感信息 Request id: 0217abc",
      },
    }),
    frame({ type: "image_generation.partial_image", ...base, image_index: 1, partial_image_index: 0 }),
    frame({
      type: "image_generation.partial_succeeded",
      ...base,
      image_index: 1,
      b64_json: IMAGE_B.toString("base64"),
      size: "2304×1728",
    }),
    frame({
      type: "image_generation.completed",
      ...base,
      usage: { generated_images: 2, output_tokens: 31936, total_tokens: 31936 },
    }),
    sseDone(format),
  ].join("");
}
