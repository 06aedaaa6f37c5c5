/**
 * The fake Discord against the REAL discord.js v14: login, cached guild channels, mentions with
 * attachments, replies with files, edits, typing, DMs, expired CDN links, permissions, resume and
 * a slash command with an attachment option.
 *
 * Load order is deliberate and is part of what this file proves: undici 7 (ours) and @slack/bolt
 * load BEFORE discord.js, as in the real bot when both adapters run. Whichever undici loads first
 * installs the process-wide dispatcher, and then discord.js's default REST path (undici 6
 * `request` + the global FormData) cannot upload files. Static imports would be re-sorted by the
 * formatter, hence the awaited dynamic imports.
 */
import { randomBytes } from "node:crypto";
import type { Client, ClientOptions } from "discord.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { discordRestRequest } from "../../adapters/discord/rest.js";
import { FakeDiscord, type FakeDiscordOptions, Intent } from "../fakes/discord.js";
import { nextEvent } from "../fakes/discord-client-events.js";

const undici = await import("undici");
await import("@slack/bolt");
const discord = await import("discord.js");
const { GatewayIntentBits, Partials, Events, PermissionFlagsBits, DiscordAPIError } = discord;

const INTENTS = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages];

async function login(fake: FakeDiscord, options: Partial<ClientOptions> = {}): Promise<Client> {
  const client = new discord.Client({
    intents: INTENTS,
    ...options,
    rest: { api: fake.apiUrl, ...options.rest },
  });
  const ready = nextEvent(client, Events.ClientReady);
  await client.login(fake.token);
  await ready;
  return client;
}

/** A fake and a logged-in client (with the upload fix) for one test, torn down after it. */
async function withFreshClient(
  fakeOptions: FakeDiscordOptions,
  clientOptions: Partial<ClientOptions>,
  run: (fake: FakeDiscord, client: Client) => Promise<void>,
): Promise<void> {
  const fake = await FakeDiscord.start(fakeOptions);
  const agent = new undici.Agent();
  const client = await login(fake, { ...clientOptions, rest: { makeRequest: discordRestRequest(agent) } });
  try {
    await run(fake, client);
  } finally {
    await client.destroy();
    await fake.close();
    await agent.close();
  }
}

const png = (size = 64) => Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), randomBytes(size)]);

describe("undici load order (why the adapter must set rest.makeRequest)", () => {
  let fake: FakeDiscord;
  const clients: Client[] = [];
  const agent = new undici.Agent();
  beforeAll(async () => {
    fake = await FakeDiscord.start();
  });
  afterAll(async () => {
    for (const c of clients) await c.destroy();
    await fake.close();
    await agent.close();
  });

  it("undici 7 owns the global dispatcher, so discord.js's default REST sends text but fails uploads", async () => {
    const globalDispatcher = (globalThis as Record<symbol, unknown>)[Symbol.for("undici.globalDispatcher.1")];
    expect(globalDispatcher).toBeInstanceOf(undici.Agent);
    const client = await login(fake);
    clients.push(client);
    const channel = await client.channels.fetch(fake.channel().id);
    if (!channel?.isSendable()) throw new Error("channel not sendable");
    await channel.send({ content: "text goes through" });
    expect((await fake.nextMessage()).content).toBe("text goes through");
    await expect(channel.send({ files: [{ attachment: png(), name: "a.png" }] })).rejects.toThrow(
      "action is not a function",
    );
    expect(fake.requests.all.filter((r) => r.files.length > 0)).toEqual([]);
  });

  it("with rest.makeRequest on our undici 7, uploads arrive byte for byte", async () => {
    const client = await login(fake, { rest: { makeRequest: discordRestRequest(agent) } });
    clients.push(client);
    const channel = await client.channels.fetch(fake.channel().id);
    if (!channel?.isSendable()) throw new Error("channel not sendable");
    const bytes = png(4096);
    await channel.send({
      content: "with a file",
      files: [{ attachment: bytes, name: "cat.png", description: "a cat" }],
    });
    const posted = await fake.messages.waitFor((m) => m.content === "with a file");
    expect(posted.uploads).toHaveLength(1);
    expect(posted.uploads[0]?.bytes.equals(bytes)).toBe(true);
    expect(posted.uploads[0]).toMatchObject({
      filename: "cat.png",
      description: "a cat",
      contentType: "image/png",
    });
  });
});

