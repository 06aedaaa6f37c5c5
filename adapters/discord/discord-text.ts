import type { Message } from "discord.js";

/** Discord's limits: message content and attachment alt text (`description`). */
export const CONTENT_LIMIT = 2000;
export const ALT_TEXT_LIMIT = 1024;

/** Every message the bot sends pings nobody, the replied-to author included. */
export const NO_PINGS = { parse: [], repliedUser: false } as const satisfies {
  parse: never[];
  repliedUser: boolean;
};

/**
 * The prompt of a message: the bot's own mention removed, other mentions turned into the names
 * people see (the model cannot read `<@123>`), custom emoji into `:name:`. `@everyone` stays as
 * typed: it is the user's text, and nothing the bot sends can ping anyway.
 */
export function promptFromMessage(message: Message, botUserId: string): string {
  const botMention = new RegExp(`<@!?${botUserId}>`, "g");
  return message.content
    .replace(botMention, " ")
    .replace(/<@!?(\d+)>/g, (raw, id: string) => {
      const member = message.mentions.members?.get(id);
      const user = message.mentions.users.get(id);
      const name = member?.displayName ?? user?.globalName ?? user?.username;
      return name === undefined ? raw : `@${name}`;
    })
    .replace(/<@&(\d+)>/g, (raw, id: string) => {
      const role = message.mentions.roles.get(id);
      return role ? `@${role.name}` : raw;
    })
    .replace(/<#(\d+)>/g, (raw, id: string) => {
      const channel = message.mentions.channels.get(id);
      return channel && "name" in channel && channel.name ? `#${channel.name}` : raw;
    })
    .replace(/<a?:(\w+):\d+>/g, ":$1:")
    .replace(/[ \t]+/g, " ")
    .trim();
}
