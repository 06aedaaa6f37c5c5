import { DiscordAPIError } from "discord.js";
import { BotError } from "../../src/errors.js";

/** How Discord says what went wrong, and the Discord-side failures an operator may hear about. */

/** Discord could not be reached, or refused the token or the intents, at start-up. */
export class DiscordStartError extends BotError {
  override name = "DiscordStartError";
}

/** Discord's JSON error code (50013 Missing Permissions, 10062 Unknown interaction…), if any. */
export function discordErrorCode(error: unknown): number | undefined {
  return error instanceof DiscordAPIError && typeof error.code === "number" ? error.code : undefined;
}

export const MISSING_ACCESS = 50001;
export const MISSING_PERMISSIONS = 50013;
export const INVALID_WEBHOOK_TOKEN = 50027;
export const UNKNOWN_WEBHOOK = 10015;

/** Discord refused an action because the bot lacks a permission (or cannot see the channel). */
export function isPermissionError(error: unknown): boolean {
  const code = discordErrorCode(error);
  return code === MISSING_PERMISSIONS || code === MISSING_ACCESS;
}
