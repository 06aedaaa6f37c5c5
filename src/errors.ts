/**
 * The root of every error this project raises on purpose. `code` is a stable string that
 * callers switch on; `userMessage` is the one sentence a chat user may see (never a secret,
 * never a stack). Subclasses live next to the code that raises them.
 */
export class BotError extends Error {
  override name = "BotError";
  readonly code: string;
  readonly userMessage: string;

  constructor(code: string, message: string, options: { userMessage?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.userMessage = options.userMessage ?? message;
  }
}

export function isBotError(value: unknown): value is BotError {
  return value instanceof BotError;
}
