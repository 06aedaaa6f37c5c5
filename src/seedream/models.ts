/**
 * What each Seedream model accepts. Matched by id pattern, not exact id, because the same model
 * is spelled `doubao-seedream-4-5-251128` (Ark), `seedream-4-5-251128` (BytePlus) and
 * `doubao-seedream-4.5` (Modelverse), and new date suffixes appear without notice.
 */

export type ModelFamily =
  | "seedream-4.0"
  | "seedream-4.5"
  | "seedream-5.0-lite"
  | "seedream-3.0"
  | "seededit-3.0"
  | "unknown";

export type SizeTier = "1K" | "2K" | "3K" | "4K";

export interface ModelCapabilities {
  family: ModelFamily;
  /** "Seedream 4.5"; for unknown ids, the id itself. */
  name: string;
  /** Tiers accepted as `size`; empty when only pixel sizes are. */
  tiers: readonly SizeTier[];
  /** Whether `WIDTHxHEIGHT` sizes are accepted, and the pixel-count range for them (as the vendor words it). */
  pixelSizes: boolean;
  minPixels: PixelBound;
  maxPixels: PixelBound;
  /** Width/height ratio range for pixel sizes. */
  minAspect: number;
  maxAspect: number;
  /** Only `adaptive` (SeedEdit: output follows the reference). */
  adaptiveOnly: boolean;
  minReferences: number;
  maxReferences: number;
  /** Group generation (`sequential_image_generation: auto`). */
  group: boolean;
  stream: boolean;
  seed: boolean;
  guidanceScale: boolean;
  /** `optimize_prompt_options.mode = fast`. */
  fastMode: boolean;
  /** References plus generated images, per request. */
  maxTotalImages: number;
}

export interface PixelBound {
  width: number;
  height: number;
}

const ASPECT = { minAspect: 1 / 16, maxAspect: 16 } as const;
const px = (width: number, height: number): PixelBound => ({ width, height });

const SEEDREAM_4_0: Omit<ModelCapabilities, "name"> = {
  family: "seedream-4.0",
  tiers: ["1K", "2K", "4K"],
  pixelSizes: true,
  // The digest says 1280x720 while an early vendor page said 1024x1024: accept the lower bound.
  minPixels: px(1280, 720),
  maxPixels: px(4096, 4096),
  ...ASPECT,
  adaptiveOnly: false,
  minReferences: 0,
  maxReferences: 14,
  group: true,
  stream: true,
  seed: false,
  guidanceScale: false,
  fastMode: true,
  maxTotalImages: 15,
};

const TABLE: ReadonlyArray<{ pattern: RegExp; caps: ModelCapabilities }> = [
  {
    pattern: /seedream[-_]?4[-.]0/i,
    caps: { ...SEEDREAM_4_0, name: "Seedream 4.0" },
  },
  {
    pattern: /seedream[-_]?4[-.]5/i,
    caps: {
      ...SEEDREAM_4_0,
      family: "seedream-4.5",
      name: "Seedream 4.5",
      tiers: ["2K", "4K"],
      minPixels: px(2560, 1440),
      fastMode: false,
    },
  },
  {
    pattern: /seedream[-_]?5[-.]0/i,
    caps: {
      ...SEEDREAM_4_0,
      family: "seedream-5.0-lite",
      name: "Seedream 5.0 lite",
      tiers: ["2K", "3K", "4K"],
      minPixels: px(2560, 1440),
      fastMode: false,
    },
  },
  {
    pattern: /seedream[-_]?3[-.]0/i,
    caps: {
      family: "seedream-3.0",
      name: "Seedream 3.0",
      tiers: [],
      pixelSizes: true,
      minPixels: px(512, 512),
      maxPixels: px(2048, 2048),
      ...ASPECT,
      adaptiveOnly: false,
      minReferences: 0,
      maxReferences: 0,
      group: false,
      stream: false,
      seed: true,
      guidanceScale: true,
      fastMode: false,
      maxTotalImages: 1,
    },
  },
  {
    pattern: /seededit/i,
    caps: {
      family: "seededit-3.0",
      name: "SeedEdit 3.0",
      tiers: [],
      pixelSizes: false,
      minPixels: px(0, 0),
      maxPixels: px(6000, 6000),
      ...ASPECT,
      adaptiveOnly: true,
      minReferences: 1,
      maxReferences: 1,
      group: false,
      stream: false,
      seed: true,
      guidanceScale: true,
      fastMode: false,
      maxTotalImages: 2,
    },
  },
];

/**
 * Unknown ids (an Ark endpoint `ep-…`, a model released after this table) get the widest
 * envelope any Seedream model accepts: the API is the judge, we only stop the impossible.
 */
function unknownModel(id: string): ModelCapabilities {
  return {
    family: "unknown",
    name: id,
    tiers: ["1K", "2K", "3K", "4K"],
    pixelSizes: true,
    minPixels: px(512, 512),
    maxPixels: px(4096, 4096),
    ...ASPECT,
    adaptiveOnly: false,
    minReferences: 0,
    maxReferences: 14,
    group: true,
    stream: true,
    seed: true,
    guidanceScale: true,
    fastMode: true,
    maxTotalImages: 15,
  };
}

export function modelCapabilities(modelId: string): ModelCapabilities {
  // Endpoint ids say nothing about the model behind them, even if they happen to contain digits.
  if (/^ep-/i.test(modelId)) return unknownModel(modelId);
  const match = TABLE.find((entry) => entry.pattern.test(modelId));
  return match ? match.caps : unknownModel(modelId);
}

export function describeModel(modelId: string): string {
  return modelCapabilities(modelId).name;
}
