/**
 * The fake gateway's sharding against the REAL discord.js: two clients, each with one of two
 * shards (`shards: [n], shardCount: 2`), see only the guilds Discord routes to their shard,
 * `(guild_id >> 22) % 2`, and only those guilds' messages and interactions; DMs go to shard 0.
 * Load order as in discord.test.ts: undici 7 and Bolt before discord.js.
 */
import type { Client, ClientOptions, Interaction, Message } from "discord.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { discordRestRequest } from "../../adapters/discord/rest.js";
import { FakeDiscord } from "../fakes/discord.js";
import { nextEvent } from "../fakes/discord-client-events.js";
import { guildIdOnShard, shardOf } from "../fakes/discord-gateway.js";

const undici = await import("undici");
await import("@slack/bolt");
const discord = await import("discord.js");
const { GatewayIntentBits, Partials, Events } = discord;

let fake: FakeDiscord;
const agent = new undici.Agent();
const clients: Client[] = [];
const seen = new Map<Client, string[]>();

async function login(options: Partial<ClientOptions>): Promise<Client> {
  const client = new discord.Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.DirectMessages,
      GatewayIntentBits.MessageContent,
    ],
    partials: [Partials.Channel],
    rest: { api: fake.apiUrl, makeRequest: discordRestRequest(agent) },
    ...options,
  });
  clients.push(client);
  const events: string[] = [];
  seen.set(client, events);
  client.on(Events.MessageCreate, (m: Message) => events.push(`message ${m.content}`));
  client.on(Events.InteractionCreate, (i: Interaction) => events.push(`interaction ${i.guildId}`));
  const ready = nextEvent(client, Events.ClientReady);
  await client.login(fake.token);
  await ready;
  return client;
}

beforeAll(async () => {
  fake = await FakeDiscord.start({
    guilds: [
      { id: guildIdOnShard(0, 2), name: "Even", channels: ["general"] },
      { id: guildIdOnShard(1, 2), name: "Odd", channels: ["general"] },
    ],
  });
});
afterAll(async () => {
  for (const client of clients) await client.destroy();
  await fake?.close();
  await agent.close();
});

it("routes each guild, its messages and interactions to the shard (guild_id >> 22) % count, DMs to shard 0", async () => {
  const [even, odd] = fake.world.guilds.map((g) => g.id) as [string, string];
  expect([shardOf(even, 2), shardOf(odd, 2)]).toEqual([0, 1]);
  const zero = await login({ shards: [0], shardCount: 2 });
  const one = await login({ shards: [1], shardCount: 2 });
  expect(fake.gateway.identifies.all.map((i) => i.shard)).toEqual([
    [0, 2],
    [1, 2],
  ]);
  expect(fake.gateway.liveShards()).toEqual([0, 1]);
  // READY and GUILD_CREATE name only the shard's own guilds, so each client caches only those.
  expect([...zero.guilds.cache.keys()]).toEqual([even]);
  expect([...one.guilds.cache.keys()]).toEqual([odd]);

  const channel = (guildId: string) => fake.world.guilds.find((g) => g.id === guildId)?.channels[0]?.id;
  await fake.sendMessageCreate({ content: "in even", channelId: channel(even) });
  await fake.sendMessageCreate({ content: "in odd", channelId: channel(odd) });
  await fake.sendMessageCreate({ content: "a dm", dm: true });
  await zero.application?.commands.create({ name: "ping", description: "ping" });
  await fake.sendInteractionCreate({ name: "ping", channelId: channel(odd) });
  await fake.sendInteractionCreate({ name: "ping", channelId: channel(even) });
  await expect.poll(() => seen.get(zero)?.length ?? 0).toBe(3);
  await expect.poll(() => seen.get(one)?.length ?? 0).toBe(2);
  expect(seen.get(zero)).toEqual(["message in even", "message a dm", `interaction ${even}`]);
  expect(seen.get(one)).toEqual(["message in odd", `interaction ${odd}`]);
  expect(fake.gateway.dispatched.all.filter((d) => d.t === "GUILD_CREATE").map((d) => d.shard)).toEqual([
    0, 1,
  ]);
});

it("a guild's events wait for its shard: none reach another shard while it is away", async () => {
  const [, odd] = fake.world.guilds.map((g) => g.id) as [string, string];
  const [zero, one] = clients as [Client, Client];
  const before = seen.get(zero)?.length ?? 0;
  await one.destroy();
  await expect.poll(() => fake.gateway.liveShards()).toEqual([0]);
  const channelId = fake.world.guilds.find((g) => g.id === odd)?.channels[0]?.id;
  let sent = false;
  void fake.sendMessageCreate({ content: "while away", channelId }).then(() => {
    sent = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(sent).toBe(false);
  expect(seen.get(zero)).toHaveLength(before);

  const back = await login({ shards: [1], shardCount: 2 });
  await expect.poll(() => seen.get(back)).toEqual(["message while away"]);
  expect(sent).toBe(true);
  expect(seen.get(zero)).toHaveLength(before);
});

it("an Identify with a shard id outside its count is closed with 4010 Invalid shard", async () => {
  const { WebSocket } = await import("ws");
  const ws = new WebSocket(`${fake.gatewayUrl}/?v=10&encoding=json`);
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  ws.on("message", () =>
    ws.send(JSON.stringify({ op: 2, d: { token: fake.token, intents: 1, properties: {}, shard: [2, 2] } })),
  );
  expect(await closed).toBe(4010);
});
