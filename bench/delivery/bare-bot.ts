/**
 * The bare baseline: the shortest bot that does the same job as ours, written as most bots
 * are. A mention in Slack or Discord ("… --n 2 --size 4K") asks Seedream for a stream and posts
 * each image into the thread (Slack: `files.uploadV2`) or as a reply (Discord) as it arrives.
 * No status line, no typing indicator, no queue, no checks, no buttons, no records: every
 * figure the bench shows for it is the cost of delivery alone. eventsource-parser, JSON.parse
 * and Buffer.from decode each image, as a careful hand-written bot would.
 */
import bolt from "@slack/bolt";
import { Client, Events, GatewayIntentBits, Partials } from "discord.js";
import { createParser } from "eventsource-parser";
import { Agent, fetch } from "undici";
// The one piece borrowed from ours: Bolt's Web API client loads undici 7, whose global
// dispatcher breaks discord.js's undici 6 uploads ("action is not a function"); any bot with both
// libraries needs discord.js's requests routed through one undici (adapters/discord/rest.ts).
import { discordRestRequest } from "../../adapters/discord/rest.js";

const agent = new Agent();

export interface BareEnv {
  SEEDREAM_BASE_URL: string;
  SEEDREAM_API_KEY: string;
  SLACK_BOT_TOKEN: string;
  SLACK_SIGNING_SECRET: string;
  SLACK_API_URL: string;
  PORT: string;
  DISCORD_TOKEN: string;
  DISCORD_API_URL: string;
}

const MODEL = "doubao-seedream-4-5-251128";

/** `--n 2 --size 4K` out of the text; the rest is the prompt. */
function parse(text: string): { prompt: string; n: number; size: string } {
  const n = Number(/--n\s+(\d+)/.exec(text)?.[1] ?? 1);
  const size = /--size\s+(\S+)/.exec(text)?.[1] ?? "2K";
  const prompt = text
    .replace(/<@[^>]+>/g, "")
    .replace(/--\w+\s+\S+/g, "")
    .trim();
  return { prompt, n, size };
}

/** Each image of the stream, decoded, as soon as its event is complete. */
async function* generate(env: BareEnv, text: string): AsyncGenerator<Buffer> {
  const { prompt, n, size } = parse(text);
  const response = await fetch(`${env.SEEDREAM_BASE_URL}/images/generations`, {
    dispatcher: agent,
    method: "POST",
    headers: { authorization: `Bearer ${env.SEEDREAM_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: MODEL,
      prompt,
      size,
      stream: true,
      response_format: "b64_json",
      watermark: false,
      ...(n > 1
        ? { sequential_image_generation: "auto", sequential_image_generation_options: { max_images: n } }
        : {}),
    }),
  });
  if (!response.ok || !response.body) throw new Error(`Seedream answered HTTP ${response.status}`);
  const ready: Buffer[] = [];
  const parser = createParser({
    onEvent: (event) => {
      if (event.data === "[DONE]") return;
      const data = JSON.parse(event.data) as { b64_json?: string };
      if (data.b64_json) ready.push(Buffer.from(data.b64_json, "base64"));
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    while (ready.length > 0) yield ready.shift() as Buffer;
  }
}

export interface BareBot {
  stop(): Promise<void>;
}

export async function startBareBot(env: BareEnv): Promise<BareBot> {
  const app = new bolt.App({
    token: env.SLACK_BOT_TOKEN,
    signingSecret: env.SLACK_SIGNING_SECRET,
    clientOptions: { slackApiUrl: env.SLACK_API_URL },
    logLevel: bolt.LogLevel.ERROR,
  });
  app.event("app_mention", async ({ event, client }) => {
    let index = 0;
    try {
      for await (const image of generate(env, event.text)) {
        index += 1;
        await client.files.uploadV2({
          channel_id: event.channel,
          thread_ts: event.thread_ts ?? event.ts,
          file: image,
          filename: `seedream-${index}.jpg`,
        });
      }
    } catch (error) {
      await client.chat.postMessage({
        channel: event.channel,
        thread_ts: event.ts,
        text: `Sorry: ${String(error)}`,
      });
    }
  });
  await app.start(Number(env.PORT));

  const discord = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages],
    partials: [Partials.Channel],
    allowedMentions: { parse: [], repliedUser: false },
    rest: { api: env.DISCORD_API_URL, makeRequest: discordRestRequest(agent) },
  });
  discord.on(Events.MessageCreate, async (message) => {
    if (message.author.bot || !discord.user || !message.mentions.users.has(discord.user.id)) return;
    let index = 0;
    try {
      for await (const image of generate(env, message.content)) {
        index += 1;
        await message.reply({ files: [{ attachment: image, name: `seedream-${index}.jpg` }] });
      }
    } catch (error) {
      await message.reply(`Sorry: ${String(error)}`).catch(() => {});
    }
  });
  const ready = new Promise<void>((resolve) => discord.once(Events.ClientReady, () => resolve()));
  await discord.login(env.DISCORD_TOKEN);
  await ready;

  return {
    async stop() {
      await discord.destroy();
      await app.stop();
    },
  };
}
