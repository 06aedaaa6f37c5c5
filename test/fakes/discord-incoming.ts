/**
 * Messages users send (what a test makes "happen" in a channel): stored like any message, with
 * mentions derived from the text the way Discord derives them, then dispatched as MESSAGE_CREATE.
 */
import type { APIAttachment, APIMessage, MessageFlags } from "discord.js";
import type { FakeGateway } from "./discord-gateway.js";
import { resolvePings } from "./discord-mentions.js";
import { Permission } from "./discord-permissions.js";
import type { StoredMessage, World } from "./discord-state.js";

export interface UserMessageInput {
  /** May contain `<@userId>`, `<@&roleId>`, `@everyone`/`@here`; mentions are derived from it. */
  content?: string;
  /** Username of the author; default `alice`. Bot users (e.g. `other-bot`) carry `bot: true`. */
  author?: string;
  /** Guild text channel id; default the first guild's first channel. Ignored with `dm`. */
  channelId?: string;
  /** Sent in the author's DM with the bot. */
  dm?: boolean;
  /** Attachment objects from `hostAttachment`. */
  attachments?: APIAttachment[];
  /** Id of the message this replies to (sets message_reference and referenced_message). */
  replyTo?: string;
  /** Whether the reply pings the replied author (Discord's default: yes). */
  replyPing?: boolean;
}

export function userMessage(world: World, input: UserMessageInput): StoredMessage {
  const author = world.user(input.author ?? "alice");
  const channelId = input.dm
    ? world.dmWith(author.id).id
    : (input.channelId ?? world.guilds[0]?.channels[0]?.id ?? "no-channel");
  const where = world.locate(channelId);
  if (!where) throw new Error(`fake Discord: no channel ${channelId}`);
  const content = input.content ?? "";
  const replied = input.replyTo === undefined ? undefined : world.messages.get(input.replyTo);
  if (input.replyTo !== undefined && replied?.data.channel_id !== channelId) {
    throw new Error(`fake Discord: cannot reply to ${input.replyTo} from channel ${channelId}`);
  }
  const guild = where.kind === "guild" ? where.guild : undefined;
  // A user's message pings whatever it names; the reply ping is the user's toggle.
  const pings = resolvePings(
    {
      content,
      ...(replied && input.replyPing !== false ? { repliedUserId: replied.data.author.id } : {}),
      canMentionEveryone:
        (world.permissionsOf(author.id, channelId) & Permission.MentionEveryone) !== 0n && !!guild,
      knownUser: (id) => world.userById(id) !== undefined,
      knownRole: (id) => guild?.roles.some((r) => r.id === id) ?? false,
    },
    undefined,
  );
  const id = world.ids.next();
  const data: StoredMessage["data"] = {
    id,
    channel_id: channelId,
    author,
    content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: pings.everyone,
    mentions: pings.users.flatMap((u) => {
      const user = world.userById(u);
      return user ? [user] : [];
    }),
    mention_roles: pings.roles,
    embeds: [],
    pinned: false,
    type: replied ? 19 : 0,
    flags: 0 as MessageFlags,
    components: [],
  };
  if (replied) {
    data.message_reference = {
      type: 0,
      message_id: replied.data.id,
      channel_id: channelId,
      ...(guild ? { guild_id: guild.id } : {}),
    };
  }
  const stored: StoredMessage = { data, attachmentIds: (input.attachments ?? []).map((a) => a.id) };
  if (guild) stored.guildId = guild.id;
  if (replied) stored.referencedId = replied.data.id;
  world.store(stored);
  return stored;
}

/** Stores the message and dispatches MESSAGE_CREATE; resolves once it is on the wire (or filtered by intents). */
export async function sendUserMessage(
  world: World,
  gateway: FakeGateway,
  input: UserMessageInput,
): Promise<APIMessage> {
  const stored = userMessage(world, input);
  await gateway.dispatchMessage("MESSAGE_CREATE", stored.data.id);
  return world.render(stored.data.id) as APIMessage;
}
