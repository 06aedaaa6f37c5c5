import { Client, Events, GatewayIntentBits, Partials } from "discord.js";
import { Agent, type Dispatcher } from "undici";
import type { Handler } from "../../src/core/handler.js";
import type { PlatformHandle } from "../../src/core/ports.js";
import type { BotStore } from "../../src/core/store.js";
import type { Logger } from "../../src/logger.js";
import { EDIT_WITH_SEEDREAM_COMMAND } from "./discord-buttons.js";
import { discordErrorCode } from "./discord-errors.js";
import { cdnHostPolicy, describedAttachment, type FileDeps, storedImageAttachment } from "./discord-files.js";
import {
  EditTargets,
  type FollowUpDeps,
  isFollowUpInteraction,
  onFollowUpInteraction,
} from "./discord-follow-ups.js";
import { discordThread, type GestureDeps, onInteraction, onMessage, PLATFORM } from "./discord-gestures.js";
import { loginAndWait } from "./discord-login.js";
import { AddressedTarget } from "./reply-targets.js";
import { DEFAULT_DISCORD_API_URL, discordRestRequest } from "./rest.js";
import { COMMANDS } from "./slash-command.js";

/** The bot's token and gateway choices (the composition root maps the app config onto it). */
export interface DiscordSettings {
  token: string;
  apiUrl: string | undefined;
  /** Ask for the privileged Message Content intent (prompts without a mention prefix). */
  messageContent: boolean;
  /** Register `/imagine` in this guild only (instant updates) instead of globally. */
  guildId: string | undefined;
  /** Shards of the whole bot (default 1); Discord routes guild g to shard `(g >> 22) % shardCount`. */
  shardCount?: number;
  /** The shards this process connects (default all of `shardCount`). */
  shardIds?: readonly number[];
}

export const DISCORD_DEFAULTS = {
  /** Longest wait for the gateway's READY. */
  readyTimeoutMs: 60_000,
  /** How often the typing indicator is renewed during a run (it lasts ~10 s). */
  typingIntervalMs: 8_000,
  /** Connect timeout of the adapter's own undici dispatcher. */
  connectTimeoutMs: 30_000,
} as const satisfies Record<string, number>;

export interface StartDiscordOptions {
  discord: DiscordSettings;
  handler: Handler;
  store: BotStore;
  logger: Logger;
  /** undici 7 dispatcher for REST calls and attachment downloads; the adapter owns one when absent. */
  dispatcher?: Dispatcher;
  /** Longest wait for the gateway's READY (default `DISCORD_DEFAULTS`). */
  readyTimeoutMs?: number;
  /** How often the typing indicator is renewed during a run (default `DISCORD_DEFAULTS`). */
  typingIntervalMs?: number;
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
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({ connect: { timeout: DISCORD_DEFAULTS.connectTimeoutMs } });
  const dispatcher = options.dispatcher ?? (ownAgent as Agent);
  const apiUrl = discord.apiUrl ?? DEFAULT_DISCORD_API_URL;
  const intents = [
    GatewayIntentBits.Guilds,
    GatewayIntentBits.GuildMessages,
    GatewayIntentBits.DirectMessages,
  ];
  if (discord.messageContent) intents.push(GatewayIntentBits.MessageContent);

  const shardCount = discord.shardCount ?? 1;
  const shards = [...(discord.shardIds ?? Array.from({ length: shardCount }, (_, id) => id))];
  const client = new Client({
    intents,
    shards,
    shardCount,
    // DMs arrive for channels discord.js has not cached; without this they are dropped.
    partials: [Partials.Channel],
    // A default for anything that forgets: every send below also passes NO_PINGS explicitly.
    allowedMentions: { parse: [], repliedUser: false },
    failIfNotExists: false,
    rest: { api: apiUrl, makeRequest: discordRestRequest(dispatcher) },
  });
  // An 'error' event without a listener would throw and end the process.
  client.on(Events.Error, (error) => logger.error("discord client error", { error }));
  client.on(Events.ShardError, (error) => logger.warn("discord gateway connection error", { error }));
  client.on(Events.Warn, (message) => logger.warn(`discord: ${message}`));
  client.rest.on("rateLimited", (info) =>
    logger.debug("discord rate limit", { route: info.route, retryAfter: info.retryAfter }),
  );

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
    await client.destroy().catch(() => {});
    await ownAgent?.close().catch(() => {});
    throw error;
  }
  const botUserId = ready.user.id;
  const applicationId = ready.application.id;

  const files: FileDeps = {
    dispatcher,
    hosts: cdnHostPolicy(apiUrl),
    logger,
    fetchMessage: async ({ channelId, messageId }) => {
      const channel = await ready.channels.fetch(channelId);
      if (!channel?.isTextBased()) throw new Error(`channel ${channelId} has no messages`);
      return channel.messages.fetch({ message: messageId, force: true });
    },
  };
  const deps: GestureDeps = {
    client: ready,
    handler: options.handler,
    store: options.store,
    logger,
    files,
    typingIntervalMs: options.typingIntervalMs ?? DISCORD_DEFAULTS.typingIntervalMs,
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
    restorer: {
      platform: PLATFORM,
      thread: (address) => discordThread(deps, new AddressedTarget(ready, address, logger), undefined),
      attachment: (descriptor) => describedAttachment(descriptor, files),
      storedImage: (image) => storedImageAttachment(image, files),
    },
    healthy: () => down.size === 0 && !stopped && client.isReady(),
    idle: () => options.handler.idle(PLATFORM),
    async stop() {
      if (stopped) return;
      stopped = true;
      client.removeAllListeners(Events.MessageCreate);
      client.removeAllListeners(Events.InteractionCreate);
      // Runs still going are cancelled (their users see "Cancelled.") so the store can close.
      await options.handler.shutdown(PLATFORM);
      await client.destroy().catch((error: unknown) => logger.warn("closing discord failed", { error }));
      await ownAgent?.close().catch(() => {});
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
