import { BotError } from "../../src/errors.js";

/**
 * A file the user attached (or the bot posted earlier) could not be fetched from the platform.
 * One class for every platform: `code` says which (`slack_file_gone`, `discord_read_history`…),
 * `userMessage` is the one sentence the core shows, the cause stays in the log.
 */
export class FileDownloadError extends BotError {
  override name = "FileDownloadError";

  constructor(code: string, userMessage: string, options: { cause?: unknown } = {}) {
    super(code, userMessage, { userMessage, cause: options.cause });
  }
}
