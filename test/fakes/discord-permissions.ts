/**
 * Discord's permission arithmetic (roles, then channel overwrites), computed the way the real API
 * does so the fake's REST refusals agree with what discord.js derives from the same GUILD_CREATE.
 */
import type { APIOverwrite, APIRole } from "discord.js";

/** The subset of Discord permission bits the fake reasons about, named like discord.js's PermissionFlagsBits. */
export const Permission = {
  Administrator: 1n << 3n,
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  MentionEveryone: 1n << 17n,
  UseApplicationCommands: 1n << 31n,
  SendMessagesInThreads: 1n << 38n,
} as const;

export type PermissionName = keyof typeof Permission;

export const ALL_PERMISSIONS = (1n << 53n) - 1n;

/** What Discord gives @everyone in a new server (the parts that matter here). */
export const DEFAULT_EVERYONE = bits([
  "ViewChannel",
  "SendMessages",
  "EmbedLinks",
  "AttachFiles",
  "ReadMessageHistory",
  "MentionEveryone",
  "AddReactions",
  "UseApplicationCommands",
  "SendMessagesInThreads",
]);

export function bits(names: readonly PermissionName[]): bigint {
  let value = 0n;
  for (const name of names) value |= Permission[name];
  return value;
}

export function namesOf(value: bigint): PermissionName[] {
  return (Object.keys(Permission) as PermissionName[]).filter((n) => (value & Permission[n]) !== 0n);
}

export interface PermissionSubject {
  guildId: string;
  ownerId: string;
  userId: string;
  roleIds: readonly string[];
}

/** https://discord.com/developers/docs/topics/permissions#permission-overwrites */
export function computePermissions(
  subject: PermissionSubject,
  roles: readonly APIRole[],
  overwrites: readonly APIOverwrite[],
): bigint {
  if (subject.userId === subject.ownerId) return ALL_PERMISSIONS;
  let base = 0n;
  for (const role of roles) {
    if (role.id === subject.guildId || subject.roleIds.includes(role.id)) base |= BigInt(role.permissions);
  }
  if ((base & Permission.Administrator) !== 0n) return ALL_PERMISSIONS;

  let perms = base;
  const everyone = overwrites.find((o) => o.id === subject.guildId);
  if (everyone) perms = (perms & ~BigInt(everyone.deny)) | BigInt(everyone.allow);
  let allow = 0n;
  let deny = 0n;
  for (const o of overwrites) {
    if (o.type === 0 && o.id !== subject.guildId && subject.roleIds.includes(o.id)) {
      allow |= BigInt(o.allow);
      deny |= BigInt(o.deny);
    }
  }
  perms = (perms & ~deny) | allow;
  const member = overwrites.find((o) => o.type === 1 && o.id === subject.userId);
  if (member) perms = (perms & ~BigInt(member.deny)) | BigInt(member.allow);
  // Implicit permissions: without View Channel nothing applies; without Send Messages neither do
  // the permissions that only decorate a sent message.
  if ((perms & Permission.ViewChannel) === 0n) return 0n;
  if ((perms & Permission.SendMessages) === 0n) {
    perms &= ~(Permission.MentionEveryone | Permission.AttachFiles | Permission.EmbedLinks);
  }
  return perms;
}
