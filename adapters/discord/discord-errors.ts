import { DiscordAPIError } from "discord.js";
import { BotError } from "../../src/errors.js";

/**
 * Discord-side failures a user or an operator may hear about. Each is a `BotError` whose
 * `userMessage` is the one sentence shown (the core posts it); the cause stays in the log.
 */

/** A file could not be fetched from Discord. */
export class DiscordFileError extends BotError {
  override name = "DiscordFileError";

  constructor(code: string, userMessage: string, options: { cause?: unknown } = {}) {
    super(code, userMessage, { userMessage, cause: options.cause });
  }
}

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
export const CANNOT_DM_USER = 50007;
export const INVALID_WEBHOOK_TOKEN = 50027;
export const UNKNOWN_WEBHOOK = 10015;

/** Discord refused an action because the bot lacks a permission (or cannot see the channel). */
export function isPermissionError(error: unknown): boolean {
  const code = discordErrorCode(error);
  return code === MISSING_PERMISSIONS || code === MISSING_ACCESS;
}
