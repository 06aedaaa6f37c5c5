/**
 * The fake Seedream server in a process of its own for the delivery bench: encoding hundreds of
 * 4K images as base64 SSE is the upstream's work, not the bot's, and must not be measured as
 * the bot's event-loop delay or the driver's. Images are real JPEGs (sharp), so the bot's
 * decode check does its real work.
 */
import { type GenerationScenario, startFakeSeedream } from "../../test/fakes/seedream-server.js";
import { answer } from "./ipc.js";
import { type ImageTier, photo } from "./photos.js";

export type { ImageTier } from "./photos.js";

export interface StreamPlan {
  tier: ImageTier;
  /** The model's time for each image (see the fake's `pacing`). */
  delaysMs: number[];
  /** Default `generation`: the model's clock runs on while an image is still being sent. */
  pacing?: GenerationScenario["pacing"];
}

const photos = new Map<ImageTier, Promise<Buffer>>();
const photoOf = (tier: ImageTier): Promise<Buffer> => {
  let found = photos.get(tier);
  if (!found) {
    found = photo(tier);
    photos.set(tier, found);
  }
  return found;
};

const fake = await startFakeSeedream();

answer({
  plan: async (payload) => {
    const plan = payload as StreamPlan;
    const bytes = await photoOf(plan.tier);
    fake.reset();
    fake.setScenario({
      images: plan.delaysMs.map((delayMs) => ({ kind: "ok", delayMs, bytes })),
      ...(plan.pacing ? { pacing: plan.pacing } : {}),
    });
    return { imageBytes: bytes.length };
  },
  log: () => ({
    sent: fake.log.filter((entry) => entry.event === "sent"),
    writing: fake.log.filter((entry) => entry.event === "writing"),
    requests: fake.requests.map((request) => ({
      number: request.number,
      prompt: typeof request.body?.prompt === "string" ? request.body.prompt : "",
      at: request.at,
    })),
  }),
  close: async () => {
    await fake.close();
    setImmediate(() => process.exit(0));
  },
});

await Promise.all([photoOf("2K"), photoOf("4K")]);
process.send?.({ id: 0, type: "ready", payload: { url: fake.url } });
