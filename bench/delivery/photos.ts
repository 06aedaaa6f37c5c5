import sharp from "sharp";

export type ImageTier = "2K" | "4K";

/** Noise, lightly blurred: a 4K JPEG of 3.5 MB and a 2K of 0.9 MB, about what photos weigh. */
export async function photo(tier: ImageTier): Promise<Buffer> {
  const side = tier === "4K" ? 4096 : 2048;
  const noise = { type: "gaussian", mean: 128, sigma: 30 } as const;
  return sharp({ create: { width: side, height: side, channels: 3, background: "#808080", noise } })
    .blur(1)
    .jpeg({ quality: 85 })
    .toBuffer();
}
