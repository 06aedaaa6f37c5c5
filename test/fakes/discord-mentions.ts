/**
 * Who a message actually pings, per Discord's `allowed_mentions` rules
 * (https://discord.com/developers/docs/resources/message#allowed-mentions-object). The fake stores
 * the result on the message (`mentions`, `mention_roles`, `mention_everyone`) as Discord does, so a
 * test can assert "nobody was pinged" on behaviour rather than on the payload's spelling.
 */

export interface AllowedMentions {
  parse?: ("users" | "roles" | "everyone")[];
  users?: string[];
  roles?: string[];
  replied_user?: boolean;
}

export interface Pings {
  users: string[];
  roles: string[];
  everyone: boolean;
}

export interface MentionContext {
  content: string;
  /** Author of the replied-to message, if this is a reply. */
  repliedUserId?: string;
  /** Whether the author may ping @everyone/@here in this channel. */
  canMentionEveryone: boolean;
  /** Users that exist (mentions of unknown ids resolve to nothing). */
  knownUser: (id: string) => boolean;
  knownRole: (id: string) => boolean;
}

export function mentionedIn(content: string): { users: string[]; roles: string[]; everyone: boolean } {
  const users = [...content.matchAll(/<@!?(\d+)>/g)].map((m) => m[1] ?? "");
  const roles = [...content.matchAll(/<@&(\d+)>/g)].map((m) => m[1] ?? "");
  return { users: unique(users), roles: unique(roles), everyone: /@(everyone|here)\b/.test(content) };
}

/** `allowed` undefined means the sender passed no allowed_mentions: everything in the text pings. */
export function resolvePings(ctx: MentionContext, allowed: AllowedMentions | undefined): Pings {
  const found = mentionedIn(ctx.content);
  const users = found.users.filter(ctx.knownUser);
  const roles = found.roles.filter(ctx.knownRole);
  if (allowed === undefined) {
    const withReply = ctx.repliedUserId === undefined ? users : unique([...users, ctx.repliedUserId]);
    return { users: withReply, roles, everyone: found.everyone && ctx.canMentionEveryone };
  }
  const parse = allowed.parse ?? [];
  const allowedUsers = parse.includes("users") ? users : users.filter((u) => allowed.users?.includes(u));
  const allowedRoles = parse.includes("roles") ? roles : roles.filter((r) => allowed.roles?.includes(r));
  const replied = allowed.replied_user === true && ctx.repliedUserId !== undefined ? [ctx.repliedUserId] : [];
  return {
    users: unique([...allowedUsers, ...replied]),
    roles: allowedRoles,
    everyone: found.everyone && parse.includes("everyone") && ctx.canMentionEveryone,
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
