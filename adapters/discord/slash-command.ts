import {
  ApplicationCommandOptionType,
  type ChatInputCommandInteraction,
  type Attachment as DiscordAttachment,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";

/**
 * `/imagine prompt:<text> image1..image3:<attachment> n size model`. The options are turned
 * into the same command text a mention would carry, so the core parses one grammar; other
 * flags (`--ar 16:9`, `--seed 7`) can still be typed into the prompt.
 */

export const IMAGINE = "imagine";
export const IMAGE_OPTIONS = ["image1", "image2", "image3"] as const;

export const IMAGINE_COMMAND: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: IMAGINE,
  description: "Generate images with Seedream (attach images to edit or combine them)",
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: "prompt",
      description: "What to draw; flags such as --ar 16:9 work here too",
      required: true,
      max_length: 1800,
    },
    ...IMAGE_OPTIONS.map((name, i) => ({
      type: ApplicationCommandOptionType.Attachment as const,
      name,
      description: `Reference image ${i + 1}`,
    })),
    {
      type: ApplicationCommandOptionType.Integer,
      name: "n",
      description: "How many images (a group of related images when more than 1)",
      min_value: 1,
      max_value: 15,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: "size",
      description: "1K, 2K, 4K or WxH such as 2048x1152",
      max_length: 20,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: "model",
      description: "4.0, 4.5, 5.0 or a model id",
      max_length: 100,
    },
  ],
};

export interface ImagineInput {
  text: string;
  attachments: DiscordAttachment[];
}

export function imagineInput(interaction: ChatInputCommandInteraction): ImagineInput {
  const options = interaction.options;
  const parts = [options.getString("prompt", true).trim()];
  const n = options.getInteger("n");
  const size = options.getString("size")?.trim();
  const model = options.getString("model")?.trim();
  if (n !== null) parts.push(`--n ${n}`);
  if (size) parts.push(`--size ${size}`);
  if (model) parts.push(`--model ${model}`);
  const attachments = IMAGE_OPTIONS.flatMap((name) => {
    const attachment = options.getAttachment(name);
    return attachment ? [attachment] : [];
  });
  return { text: parts.join(" "), attachments };
}

/** `/usage`: today's and this month's images and estimated cost (team totals for admins). */
export const USAGE = "usage";

export const USAGE_COMMAND: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: USAGE,
  description: "Your images today and this month, with the estimated cost",
};

/** `/settings model size ar n watermark reset`: the same defaults as `@bot settings --flags`. */
export const SETTINGS = "settings";

export const SETTINGS_COMMAND: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: SETTINGS,
  description: "Show or save your defaults for /imagine and mentions (no options: show them)",
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: "model",
      description: "4.0, 4.5, 5.0 or a model id",
      max_length: 100,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: "size",
      description: "1K, 2K, 4K or WxH",
      max_length: 20,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: "ar",
      description: "Aspect ratio such as 16:9",
      max_length: 20,
    },
    {
      type: ApplicationCommandOptionType.Integer,
      name: "n",
      description: "How many images by default",
      min_value: 1,
      max_value: 15,
    },
    { type: ApplicationCommandOptionType.Boolean, name: "watermark", description: "Add the “AI生成” mark" },
    { type: ApplicationCommandOptionType.Boolean, name: "reset", description: "Clear your saved settings" },
  ],
};

/** The bot's commands, registered together. */
export const COMMANDS = [IMAGINE_COMMAND, USAGE_COMMAND, SETTINGS_COMMAND] as const;

/** `/usage` and `/settings` as the command text a mention would carry. */
export function commandText(interaction: ChatInputCommandInteraction): string | undefined {
  if (interaction.commandName === USAGE) return "usage";
  if (interaction.commandName !== SETTINGS) return undefined;
  const options = interaction.options;
  if (options.getBoolean("reset") === true) return "settings reset";
  const parts = ["settings"];
  const model = options.getString("model")?.trim();
  const size = options.getString("size")?.trim();
  const ar = options.getString("ar")?.trim();
  const n = options.getInteger("n");
  const watermark = options.getBoolean("watermark");
  if (model) parts.push(`--model ${model}`);
  if (size) parts.push(`--size ${size}`);
  if (ar) parts.push(`--ar ${ar}`);
  if (n !== null) parts.push(`--n ${n}`);
  if (watermark !== null) parts.push(watermark ? "--watermark" : "--no-watermark");
  return parts.join(" ");
}
