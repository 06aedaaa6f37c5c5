import { afterEach, describe, expect, it } from "vitest";
import { DiscordStartError, startDiscord } from "../../adapters/discord/index.js";
import { type BotRuntime, createRuntime } from "../../src/app.js";
import { parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { FakeDiscord, type FakeDiscordOptions, Intent } from "../fakes/discord.js";
import { nextEvent } from "../fakes/discord-client-events.js";
import { RecordingLog } from "../helpers/recording-log.js";
import { referenceBytes, sha256, solidPng, startDiscordHarness } from "./harness.js";

/** Start-up against a fake Discord, with the demo generator (no Seedream needed to log in). */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(env: Record<string, string>, fakeOptions: FakeDiscordOptions = {}) {
  const fake = await FakeDiscord.start(fakeOptions);
  cleanups.push(() => fake.close());
  const config = parseConfig({
    SEEDREAM_PROVIDER: "demo",
    STORE_URL: "memory://",
    DISCORD_TOKEN: fake.token,
    DISCORD_API_URL: fake.apiUrl,
    ...env,
  });
  const log = new RecordingLog();
  const logger = createLogger({
    format: "pretty",
    level: "debug",
    secrets: [config.discord?.token],
    write: log.write,
  });
  const runtime: BotRuntime = await createRuntime(config, { logger });
  cleanups.push(() => runtime.close());
  const discord = config.discord;
  if (!discord) throw new Error("no Discord config");
  const start = () =>
    startDiscord({ discord, handler: runtime.handler, store: runtime.store, logger }).then((handle) => {
      cleanups.push(() => handle.stop());
      return handle;
    });
  return { fake, log, start };
}

describe("startDiscord", () => {
  it("refuses a wrong token with a sentence naming DISCORD_TOKEN, never the token", async () => {
    const { start } = await setup({ DISCORD_TOKEN: "not-the-right-token-123456" });
    const error = await start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordStartError);
    expect((error as Error).message).toMatch(/^Discord refused DISCORD_TOKEN/);
    expect((error as Error).message).not.toContain("not-the-right-token");
  });

  it("explains a Message Content intent the portal does not allow", async () => {
    const { fake, start } = await setup(
      { DISCORD_MESSAGE_CONTENT: "true" },
      { messageContentAllowed: false },
    );
    const error = await start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordStartError);
    expect((error as Error).message).toMatch(/Message Content intent: enable it in the Developer Portal/);
    expect((await fake.gateway.identifies.waitFor()).intents & Intent.MessageContent).toBe(
      Intent.MessageContent,
    );
  });

  it("logs in without privileged intents by default, registers /imagine globally, and stops cleanly", async () => {
    const { fake, start } = await setup({});
    const handle = await start();
    const identify = await fake.waitForReady();
    expect(identify.intents).toBe(Intent.Guilds | Intent.GuildMessages | Intent.DirectMessages);
    expect((await fake.commands.registrations.waitFor()).scope).toBe("global");
    expect(handle.commandScope).toBe("global");
    expect([handle.botUserId, handle.applicationId]).toEqual([fake.bot.id, fake.applicationId]);
    expect(handle.healthy()).toBe(true);
    await handle.stop();
    expect(handle.healthy()).toBe(false);
  });
});

describe("the connection", () => {
  it("resumes after the gateway drops and keeps serving", async () => {
    const h = await startDiscordHarness();
    cleanups.push(() => h.close());
    const resumed = nextEvent(h.discord.client, "shardResume");
    h.fake.gateway.disconnect(4000);
    await resumed;
    expect(h.discord.healthy()).toBe(true);
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    const sent = await h.fake.sendMessageCreate({ content: h.mentionBot("after the storm") });
    const image = await h.fake.messages.waitFor((m) => m.replyTo === sent.id && m.uploads.length === 1);
    expect(sha256(image.uploads[0]?.bytes ?? Buffer.alloc(0))).toBe(sha256(await h.seedream.imageBytes(0)));
    expect(h.fake.gateway.identifies.count).toBe(1);
  });
});

describe("DISCORD_MESSAGE_CONTENT=true", () => {
  it("lets a mention that replies to someone else's image use that image", async () => {
    const h = await startDiscordHarness({ env: { DISCORD_MESSAGE_CONTENT: "true" } });
    cleanups.push(() => h.close());
    expect((await h.fake.waitForReady()).intents & Intent.MessageContent).toBe(Intent.MessageContent);
    const sketch = await solidPng("#f0c020");
    const file = h.fake.hostAttachment({ name: "sketch.png", contentType: "image/png", bytes: sketch });
    const bobs = await h.fake.sendMessageCreate({ author: "bob", content: "my sketch", attachments: [file] });
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    await h.fake.sendMessageCreate({
      content: h.mentionBot("colour it in"),
      replyTo: bobs.id,
      replyPing: false,
    });
    const request = await h.seedream.request(0);
    expect(referenceBytes(request.body).map(sha256)).toEqual([sha256(sketch)]);
    await h.fake.edits.waitFor((e) => /^Done/.test(e.content));
  });
});
