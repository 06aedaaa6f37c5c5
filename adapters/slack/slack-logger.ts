import { LogLevel, type Logger as SlackLogger } from "@slack/bolt";
import type { Logger } from "../../src/logger.js";

/**
 * Bolt and the WebClient log through this, so their lines go through our logger (and its secret
 * scrubbing) instead of straight to the console. Their info chatter becomes debug; the
 * WebClient's debug lines (every request body, prompts included) can be dropped.
 */
export function slackLogger(logger: Logger, options: { debug?: boolean } = {}): SlackLogger {
  let level = LogLevel.INFO;
  const text = (parts: unknown[]) =>
    parts.map((part) => (part instanceof Error ? part.message : String(part))).join(" ");
  return {
    debug: (...parts: unknown[]) => {
      if (options.debug !== false) logger.debug(`slack: ${text(parts)}`);
    },
    info: (...parts: unknown[]) => logger.debug(`slack: ${text(parts)}`),
    warn: (...parts: unknown[]) => logger.warn(`slack: ${text(parts)}`),
    error: (...parts: unknown[]) => logger.error(`slack: ${text(parts)}`),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
