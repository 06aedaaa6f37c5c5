import type { ModelOffer } from "../seedream/types.js";

/** The command syntax as users see it; shared by the parser's errors and the help text. */
export const USAGE =
  "Usage: <prompt> [--n 1-15] [--size 1K|2K|3K|4K|WxH] [--ar 16:9] [--model 4.0|4.5|5.0|5.0-pro|<id>] [--seed N] [--watermark|--no-watermark] [--fast] [--format png|jpeg] [--web] — or `help`";

const HELP_LINES = [
  "Describe the image you want; attach images (or reply to one) to use them as references.",
  USAGE,
  "• `--n 4` asks for a group of up to 4 related images (at most 15, counting references).",
  "• `--size 2K` or `--size 2560x1440`; `--ar 16:9` picks the model's own size for that ratio.",
  "• `--seed N` (Seedream 3.0 only); `--fast`, `--format png|jpeg` and `--web` where the model has them (below).",
  "• `--watermark` / `--no-watermark` adds or removes the “AI生成” mark.",
  "• Replying to a group of images? `#2` picks image 2 of it as the reference.",
  "• `cancel` stops your running or waiting request.",
  "• `usage` shows your images today and this month, with the estimated cost.",
  "• `settings --model 4.0 --size 2K --n 2 --no-watermark` saves your defaults (flags you type still win); `settings` shows them, `settings reset` clears them.",
];

/** The help text; `models` are the versions this bot's provider serves, with what each supports. */
export function helpText(models: readonly ModelOffer[] = []): string {
  if (models.length === 0)
    return [...HELP_LINES, "• `--model 4.0|4.5|5.0|5.0-pro` or a model id."].join("\n");
  return [...HELP_LINES, "Models (`--model …`):", ...models.map(modelLine)].join("\n");
}

function modelLine({ alias, caps }: ModelOffer): string {
  const sizes = [...caps.tiers, ...(caps.pixelSizes ? ["WxH"] : [])];
  const extras = [
    caps.fastMode ? "--fast" : undefined,
    caps.outputFormats.length > 0 ? "--format" : undefined,
    caps.webSearch ? "--web" : undefined,
    caps.seed ? "--seed" : undefined,
  ].filter((extra) => extra !== undefined);
  const references =
    caps.maxReferences === 0
      ? "no references"
      : caps.minReferences === caps.maxReferences
        ? `exactly ${caps.maxReferences} reference`
        : `up to ${caps.maxReferences} references`;
  const parts = [
    sizes.length > 0 ? `sizes ${sizes.join(", ")}` : "size follows the reference",
    references,
    caps.group ? "groups" : "one request per image",
    ...(extras.length > 0 ? [extras.join(", ")] : []),
  ];
  return `• \`${alias}\` ${caps.name}: ${parts.join("; ")}`;
}
