import { BotError } from "../errors.js";
import { STORE_UNAVAILABLE } from "./messages.js";
import { USAGE } from "./usage.js";

/** The command text could not be understood; `userMessage` is the reason plus the usage line. */
export class BadCommandError extends BotError {
  override name = "BadCommandError";
  readonly reason: string;

  constructor(reason: string) {
    super("bad_command", reason, { userMessage: `${reason}\n${USAGE}` });
    this.reason = reason;
  }
}

/** A reference image was refused (too big, not an image, too small, too narrow, wrong count). */
export class ReferenceImageError extends BotError {
  override name = "ReferenceImageError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super("bad_reference", message, { userMessage: message, cause: options.cause });
  }
}

/** Too many requests are already waiting. */
export class QueueFullError extends BotError {
  override name = "QueueFullError";

  constructor(message: string) {
    super("busy", message, { userMessage: message });
  }
}

/** The user already has as many requests waiting as one user may (`MAX_QUEUED_PER_USER`). */
export class UserQueueFullError extends BotError {
  override name = "UserQueueFullError";

  constructor(message: string) {
    super("user_queue_full", message, { userMessage: message });
  }
}

/** The user cancelled a run, or a waiting request, of theirs. */
export class CancelledError extends BotError {
  override name = "CancelledError";

  constructor(message = "Cancelled.") {
    super("cancelled", message, { userMessage: message });
  }
}

/** A run stopped because its process shuts down (past the grace): the next process continues it. */
export class InterruptedError extends BotError {
  override name = "InterruptedError";

  constructor() {
    super("interrupted", "The bot is restarting.", { userMessage: "The bot is restarting." });
  }
}

/** The state store named by STORE_URL could not be opened or used. */
export class StoreError extends BotError {
  override name = "StoreError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super("store_unavailable", message, { userMessage: message, cause: options.cause });
  }
}

/** The state store failed while running (Redis lost, disk full): the user may try again shortly. */
export class StoreUnavailableError extends BotError {
  override name = "StoreUnavailableError";

  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super("store_down", `the state store failed: ${reason}`, { userMessage: STORE_UNAVAILABLE, cause });
  }
}
