/**
 * The fake Discord's world: the bot, users, guilds with roles/channels/members, DM channels and
 * every message, shared by the REST routes and the gateway so both tell the client the same story.
 * Only types come from discord.js: importing it at runtime here would load its undici before a
 * test gets to choose the load order.
 */
import type {
  APIDMChannel,
  APIGuildMember,
  APIMessage,
  APIRole,
  APITextChannel,
  APIUser,
  ChannelFlags,
  GatewayGuildCreateDispatchData,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildHubType,
  GuildMemberFlags,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  Locale,
  RoleFlags,
} from "discord.js";
import type { FakeCdn } from "./discord-cdn.js";
import { bits, computePermissions, DEFAULT_EVERYONE, type PermissionName } from "./discord-permissions.js";

const DISCORD_EPOCH = 1_420_070_400_000n;

export interface FakeUserSpec {
  username: string;
  bot?: boolean;
}

export interface FakeGuildSpec {
  name: string;
  /** A snowflake of your choice (e.g. to put the guild on a given shard); default a fresh one. */
  id?: string;
  /** Text channels, by name. */
  channels: string[];
  roles?: string[];
  /** Usernames of members besides the bot; default: every user. The first is the owner. */
  members?: string[];
}

export interface WorldOptions {
  botName?: string;
  users?: FakeUserSpec[];
  guilds?: FakeGuildSpec[];
}

export interface GuildState {
  id: string;
  name: string;
  ownerId: string;
  joinedAt: string;
  roles: APIRole[];
  channels: APITextChannel[];
  members: Map<string, APIGuildMember>;
}

export type ChannelLocation =
  | { kind: "guild"; guild: GuildState; channel: APITextChannel }
  | { kind: "dm"; channel: APIDMChannel; recipient: APIUser };

/** A stored message; attachments and the replied message are rendered fresh on every read. */
export interface StoredMessage {
  data: Omit<APIMessage, "attachments" | "referenced_message">;
  attachmentIds: string[];
  guildId?: string;
  referencedId?: string;
}

export class Snowflakes {
  #last = 0n;
  next(): string {
    let id = (BigInt(Date.now()) - DISCORD_EPOCH) << 22n;
    if (id <= this.#last) id = this.#last + 1n;
    this.#last = id;
    return id.toString();
  }
}

export class World {
  readonly ids = new Snowflakes();
  readonly bot: APIUser;
  readonly users = new Map<string, APIUser>();
  readonly guilds: GuildState[] = [];
  readonly dms = new Map<string, APIDMChannel>();
  readonly messages = new Map<string, StoredMessage>();
  cdn: FakeCdn | undefined;