describe("fake Discord with the real discord.js client", () => {
  let fake: FakeDiscord;
  let client: Client;
  const agent = new undici.Agent();

  beforeAll(async () => {
    fake = await FakeDiscord.start({ heartbeatIntervalMs: 200 });
    client = await login(fake, {
      partials: [Partials.Channel],
      allowedMentions: { parse: [], repliedUser: false },
      rest: { makeRequest: discordRestRequest(agent) },
    });
  });
  afterAll(async () => {
    await client.destroy();
    await fake.close();
    await agent.close();
  });
  beforeEach(() => {
    // Each test walks only the output it caused.
    fake.messages.skipToEnd();
    fake.edits.skipToEnd();
  });

  it("logs in over JSON without compression, with the intents asked for, and caches guild channels", async () => {
    const identify = await fake.waitForReady();
    expect(identify.query).toEqual({ v: "10", encoding: "json" });
    expect(identify.intents).toBe(Intent.Guilds | Intent.GuildMessages | Intent.DirectMessages);
    expect(client.user?.id).toBe(fake.bot.id);
    expect(client.application?.id).toBe(fake.applicationId);
    expect(client.channels.cache.get(fake.channel("general").id)?.isTextBased()).toBe(true);
    const guild = client.guilds.cache.get(fake.guild.id);
    expect(guild?.members.me?.id).toBe(fake.bot.id);
    const alice = fake.user("alice").id;
    expect([...((await guild?.members.fetch({ user: [alice] }))?.keys() ?? [])]).toEqual([alice]);
    await fake.gateway.heartbeats.take(2);
    expect(fake.gateway.received.all.filter((p) => p.op === 1).length).toBeGreaterThanOrEqual(2);
    expect(fake.gateway.violations).toEqual([]);
  });

  it("delivers a mention with an attachment; the reply carries a file, alt text, reference and no pings", async () => {
    const bytes = png(2048);
    const attachment = fake.hostAttachment({
      name: "ref.png",
      contentType: "image/png",
      bytes,
      width: 8,
      height: 8,
    });
    const received = nextEvent(client, Events.MessageCreate, (m) => m.author.id !== fake.bot.id);
    const sent = await fake.sendMessageCreate({
      content: `${fake.mention(fake.bot)} paint @everyone ${fake.mention(fake.role("artists"))}`,
      attachments: [attachment],
    });
    const [message] = await received;
    expect(message.id).toBe(sent.id);
    expect(message.mentions.users.has(fake.bot.id)).toBe(true);
    expect(message.mentions.everyone).toBe(true);
    const got = message.attachments.first();
    expect(got).toMatchObject({ name: "ref.png", contentType: "image/png", width: 8, height: 8 });
    const download = await undici.fetch(got?.url ?? "", { dispatcher: agent });
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);

    const out = png(1024);
    await message.reply({
      content: `echo: ${message.content}`,
      files: [{ attachment: out, name: "out.png", description: "paint @everyone" }],
      allowedMentions: { parse: [] },
    });
    const reply = await fake.nextMessage();
    expect(reply.replyTo).toBe(sent.id);
    expect(reply.uploads[0]?.bytes.equals(out)).toBe(true);
    expect(reply.uploads[0]?.description).toBe("paint @everyone");
    expect(reply.content).toContain("@everyone");
    expect(reply.pings).toEqual({ users: [], roles: [], everyone: false });
  });

  it("resolves pings from allowed_mentions: the client default silences an echo, an explicit parse pings", async () => {
    const sent = await fake.sendMessageCreate({ content: `${fake.mention(fake.bot)} hi` });
    const channel = client.channels.cache.get(fake.channel().id);
    if (!channel?.isSendable()) throw new Error("channel not sendable");
    const content = `@everyone ${fake.mention(fake.role("artists"))}`;
    await channel.send({ content, reply: { messageReference: sent.id } });
    expect((await fake.nextMessage()).pings).toEqual({ users: [], roles: [], everyone: false });
    await channel.send({
      content,
      reply: { messageReference: sent.id },
      allowedMentions: { parse: ["everyone", "roles"], repliedUser: true },
    });
    expect((await fake.nextMessage()).pings).toEqual({
      users: [fake.user("alice").id],
      roles: [fake.role("artists").id],
      everyone: true,
    });
  });

  it("edits and typing reach the fake", async () => {
    const channel = client.channels.cache.get(fake.channel().id);
    if (!channel?.isSendable()) throw new Error("channel not sendable");
    const status = await channel.send({ content: "1/2 done…" });
    expect((await fake.nextMessage()).messageId).toBe(status.id);
    await channel.sendTyping();
    expect((await fake.typing.waitFor()).channelId).toBe(channel.id);
    await status.edit({ content: "2/2 done" });
    const edit = await fake.nextEdit();
    expect(edit).toMatchObject({ messageId: status.id, content: "2/2 done", kind: "edit" });
  });

  it("strips content of messages that do not mention the bot (no Message Content intent)", async () => {
    const received = nextEvent(client, Events.MessageCreate, (m) => m.author.id !== fake.bot.id);
    const attachment = fake.hostAttachment({ name: "x.png", contentType: "image/png", bytes: png() });
    await fake.sendMessageCreate({ content: "no mention here", attachments: [attachment] });
    const [message] = await received;
    expect(message.content).toBe("");
    expect(message.attachments.size).toBe(0);
  });

  it("delivers DMs with Partials.Channel, and a reply to the bot's image keeps the referenced message", async () => {
    const received = nextEvent(client, Events.MessageCreate, (m) => m.author.id !== fake.bot.id);
    await fake.sendMessageCreate({ dm: true, content: "draw a fox" });
    const [dm] = await received;
    expect(dm.channel.isDMBased()).toBe(true);
    expect(dm.content).toBe("draw a fox");

    const image = await dm.reply({
      files: [{ attachment: png(), name: "fox.png" }],
      allowedMentions: { parse: [] },
    });
    expect((await fake.nextMessage()).messageId).toBe(image.id);
    const replied = nextEvent(client, Events.MessageCreate, (m) => m.reference?.messageId === image.id);
    await fake.sendMessageCreate({ dm: true, content: "make it red", replyTo: image.id });
    const [reply] = await replied;
    const original = await reply.fetchReference();
    expect(original.attachments.first()?.name).toBe("fox.png");

    // How the adapter tells a user about a missing permission: POST /users/@me/channels, then a DM.
    await client.users.send(fake.user("bob").id, { content: "I need Attach Files in #art" });
    expect((await fake.nextMessage()).channelId).toBe(fake.dmChannelId("bob"));
  });

  it("refreshes an expired attachment link by fetching the message again", async () => {
    const bytes = png(512);
    const attachment = fake.hostAttachment({ name: "old.png", contentType: "image/png", bytes });
    const sent = await fake.sendMessageCreate({
      content: `${fake.mention(fake.bot)} x`,
      attachments: [attachment],
    });
    fake.expireAttachmentLinks(attachment.id);
    expect((await undici.fetch(attachment.url, { dispatcher: agent })).status).toBe(404);
    const channel = client.channels.cache.get(fake.channel().id);
    if (!channel?.isTextBased()) throw new Error("channel not text");
    const fresh = await channel.messages.fetch({ message: sent.id, force: true });
    const url = fresh.attachments.first()?.url ?? "";
    expect(url).not.toBe(attachment.url);
    const download = await undici.fetch(url, { dispatcher: agent });
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it("refuses an upload without Attach Files, consistently with the client's permission view", async () => {
    const channelId = fake.channel("art").id;
    const updated = nextEvent(client, Events.ChannelUpdate);
    await fake.setBotPermissions(channelId, { deny: ["AttachFiles"] });
    await updated;
    const channel = client.channels.cache.get(channelId);
    if (!channel?.isSendable() || channel.isDMBased())
      throw new Error("channel not a sendable guild channel");
    const perms = channel.permissionsFor(fake.bot.id);
    expect(perms?.has(PermissionFlagsBits.SendMessages)).toBe(true);
    expect(perms?.has(PermissionFlagsBits.AttachFiles)).toBe(false);
    const error = await channel
      .send({ files: [{ attachment: png(), name: "a.png" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect((error as InstanceType<typeof DiscordAPIError>).code).toBe(50013);
  });

  it("answers with Discord's errors: injected faults, 429 retried by the client, form and size limits", async () => {
    const channel = client.channels.cache.get(fake.channel().id);
    if (!channel?.isSendable()) throw new Error("channel not sendable");
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => "sent",
        (e: unknown) => (e instanceof DiscordAPIError ? e.code : String(e)),
      );
    const route = "POST /channels/:channelId/messages";
    fake.failNext(route, { status: 403, code: 50013, message: "Missing Permissions" });
    expect(await codeOf(channel.send({ content: "first" }))).toBe(50013);
    expect(await codeOf(channel.send({ content: "second" }))).toBe("sent");

    fake.failNext(route, { status: 429, retryAfter: 0.01 });
    expect(await codeOf(channel.send({ content: "after a rate limit" }))).toBe("sent");
    const statuses = fake.requests.all.filter((r) => r.route === route).map((r) => r.status);
    expect(statuses.slice(-2)).toEqual([429, 200]);

    const longAlt = { attachment: png(), name: "a.png", description: "x".repeat(1025) };
    expect(await codeOf(channel.send({ files: [longAlt] }))).toBe(50035);
    const huge = { attachment: Buffer.alloc(10 * 1024 * 1024 + 1), name: "big.png" };
    expect(await codeOf(channel.send({ files: [huge] }))).toBe(40005);
  });

  it("resumes after a gateway disconnect and keeps delivering", async () => {
    const resumed = nextEvent(client, Events.ShardResume);
    fake.gateway.disconnect(4000);
    await resumed;
    const received = nextEvent(
      client,
      Events.MessageCreate,
      (m) => m.content === `${fake.mention(fake.bot)} again`,
    );
    await fake.sendMessageCreate({ content: `${fake.mention(fake.bot)} again` });
    await received;
    expect(fake.gateway.identifies.count).toBe(1);
  });

  it("runs a slash command with an attachment: deferred, then a follow-up with a file, then editReply", async () => {
    await client.application?.commands.set(
      [
        {
          name: "imagine",
          description: "Generate images",
          options: [
            { name: "prompt", description: "What to draw", type: 3, required: true },
            { name: "image1", description: "Reference", type: 11 },
            { name: "n", description: "How many", type: 4 },
          ],
        },
      ],
      fake.guild.id,
    );
    expect((await fake.commands.registrations.waitFor()).scope).toBe(fake.guild.id);

    const bytes = png(300);
    const ref = fake.hostAttachment({ name: "ref.png", contentType: "image/png", bytes });
    const received = nextEvent(client, Events.InteractionCreate);
    const state = await fake.sendInteractionCreate({
      name: "imagine",
      options: { prompt: "a lighthouse", image1: ref, n: 2 },
    });
    const [interaction] = await received;
    if (!interaction.isChatInputCommand()) throw new Error("not a chat input command");
    expect(interaction.options.getString("prompt")).toBe("a lighthouse");
    expect(interaction.options.getInteger("n")).toBe(2);
    expect(interaction.options.getAttachment("image1")?.url).toBe(ref.url);

    await interaction.deferReply();
    expect(await fake.interactions.callbacks.waitFor()).toMatchObject({ interactionId: state.id, type: 5 });
    const out = png(700);
    await interaction.followUp({
      content: "1/2",
      files: [{ attachment: out, name: "1.png", description: "alt" }],
    });
    const followUp = await fake.nextMessage();
    expect(followUp).toMatchObject({ via: "interaction", interactionId: state.id, content: "1/2" });
    expect(followUp.uploads[0]?.bytes.equals(out)).toBe(true);
    await interaction.editReply({ content: "done: 2 images", allowedMentions: { parse: [] } });
    expect(await fake.nextEdit()).toMatchObject({ via: "interaction", content: "done: 2 images" });
    expect(fake.message(state.originalMessageId ?? "")?.flags ?? 0).toBe(0);
  });
});

describe("DMs without Partials.Channel", () => {
  it("are dropped by discord.js although the gateway delivered them", () =>
    withFreshClient({}, {}, async (fake, client) => {
      const raw = new Promise<{ t?: string; d: { content: string } }>((resolve) => {
        client.on(Events.Raw, (packet: { t?: string; d: { content: string } }) => {
          if (packet.t === "MESSAGE_CREATE") resolve(packet);
        });
      });
      const first = nextEvent(client, Events.MessageCreate);
      await fake.sendMessageCreate({ dm: true, content: "hello in DM" });
      await fake.sendMessageCreate({ content: `${fake.mention(fake.bot)} hello in guild` });
      expect((await raw).d.content).toBe("hello in DM");
      const [message] = await first;
      expect(message.content).toContain("hello in guild");
    }));
});

describe("interaction acknowledgement window", () => {
  it("answers 404 Unknown interaction to a callback that comes too late", () =>
    withFreshClient({ interactionDeadlineMs: -1 }, {}, async (fake, client) => {
      await client.application?.commands.set([{ name: "imagine", description: "Generate images" }]);
      const received = nextEvent(client, Events.InteractionCreate);
      await fake.sendInteractionCreate({ name: "imagine" });
      const [interaction] = await received;
      if (!interaction.isChatInputCommand()) throw new Error("not a chat input command");
      const error = await interaction.deferReply().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DiscordAPIError);
      expect((error as InstanceType<typeof DiscordAPIError>).code).toBe(10062);
      expect((await fake.interactions.callbacks.waitFor()).late).toBe(true);
    }));
});
