import { afterAll, beforeAll, expect, it } from "vitest";
import { type DiscordFleet, type RunningBot, startDiscordFleet, WAIT } from "../durable/harness.js";
import { guildIdOnShard } from "../fakes/discord-gateway.js";
import { describeRedis, useRedis } from "../helpers/redis-server.js";

/**
 * Two real bot processes, one Discord shard each (DISCORD_SHARD_COUNT=2, DISCORD_SHARD_IDS=0 and
 * =1), on one Redis store. The fake gateway routes each guild to shard (guild_id >> 22) % 2, so a
 * mention in a guild is seen, and answered, only by the process holding that guild's shard.
 */

describeRedis("two Discord shards in two bot processes", () => {
  const redis = useRedis();
  let fleet: DiscordFleet;
  beforeAll(async () => {
    fleet = await startDiscordFleet({
      guilds: [
        { id: guildIdOnShard(0, 2), name: "Shard Zero", channels: ["general"] },
        { id: guildIdOnShard(1, 2), name: "Shard One", channels: ["general"] },
      ],
    });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it("a mention in each shard's guild is taken by the process holding that shard and answered once", {
    timeout: 90_000,
  }, async () => {
    const { discord, seedream } = fleet;
    seedream.setScenario({ images: [{ kind: "ok" }] });
    const env = (ids: string) => ({
      STORE_URL: redis.url(),
      DISCORD_SHARD_COUNT: "2",
      DISCORD_SHARD_IDS: ids,
    });
    const [zero, one] = await Promise.all([fleet.start(env("0")), fleet.start(env("1"))]);
    await zero.bot.waitForLog(/"shards":"0 of 2".*discord connected/);
    await one.bot.waitForLog(/"shards":"1 of 2".*discord connected/);
    expect(discord.gateway.identifies.all.map((i) => i.shard).sort()).toEqual([
      [0, 2],
      [1, 2],
    ]);
    // The process holding the guild's shard takes the mention and queues its run; any process
    // may then make it (the run queue is shared).
    const queued = (bot: RunningBot) => bot.bot.logs.filter((line) => /run queued/.test(line)).length;
    const runs = (bot: RunningBot) => bot.bot.logs.filter((line) => /run started/.test(line)).length;
    const [first, second] = discord.world.guilds as [
      (typeof discord.world.guilds)[number],
      (typeof discord.world.guilds)[number],
    ];

    const mentionIn = async (guild: typeof first, prompt: string) => {
      const sent = await discord.sendMessageCreate({
        content: `${discord.mention(discord.bot)} ${prompt}`,
        channelId: guild.channels[0]?.id,
      });
      await discord.messages.waitFor((m) => m.replyTo === sent.id && m.content === "1/1", WAIT);
      return sent;
    };
    const a = await mentionIn(first, "a lighthouse at dusk");
    expect([queued(zero), queued(one)]).toEqual([1, 0]);
    const b = await mentionIn(second, "a fox in the snow");
    expect([queued(zero), queued(one)]).toEqual([1, 1]);

    // Anything answered twice would have arrived by now: give it a moment, then count.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const images = (id: string) =>
      discord.messages.all.filter((m) => m.replyTo === id).flatMap((m) => m.uploads);
    expect(images(a.id)).toHaveLength(1);
    expect(images(b.id)).toHaveLength(1);
    expect(seedream.requests.map((r) => r.body?.prompt)).toEqual([
      "a lighthouse at dusk",
      "a fox in the snow",
    ]);
    expect([queued(zero), queued(one)]).toEqual([1, 1]);
    expect(runs(zero) + runs(one)).toBe(2);
  });
});
