import { type Channel, PermissionFlagsBits, type User } from "discord.js";
import { andList, pluralWord } from "../../src/core/text.js";
import type { Logger } from "../../src/logger.js";
import { discordErrorCode } from "./discord-errors.js";
import { NO_PINGS } from "./discord-text.js";

/**
 * The channel permissions the bot needs to answer a mention there, checked before a run starts
 * (so no images are generated that cannot be posted), and what the user is told when one is
 * missing: a DM naming the permission, or, if DMs are closed, a log line naming it.
 */

interface Needed {
  flag: bigint;
  name: string;
}

const VIEW: Needed = { flag: PermissionFlagsBits.ViewChannel, name: "View Channel" };
const SEND: Needed = { flag: PermissionFlagsBits.SendMessages, name: "Send Messages" };
const SEND_IN_THREADS: Needed = {
  flag: PermissionFlagsBits.SendMessagesInThreads,
  name: "Send Messages in Threads",
};
const ATTACH: Needed = { flag: PermissionFlagsBits.AttachFiles, name: "Attach Files" };
const HISTORY: Needed = { flag: PermissionFlagsBits.ReadMessageHistory, name: "Read Message History" };

/** Names of the permissions the bot lacks in `channel` (none in DMs, or when Discord didn't say). */
export function missingPermissions(channel: Channel, botUserId: string): string[] {
  if (channel.isDMBased() || !("permissionsFor" in channel)) return [];
  const permissions = channel.permissionsFor(botUserId);
  if (!permissions) return [];
  const needed = [VIEW, channel.isThread() ? SEND_IN_THREADS : SEND, ATTACH, HISTORY];
  return needed.filter((p) => !permissions.has(p.flag)).map((p) => p.name);
}

export function channelLabel(channel: Channel): string {
  return "name" in channel && typeof channel.name === "string" ? `#${channel.name}` : "that channel";
}

export function missingPermissionSentence(where: string, missing: readonly string[]): string {
  const what =
    missing.length === 0
      ? "a permission I need there (Send Messages, Attach Files or Read Message History)"
      : `the ${andList(missing)} ${pluralWord(missing.length, "permission")} there`;
  return `I can't answer your request in ${where}: I'm missing ${what}. A server admin can grant ${missing.length === 1 ? "it" : "them"} to me in the channel's settings → Permissions.`;
}

/** Tells `user` by DM; logs the same (with the permission names) whether or not the DM arrives. */
export async function reportMissingPermissions(
  user: User,
  channel: Channel,
  missing: readonly string[],
  logger: Logger,
): Promise<void> {
  const where = channelLabel(channel);
  logger.warn(
    `missing Discord ${pluralWord(missing.length, "permission")} in ${where}: ${missing.join(", ") || "unknown"}`,
    { channelId: channel.id, userId: user.id, missing },
  );
  try {
    await user.send({ content: missingPermissionSentence(where, missing), allowedMentions: NO_PINGS });
  } catch (error) {
    logger.warn("could not DM the user about the missing permissions", {
      userId: user.id,
      code: discordErrorCode(error),
      error,
    });
  }
}
