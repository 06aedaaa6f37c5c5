/** The command syntax as users see it; shared by the parser's errors and the help text. */
export const USAGE =
  "Usage: <prompt> [--n 1-15] [--size 1K|2K|3K|4K|WxH] [--ar 16:9] [--model 4.0|4.5|5.0|<id>] [--seed N] [--watermark|--no-watermark] [--fast] — or `help`";

export const HELP_TEXT = [
  "Describe the image you want; attach images (or reply to one) to use them as references.",
  USAGE,
  "• `--n 4` asks for a group of up to 4 related images (at most 15, counting references).",
  "• `--size 2K` or `--size 2560x1440`; `--ar 16:9` picks the recommended size for that ratio.",
  "• `--model 4.0|4.5|5.0` or a model id; `--seed N` (Seedream 3.0 only); `--fast` (Seedream 4.0 only).",
  "• `--watermark` / `--no-watermark` adds or removes the “AI生成” mark.",
  "• Replying to a group of images? `#2` picks image 2 of it as the reference.",
  "• `cancel` stops your running or waiting request.",
].join("\n");
