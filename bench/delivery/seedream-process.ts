/**
 * The fake Seedream server in a process of its own for the delivery bench: encoding hundreds of
 * 4K images as base64 SSE is the upstream's work, not the bot's, and must not be measured as
 * the bot's event-loop delay or the driver's. Images are real JPEGs (sharp), so the bot's
 * decode check does its real work.
 */
import sharp from "sharp";
import { startFakeSeedream } from "../../test/fakes/seedream-server.js";
import { answer } from "./ipc.js";

export type ImageTier = "2K" | "4K";

export interface StreamPlan {
  tier: ImageTier;
  /** Wait before each image, after the previous one (the model's generation time). */
  delaysMs: number[];
}

/** Noise, lightly blurred: a 4K JPEG of 3.5 MB and a 2K of 0.9 MB, about what photos weigh. */
async function photo(tier: ImageTier): Promise<Buffer> {
  const side = tier === "4K" ? 4096 : 2048;
  const noise = { type: "gaussian", mean: 128, sigma: 30 } as const;
  return sharp({ create: { width: side, height: side, channels: 3, background: "#808080", noise } })
    .blur(1)
    .jpeg({ quality: 85 })
    .toBuffer();
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
    fake.setScenario({ images: plan.delaysMs.map((delayMs) => ({ kind: "ok", delayMs, bytes })) });
    return { imageBytes: bytes.length };
  },
  log: () => ({
    sent: fake.log.filter((entry) => entry.event === "sent"),
    requests: fake.requests.map((request) => ({
      number: request.number,
      prompt: typeof request.body?.prompt === "string" ? request.body.prompt : "",
    })),
  }),
  close: async () => {
    await fake.close();
    setImmediate(() => process.exit(0));
  },
});

await Promise.all([photoOf("2K"), photoOf("4K")]);
process.send?.({ id: 0, type: "ready", payload: { url: fake.url } });
