import { Client, type ClientOptions, Events } from "discord.js";
import { Agent, type Dispatcher } from "undici";
import type { PlatformHandle, PlatformRestorer } from "../../src/core/ports.js";
import type { Logger } from "../../src/logger.js";
import { cdnHostPolicy, describedAttachment, type FileDeps, storedImageAttachment } from "./discord-files.js";
import { discordThread, PLATFORM } from "./discord-gestures.js";
import { verifyToken } from "./discord-login.js";
import { AddressedTarget } from "./reply-targets.js";
import { DEFAULT_DISCORD_API_URL, discordRestRequest, leanUploads } from "./rest.js";

/**
 * The REST side of the adapter, on its own: a discord.js client whose calls go through our
 * undici (rest.ts), the file downloads, and the output threads rebuilt from recorded addresses.
 * `startDiscord` logs that client in over the gateway; a worker (BOT_ROLE=worker) never does: it
 * only sets the token on the client's REST and posts runs into channels a gateway recorded.
 */

export const DISCORD_DEFAULTS = {
  /** Longest wait for the gateway's READY. */
  readyTimeoutMs: 60_000,
  /** How often the typing indicator is renewed during a run (it lasts ~10 s). */
  typingIntervalMs: 8_000,
  /** Connect timeout of the adapter's own undici dispatcher. */
  connectTimeoutMs: 30_000,
} as const satisfies Record<string, number>;

/** What REST needs of the Discord settings. */
export interface DiscordRestSettings {
  token: string;
  apiUrl: string | undefined;
}

export interface DiscordRestSetup {
  discord: DiscordRestSettings;
  logger: Logger;
  /** undici 7 dispatcher for REST calls and attachment downloads; the adapter owns one when absent. */
  dispatcher?: Dispatcher;
  /** How often the typing indicator is renewed during a run (default `DISCORD_DEFAULTS`). */
  typingIntervalMs?: number;
}

export interface DiscordRestKit {
  client: Client;
  dispatcher: Dispatcher;
  files: FileDeps;
  /** Whether Discord's last answer to a call with the bot token refused it (401). */
  tokenRefused(): boolean;
  /** What output threads need (the typing interval with its default applied). */
  threads: { logger: Logger; typingIntervalMs: number };
  restorer: PlatformRestorer;
  /** Destroys the client (and its gateway connection, if it was logged in) and the own dispatcher. */
  close(): Promise<void>;
}

/**
 * The client, its files and restorer. `gateway` adds what a logged-in client needs (intents,
 * shards, partials); without it the client has no intents and is never meant to log in.
 */
export function discordRestKit(
  setup: DiscordRestSetup,
  gateway: Partial<ClientOptions> = {},
): DiscordRestKit {
  const { logger } = setup;
  const ownAgent = setup.dispatcher
    ? undefined
    : new Agent({ connect: { timeout: DISCORD_DEFAULTS.connectTimeoutMs } });
  const dispatcher = setup.dispatcher ?? (ownAgent as Agent);
  const apiUrl = setup.discord.apiUrl ?? DEFAULT_DISCORD_API_URL;
  const request = discordRestRequest(dispatcher);
  const token = { refused: false };
  // A 401 to a call made with the bot token: the token stopped working (reset in the portal).
  // discord.js then drops it, so every later call fails until a restart with a working one.
  // Webhook calls carry no token, so their answers say nothing about it.
  const makeRequest: typeof request = async (url, init) => {
    const response = await request(url, init);
    const authed = new Headers(init.headers as Record<string, string> | undefined).has("authorization");
    if (authed && response.status === 401 && !token.refused) {
      logger.error("Discord refused DISCORD_TOKEN: set the bot's current token and restart");
    }
    if (authed) token.refused = response.status === 401;
    return response;
  };
  const client = new Client({
    intents: [],
    ...gateway,
    // A default for anything that forgets: every send also passes NO_PINGS explicitly.
    allowedMentions: { parse: [], repliedUser: false },
    failIfNotExists: false,
    rest: { api: apiUrl, makeRequest },
  });
  // Images go to the socket from their own Buffers (no Blob, no copy): see rest.ts.
  leanUploads(client.rest);
  // An 'error' event without a listener would throw and end the process.
  client.on(Events.Error, (error) => logger.error("discord client error", { error }));
  client.on(Events.Warn, (message) => logger.warn(`discord: ${message}`));
  client.rest.on("rateLimited", (info) =>
    logger.debug("discord rate limit", { route: info.route, retryAfter: info.retryAfter }),
  );
  const files: FileDeps = {
    dispatcher,
    hosts: cdnHostPolicy(apiUrl),
    logger,
    fetchMessage: async ({ channelId, messageId }) => {
      const channel = await client.channels.fetch(channelId, { allowUnknownGuild: true });
      if (!channel?.isTextBased()) throw new Error(`channel ${channelId} has no messages`);
      return channel.messages.fetch({ message: messageId, force: true });
    },
  };
  const threads = { logger, typingIntervalMs: setup.typingIntervalMs ?? DISCORD_DEFAULTS.typingIntervalMs };
  return {
    client,
    dispatcher,
    files,
    threads,
    tokenRefused: () => token.refused,
    restorer: {
      platform: PLATFORM,
      thread: (address) => discordThread(threads, new AddressedTarget(client, address, logger), undefined),
      attachment: (descriptor) => describedAttachment(descriptor, files),
      storedImage: (image) => storedImageAttachment(image, files),
    },
    async close() {
      await client.destroy().catch((error: unknown) => logger.warn("closing discord failed", { error }));
      await ownAgent?.close().catch(() => {});
    },
  };
}

export interface DiscordRestorerHandle extends PlatformHandle {
  restorer: PlatformRestorer;
  botUserId: string;
}

/**
 * Discord for a worker: REST only, no gateway login (no shard, no IDENTIFY), posting into the
 * channels a gateway recorded: messages, uploads, status edits and typing are all REST calls.
 * The token is checked once (GET /users/@me); healthy from then until stopped, except while
 * Discord refuses the token.
 */
export async function startDiscordRestorer(setup: DiscordRestSetup): Promise<DiscordRestorerHandle> {
  const kit = discordRestKit(setup);
  let me: Awaited<ReturnType<typeof verifyToken>>;
  try {
    me = await verifyToken(kit.client, setup.discord.token);
  } catch (error) {
    await kit.close();
    throw error;
  }
  setup.logger.info(`discord rest ready as ${me.username} (no gateway)`);
  let stopped = false;
  return {
    name: PLATFORM,
    botUserId: me.id,
    restorer: kit.restorer,
    // Ready while Discord takes the token: a reset one turns /readyz to 503.
    healthy: () => !stopped && !kit.tokenRefused(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await kit.close();
    },
  };
}
