import type { RunningBot, SlackFleet } from "../durable/harness.js";
import type { PostedMessage } from "../fakes/slack-recorder.js";

/**
 * What the multi-process tests ask of their bots' JSON log lines: which process started a
 * user's run, and how many runs each started. Every bot logs at debug level in these tests
 * (the durable harness sets LOG_LEVEL); the lines are pino JSON (`msg` plus bound fields).
 */

/** One pino JSON line, or undefined for anything else (a stray non-JSON line). */
function entry(line: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Log entries of `bot` whose `msg` is `msg` and whose fields include `fields`. */
export function logged(bot: RunningBot, msg: string, fields: Record<string, unknown> = {}) {
  return bot.bot.logs.flatMap((line) => {
    const found = entry(line);
    if (found?.msg !== msg) return [];
    return Object.entries(fields).every(([key, value]) => found[key] === value) ? [found] : [];
  });
}

/** How many runs each bot started ("run started": first runs and continuations alike). */
export const runsStarted = (bots: readonly RunningBot[], fields: Record<string, unknown> = {}): number[] =>
  bots.map((bot) => logged(bot, "run started", fields).length);

/** A regex matching a JSON log line with `msg` and every one of `fields` (strings), in any order. */
function linePattern(msg: string, fields: Record<string, string>): RegExp {
  const quote = (text: string) => JSON.stringify(text).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const parts = [`"msg":${quote(msg)}`, ...Object.entries(fields).map(([k, v]) => `"${k}":${quote(v)}`)];
  return new RegExp(`^${parts.map((part) => `(?=.*${part})`).join("")}`);
}

/**
 * Resolves with the bot among `bots` that logs `msg` with `fields` (seen so far or later), e.g.
 * which process starts user U's run. Rejects after `timeoutMs` with every bot's log.
 */
export async function whichLogs(
  bots: readonly RunningBot[],
  msg: string,
  fields: Record<string, string>,
  timeoutMs = 45_000,
): Promise<RunningBot> {
  const pattern = linePattern(msg, fields);
  const seen = bots.find((bot) => bot.bot.logs.some((line) => pattern.test(line)));
  if (seen !== undefined) return seen;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `no bot logged ${pattern} within ${timeoutMs} ms:\n${bots
              .map((bot, i) => `--- bot ${i} (port ${bot.port}):\n${bot.bot.logs.join("\n")}`)
              .join("\n")}`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      timeout,
      ...bots.map((bot) => bot.bot.waitForLog(pattern, timeoutMs + 1000).then(() => bot)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The bot's status message in `channel` (the first one it posted there, with its buttons). */
export function statusIn(fleet: SlackFleet, channel: string): PostedMessage {
  const [status] = fleet.botMessages(channel);
  if (status === undefined) throw new Error(`no status message in ${channel}`);
  return status;
}

/** Every text a message showed: as posted, then each edit. */
export function textsOf(fleet: SlackFleet, channel: string, message: PostedMessage): string[] {
  return [message.text ?? "", ...fleet.updates(channel, message.ts).map((update) => update.text ?? "")];
}

/** Resolves after `ms`: only to let anything that would be posted twice arrive before counting. */
export const settle = (ms = 1000) => new Promise((resolve) => setTimeout(resolve, ms));