  constructor(options: WorldOptions = {}) {
    this.bot = this.#user({ username: options.botName ?? "seedream", bot: true });
    const users = options.users ?? [
      { username: "alice" },
      { username: "bob" },
      { username: "other-bot", bot: true },
    ];
    for (const spec of users) this.users.set(spec.username, this.#user(spec));
    const guilds = options.guilds ?? [
      { name: "Seedream Test", channels: ["general", "art"], roles: ["artists"] },
    ];
    for (const spec of guilds) this.guilds.push(this.#guild(spec));
  }

  get applicationId(): string {
    return this.bot.id;
  }

  user(name: string): APIUser {
    const user = this.users.get(name);
    if (!user) throw new Error(`fake Discord: no user named ${name}`);
    return user;
  }

  userById(id: string): APIUser | undefined {
    if (id === this.bot.id) return this.bot;
    return [...this.users.values()].find((u) => u.id === id);
  }

  /** A guild text channel by name (first guild unless `guildId` is given). */
  channel(name: string, guildId?: string): APITextChannel {
    const guild = guildId === undefined ? this.guilds[0] : this.guilds.find((g) => g.id === guildId);
    const channel = guild?.channels.find((c) => c.name === name);
    if (!channel) throw new Error(`fake Discord: no channel #${name}`);
    return channel;
  }

  role(name: string): APIRole {
    for (const guild of this.guilds) {
      const role = guild.roles.find((r) => r.name === name);
      if (role) return role;
    }
    throw new Error(`fake Discord: no role ${name}`);
  }

  locate(channelId: string): ChannelLocation | undefined {
    for (const guild of this.guilds) {
      const channel = guild.channels.find((c) => c.id === channelId);
      if (channel) return { kind: "guild", guild, channel };
    }
    for (const [userId, channel] of this.dms) {
      if (channel.id === channelId)
        return { kind: "dm", channel, recipient: this.userById(userId) as APIUser };
    }
    return undefined;
  }

  /** The DM channel between the bot and a user, created on first use like POST /users/@me/channels. */
  dmWith(userId: string): APIDMChannel {
    const existing = this.dms.get(userId);
    if (existing) return existing;
    const recipient = this.userById(userId);
    if (!recipient) throw new Error(`fake Discord: no user ${userId}`);
    const channel: APIDMChannel = {
      id: this.ids.next(),
      type: 1,
      name: null,
      last_message_id: null,
      recipients: [recipient],
    };
    this.dms.set(userId, channel);
    return channel;
  }

  /** The bot's effective permissions in a channel. */
  botPermissions(channelId: string): bigint {
    return this.permissionsOf(this.bot.id, channelId);
  }

  /** A user's effective permissions in a channel; in DMs, what a DM allows. */
  permissionsOf(userId: string, channelId: string): bigint {
    const where = this.locate(channelId);
    if (!where) return 0n;
    if (where.kind === "dm")
      return bits(["ViewChannel", "SendMessages", "AttachFiles", "ReadMessageHistory"]);
    const member = where.guild.members.get(userId);
    if (!member) return 0n;
    return computePermissions(
      { guildId: where.guild.id, ownerId: where.guild.ownerId, userId, roleIds: member.roles },
      where.guild.roles,
      where.channel.permission_overwrites ?? [],
    );
  }

  /** Replaces the bot's member overwrite in a channel (what a server admin would click). */
  setBotOverwrite(
    channelId: string,
    change: { allow?: PermissionName[]; deny?: PermissionName[] },
  ): APITextChannel {
    const where = this.locate(channelId);
    if (where?.kind !== "guild") throw new Error(`fake Discord: ${channelId} is not a guild channel`);
    const others = (where.channel.permission_overwrites ?? []).filter((o) => o.id !== this.bot.id);
    const overwrite = {
      id: this.bot.id,
      type: 1 as const,
      allow: bits(change.allow ?? []).toString(),
      deny: bits(change.deny ?? []).toString(),
    };
    where.channel.permission_overwrites = [...others, overwrite];
    return where.channel;
  }

  member(guild: GuildState, userId: string): APIGuildMember | undefined {
    return guild.members.get(userId);
  }

  store(message: StoredMessage): void {
    this.messages.set(message.data.id, message);
  }

  /** A message as Discord would return it now: fresh attachment URLs, one level of reply. */
  render(id: string, depth = 0): APIMessage | undefined {
    const stored = this.messages.get(id);
    if (!stored || !this.cdn) return undefined;
    const cdn = this.cdn;
    const message: APIMessage = {
      ...stored.data,
      attachments: stored.attachmentIds.map((a) => cdn.attachment(a)),
    };
    if (stored.referencedId !== undefined && depth === 0) {
      message.referenced_message = this.render(stored.referencedId, 1) ?? null;
    }
    return message;
  }

  guildCreate(guild: GuildState): GatewayGuildCreateDispatchData {
    return {
      id: guild.id,
      name: guild.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: guild.ownerId,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0 as GuildVerificationLevel,
      default_message_notifications: 1 as GuildDefaultMessageNotifications,
      explicit_content_filter: 0 as GuildExplicitContentFilter,
      mfa_level: 0 as GuildMFALevel,
      nsfw_level: 0 as GuildNSFWLevel,
      premium_tier: 0 as GuildPremiumTier,
      hub_type: null as GuildHubType | null,
      system_channel_flags: 0 as GuildSystemChannelFlags,
      preferred_locale: "en-US" as Locale,
      features: [],
      emojis: [],
      stickers: [],
      roles: guild.roles,
      application_id: null,
      system_channel_id: guild.channels[0]?.id ?? null,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      vanity_url_code: null,
      premium_progress_bar_enabled: false,
      incidents_data: null,
      max_members: 500_000,
      joined_at: guild.joinedAt,
      large: false,
      unavailable: false,
      member_count: guild.members.size,
      members: [...guild.members.values()],
      channels: guild.channels as GatewayGuildCreateDispatchData["channels"],
      threads: [],
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  #user(spec: FakeUserSpec): APIUser {
    const user: APIUser = {
      id: this.ids.next(),
      username: spec.username,
      discriminator: "0",
      global_name: spec.bot ? null : spec.username[0]?.toUpperCase() + spec.username.slice(1),
      avatar: null,
    };
    if (spec.bot) user.bot = true;
    return user;
  }

  #guild(spec: FakeGuildSpec): GuildState {
    const id = spec.id ?? this.ids.next();
    const joinedAt = new Date().toISOString();
    const role = (name: string, permissions: bigint, position: number, managed = false): APIRole => ({
      id: name === "@everyone" ? id : this.ids.next(),
      name,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      icon: null,
      unicode_emoji: null,
      position,
      permissions: permissions.toString(),
      managed,
      mentionable: true,
      flags: 0 as RoleFlags,
    });
    const botRole = role(this.bot.username, DEFAULT_EVERYONE, 1, true);
    botRole.tags = { bot_id: this.bot.id };
    const roles = [role("@everyone", DEFAULT_EVERYONE, 0), botRole];
    for (const [i, name] of (spec.roles ?? []).entries()) roles.push(role(name, 0n, i + 2));

    const channels = spec.channels.map(
      (name, position): APITextChannel => ({
        id: this.ids.next(),
        type: 0,
        guild_id: id,
        name,
        position,
        permission_overwrites: [],
        nsfw: false,
        topic: null,
        last_message_id: null,
        parent_id: null,
        rate_limit_per_user: 0,
        flags: 0 as ChannelFlags,
      }),
    );
    const memberNames = spec.members ?? [...this.users.keys()];
    const members = new Map<string, APIGuildMember>();
    const memberOf = (user: APIUser, roleIds: string[]): APIGuildMember => ({
      user,
      nick: null,
      roles: roleIds,
      joined_at: joinedAt,
      deaf: false,
      mute: false,
      flags: 0 as GuildMemberFlags,
    });
    for (const name of memberNames) members.set(this.user(name).id, memberOf(this.user(name), []));
    members.set(this.bot.id, memberOf(this.bot, [botRole.id]));
    const ownerId = memberNames[0] === undefined ? this.bot.id : this.user(memberNames[0]).id;
    return { id, name: spec.name, ownerId, joinedAt, roles, channels, members };
  }
}
