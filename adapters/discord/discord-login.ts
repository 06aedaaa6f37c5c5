import { type APIUser, type Client, Events, GatewayCloseCodes, Routes } from "discord.js";
import { DiscordStartError } from "./discord-errors.js";

/**
 * Logs in and waits for READY, turning each way this can fail into one sentence that names the
 * setting to fix. discord.js reports an unrecoverable gateway close (bad token, disallowed
 * intent) as a shard disconnect rather than a login rejection, so both are watched.
 */
export async function loginAndWait(client: Client, token: string, timeoutMs: number): Promise<Client<true>> {
  let cleanup = () => {};
  const failed = new Promise<never>((_, reject) => {
    const onDisconnect = (event: { code: number }) => reject(closeError(event.code));
    const timer = setTimeout(
      () =>
        reject(
          new DiscordStartError(
            "discord_ready_timeout",
            `Discord did not finish logging in within ${Math.round(timeoutMs / 1000)} s; check the network (and DISCORD_API_URL if set).`,
          ),
        ),
      timeoutMs,
    );
    client.on(Events.ShardDisconnect, onDisconnect);
    cleanup = () => {
      clearTimeout(timer);
      client.off(Events.ShardDisconnect, onDisconnect);
    };
  });
  const ready = new Promise<Client<true>>((resolve) => client.once(Events.ClientReady, resolve));
  try {
    const login = client.login(token).catch((error: unknown) => {
      throw loginError(error);
    });
    return await Promise.race([Promise.all([login, ready]).then(([, c]) => c), failed]);
  } finally {
    cleanup();
  }
}

/**
 * Checks the token over REST alone (GET /users/@me) and keeps it on the client's REST: for a
 * process that posts through REST and never opens the gateway.
 */
export async function verifyToken(client: Client, token: string): Promise<APIUser> {
  client.rest.setToken(token.replace(/^(Bot|Bearer)\s*/i, ""));
  try {
    return (await client.rest.get(Routes.user())) as APIUser;
  } catch (error) {
    if ((error as { status?: unknown }).status === 401) {
      throw new DiscordStartError("discord_auth", BAD_TOKEN, { cause: error });
    }
    throw new DiscordStartError(
      "discord_unreachable",
      "Could not reach Discord to check DISCORD_TOKEN; check the network (and DISCORD_API_URL if set).",
      { cause: error },
    );
  }
}

const BAD_TOKEN =
  "Discord refused DISCORD_TOKEN: copy the bot token from the Developer Portal (your app → Bot → Reset Token).";

function closeError(code: number): DiscordStartError {
  if (code === GatewayCloseCodes.AuthenticationFailed)
    return new DiscordStartError("discord_auth", BAD_TOKEN);
  if (code === GatewayCloseCodes.DisallowedIntents) {
    return new DiscordStartError(
      "discord_intents",
      "Discord refused the Message Content intent: enable it in the Developer Portal (your app → Bot → Privileged Gateway Intents), or unset DISCORD_MESSAGE_CONTENT.",
    );
  }
  return new DiscordStartError("discord_gateway", `Discord closed the gateway connection (code ${code}).`);
}

function loginError(error: unknown): DiscordStartError {
  const code = (error as { code?: unknown }).code;
  if (code === "TokenInvalid") return new DiscordStartError("discord_auth", BAD_TOKEN, { cause: error });
  return new DiscordStartError(
    "discord_unreachable",
    "Could not reach Discord to log in; check the network (and DISCORD_API_URL if set).",
    { cause: error },
  );
}
