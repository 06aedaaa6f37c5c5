import { parseArgs } from "node:util";
import { PermissionFlagsBits } from "discord.js";
import { fetch as undiciFetch } from "undici";
import { DEFAULT_DISCORD_API_URL } from "./rest.js";

/**
 * `seedream-bot discord-invite`: the OAuth2 URL that adds the bot to a server with exactly the
 * scopes and permissions it uses. No Embed Links: the bot posts files and plain text only.
 */

export const INVITE_SCOPES = ["bot", "applications.commands"] as const;

export const INVITE_PERMISSIONS = [
  ["View Channel", PermissionFlagsBits.ViewChannel],
  ["Send Messages", PermissionFlagsBits.SendMessages],
  ["Send Messages in Threads", PermissionFlagsBits.SendMessagesInThreads],
  ["Attach Files", PermissionFlagsBits.AttachFiles],
  ["Read Message History", PermissionFlagsBits.ReadMessageHistory],
] as const;

export const INVITE_PERMISSION_BITS = INVITE_PERMISSIONS.reduce((sum, [, bit]) => sum | bit, 0n);

export function discordInviteUrl(applicationId: string, guildId?: string): string {
  const params = new URLSearchParams({
    client_id: applicationId,
    scope: INVITE_SCOPES.join(" "),
    permissions: INVITE_PERMISSION_BITS.toString(),
  });
  if (guildId) params.set("guild_id", guildId);
  return `https://discord.com/oauth2/authorize?${params.toString()}`;
}

const SNOWFLAKE = /^\d{17,20}$/;

/** The bot's id is the token's first segment, base64-encoded; for bots it equals the application id. */
export function applicationIdFromToken(token: string): string | undefined {
  const first = token.replace(/^Bot\s+/i, "").split(".")[0] ?? "";
  const decoded = Buffer.from(first, "base64").toString("utf8");
  return SNOWFLAKE.test(decoded) ? decoded : undefined;
}

export interface InviteIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Asks Discord for the application id when the token doesn't carry it (tests pass a fake's). */
  fetch?: typeof undiciFetch;
}

export const DISCORD_INVITE_USAGE = [
  "Usage: seedream-bot discord-invite [--application-id ID] [--guild-id ID]",
  "",
  "Prints the URL that adds the bot to a Discord server with the scopes `bot applications.commands`",
  "and the permissions it needs. The application id comes from --application-id, else from",
  "DISCORD_TOKEN (read locally, or asked of Discord's /applications/@me).",
].join("\n");

export async function discordInviteCommand(argv: string[], io: InviteIo = defaultIo()): Promise<number> {
  let values: { "application-id"?: string; "guild-id"?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { "application-id": { type: "string" }, "guild-id": { type: "string" } },
    }));
  } catch (error) {
    io.stderr(`${(error as Error).message}.\n\n${DISCORD_INVITE_USAGE}`);
    return 2;
  }
  let applicationId = values["application-id"];
  const guildId = values["guild-id"] ?? (io.env.DISCORD_GUILD_ID?.trim() || undefined);
  if (applicationId !== undefined && !SNOWFLAKE.test(applicationId)) {
    io.stderr(`--application-id must be the numeric id from the Developer Portal (General Information).`);
    return 2;
  }
  applicationId ??= await applicationIdFromEnv(io);
  if (applicationId === undefined) return 1;
  io.stdout(discordInviteUrl(applicationId, guildId));
  io.stderr(`Permissions: ${INVITE_PERMISSIONS.map(([name]) => name).join(", ")}.`);
  return 0;
}

async function applicationIdFromEnv(io: InviteIo): Promise<string | undefined> {
  const token = io.env.DISCORD_TOKEN?.trim();
  if (!token) {
    io.stderr("Set DISCORD_TOKEN, or pass --application-id (Developer Portal → General Information).");
    return undefined;
  }
  const local = applicationIdFromToken(token);
  if (local) return local;
  const api = (io.env.DISCORD_API_URL?.trim() || DEFAULT_DISCORD_API_URL).replace(/\/+$/, "");
  try {
    const response = await (io.fetch ?? undiciFetch)(`${api}/v10/applications/@me`, {
      headers: { authorization: `Bot ${token.replace(/^Bot\s+/i, "")}` },
    });
    const body = (await response.json().catch(() => ({}))) as { id?: unknown };
    if (response.ok && typeof body.id === "string") return body.id;
    io.stderr(
      `Discord refused DISCORD_TOKEN (HTTP ${response.status}); check the token, or pass --application-id.`,
    );
  } catch {
    io.stderr("Could not reach Discord to look up the application id; pass --application-id.");
  }
  return undefined;
}

function defaultIo(): InviteIo {
  return {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    env: process.env,
  };
}

/** Shaped like `src/cli` subcommands, for the CLI's table. */
export const discordInviteSubcommand = {
  summary: "print the URL that adds the bot to a Discord server",
  usage: DISCORD_INVITE_USAGE,
  run: discordInviteCommand,
};
