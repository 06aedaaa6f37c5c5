/** The Discord adapter: what `src/main.ts` and the CLI use. */
export {
  type DiscordHandle,
  type DiscordSettings,
  type StartDiscordOptions,
  startDiscord,
} from "./discord-app.js";
export { DiscordStartError } from "./discord-errors.js";
export {
  applicationIdFromToken,
  DISCORD_INVITE_USAGE,
  discordInviteCommand,
  discordInviteSubcommand,
  discordInviteUrl,
  INVITE_PERMISSION_BITS,
  INVITE_SCOPES,
} from "./discord-invite.js";
export {
  type DiscordRestorerHandle,
  type DiscordRestSetup,
  startDiscordRestorer,
} from "./discord-restorer.js";
export { DEFAULT_DISCORD_API_URL, discordRestRequest } from "./rest.js";
export { IMAGINE_COMMAND } from "./slash-command.js";
