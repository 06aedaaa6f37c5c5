import { type Client, Events, GatewayIntentBits, Partials } from "discord.js";
import type { Handler } from "../../src/core/handler.js";
import type { PlatformHandle } from "../../src/core/ports.js";
import type { BotStore } from "../../src/core/store.js";
import type { Logger } from "../../src/logger.js";
import { EDIT_WITH_SEEDREAM_COMMAND } from "./discord-buttons.js";
import { discordErrorCode } from "./discord-errors.js";
import {
  EditTargets,
  type FollowUpDeps,
  isFollowUpInteraction,
  onFollowUpInteraction,
} from "./discord-follow-ups.js";
import { type GestureDeps, onInteraction, onMessage, PLATFORM } from "./discord-gestures.js";
import { loginAndWait } from "./discord-login.js";
import {
  DISCORD_DEFAULTS,
  type DiscordRestSettings,
  type DiscordRestSetup,
  discordRestKit,
} from "./discord-restorer.js";
import { COMMANDS } from "./slash-command.js";

export { DISCORD_DEFAULTS };

/** The bot's token and gateway choices (the composition root maps the app config onto it). */
export interface DiscordSettings extends DiscordRestSettings {
  /** Ask for the privileged Message Content intent (prompts without a mention prefix). */
  messageContent: boolean;
  /** Register `/imagine` in this guild only (instant updates) instead of globally. */
  guildId: string | undefined;
  /** Shards of the whole bot (default 1); Discord routes guild g to shard `(g >> 22) % shardCount`. */
  shardCount?: number;
  /** The shards this process connects (default all of `shardCount`). */
  shardIds?: readonly number[];
}

export interface StartDiscordOptions extends DiscordRestSetup {
  discord: DiscordSettings;
  handler: Handler;
  store: BotStore;
  /** Longest wait for the gateway's READY (default `DISCORD_DEFAULTS`). */
  readyTimeoutMs?: number;
}

export interface DiscordHandle extends PlatformHandle {
  /** The logged-in discord.js client (tests drive and inspect it). */
  client: Client<true>;
  botUserId: string;
  applicationId: string;
  /** `global` or the guild id the slash command was registered to; undefined if that failed. */
  commandScope: string | undefined;
  /** Resolves once every request received so far has been answered. */
  idle(): Promise<void>;
}

/**
 * Starts the Discord side: logs in over the gateway (intents without Message Content unless
 * DISCORD_MESSAGE_CONTENT), registers `/imagine`, and serves mentions, DMs, replies and the
 * command. Errors inside a request never reach the event loop: the client stays connected.
 */
export async function startDiscord(options: StartDiscordOptions): Promise<DiscordHandle> {
  const { discord, logger } = options;
  const intents = [
    GatewayIntentBits.Guilds,
    GatewayIntentBits.GuildMessages,
    GatewayIntentBits.DirectMessages,
  ];
  if (discord.messageContent) intents.push(GatewayIntentBits.MessageContent);

  const shardCount = discord.shardCount ?? 1;
  const shards = [...(discord.shardIds ?? Array.from({ length: shardCount }, (_, id) => id))];
  const kit = discordRestKit(options, {
    intents,
    shards,
    shardCount,
    // DMs arrive for channels discord.js has not cached; without this they are dropped.
    partials: [Partials.Channel],
  });
  const { client, files } = kit;
  client.on(Events.ShardError, (error) => logger.warn("discord gateway connection error", { error }));

  // Shards that are reconnecting or closed for good; healthy only while every shard is up.
  const down = new Set<number>();
  client.on(Events.ShardReady, (shard) => down.delete(shard));
  client.on(Events.ShardResume, (shard) => down.delete(shard));
  client.on(Events.ShardReconnecting, (shard) => down.add(shard));
  client.on(Events.ShardDisconnect, (event, shard) => {
    down.add(shard);
    logger.error("discord gateway closed for good", { code: event.code, shard });
  });

  let ready: Client<true>;
  try {
    ready = await loginAndWait(
      client,
      discord.token,
      options.readyTimeoutMs ?? DISCORD_DEFAULTS.readyTimeoutMs,
    );
  } catch (error) {
    await kit.close();
    throw error;
  }
  const botUserId = ready.user.id;
  const applicationId = ready.application.id;

  const deps: GestureDeps = {
    client: ready,
    handler: options.handler,
    store: options.store,
    logger,
    files,
    typingIntervalMs: kit.threads.typingIntervalMs,
  };
  const settle = (what: string, task: Promise<void>) =>
    void task.catch((error: unknown) => logger.error(`discord ${what} failed`, { error }));
  client.on(Events.MessageCreate, (message) => settle("message", onMessage(deps, message)));
  const followUps: FollowUpDeps = { ...deps, editTargets: new EditTargets() };
  client.on(Events.InteractionCreate, (interaction) =>
    settle(
      "interaction",
      isFollowUpInteraction(interaction)
        ? onFollowUpInteraction(followUps, interaction)
        : onInteraction(deps, interaction),
    ),
  );
  // After the listeners, so no message arriving meanwhile is missed.
  const commandScope = await registerCommand(ready, discord.guildId, logger);
  logger.info(`discord connected as ${ready.user.tag}`, {
    applicationId,
    messageContent: discord.messageContent,
    commandScope,
    shards: `${shards.join(",")} of ${shardCount}`,
  });

  let stopped = false;
  return {
    name: PLATFORM,
    client: ready,
    botUserId,
    applicationId,
    commandScope,
    restorer: kit.restorer,
    healthy: () => down.size === 0 && !stopped && client.isReady(),
    idle: () => options.handler.idle(PLATFORM),
    async stop() {
      if (stopped) return;
      stopped = true;
      client.removeAllListeners(Events.MessageCreate);
      client.removeAllListeners(Events.InteractionCreate);
      // Runs still going are cancelled (their users see "Cancelled.") so the store can close.
      await options.handler.shutdown(PLATFORM);
      await kit.close();
    },
  };
}

/** Registers `/imagine` (to one guild for instant updates, else globally); a failure is logged, not fatal. */
async function registerCommand(
  client: Client<true>,
  guildId: string | undefined,
  logger: Logger,
): Promise<string | undefined> {
  try {
    // "Edit with Seedream" (a message context-menu command) is registered next to /imagine.
    const commands = [...COMMANDS, EDIT_WITH_SEEDREAM_COMMAND];
    if (guildId) await client.application.commands.set(commands, guildId);
    else await client.application.commands.set(commands);
    return guildId ?? "global";
  } catch (error) {
    logger.error(
      guildId
        ? `could not register /imagine in guild ${guildId}: is the bot in that server (DISCORD_GUILD_ID), invited with the applications.commands scope?`
        : "could not register /imagine globally: was the bot invited with the applications.commands scope?",
      { code: discordErrorCode(error), error },
    );
    return undefined;
  }
}
