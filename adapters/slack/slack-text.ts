/**
 * Slack's message text is a markup where `&`, `<` and `>` are control characters: `<@U123>`
 * mentions a user, `<!channel>` pings everyone. Text coming in is turned into plain text once;
 * every plain text going out is escaped, so nothing a user typed (a prompt, a file name) can
 * ever become a ping when the bot repeats it.
 */

/** Plain text → Slack text that shows exactly those characters. */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Escaped text for a private answer, with the core's user and channel mentions (`<@U123>`,
 * `<#C123>`, as in usage's top list and ALLOWED_CHANNELS) left as Slack markup so they render as
 * names. Only in private answers: an ephemeral message pings nobody.
 */
export function escapePrivateText(text: string): string {
  return escapeSlackText(text).replace(/&lt;([@#][A-Z0-9]{2,})&gt;/g, "<$1>");
}

/** Undoes Slack's entity encoding of `&`, `<`, `>` (how Slack delivers characters a user typed). */
export function decodeSlackEntities(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/**
 * A message event's text as the plain words the user wrote: mentions of the bot removed, other
 * markup shown the way Slack displays it (`<@U1>` → `@U1`, `<#C1|general>` → `#general`,
 * `<!here>` → `@here`, `<https://x|label>` → `label`), entities decoded.
 */
export function messageTextToPlain(text: string, botUserId: string): string {
  const withoutBot = text.replace(new RegExp(`<@${escapeRegExp(botUserId)}(?:\\|[^>]*)?>`, "g"), " ");
  const plain = withoutBot.replace(/<([^<>]*)>/g, (_whole, inner: string) => {
    const [target = "", label] = inner.split("|", 2);
    if (target.startsWith("@")) return label ? `@${label}` : target;
    if (target.startsWith("#")) return label ? `#${label}` : target;
    if (target.startsWith("!")) {
      const special = target.slice(1).split("^")[0] ?? "";
      return label ?? `@${special}`;
    }
    return label ?? target;
  });
  return decodeSlackEntities(plain)
    .replace(/[ \t]+/g, " ")
    .trim();
}

/**
 * A slash command's text as plain text. Slack encodes the three control characters a user
 * types; anything looking like markup is kept literally (it is shown, never acted on).
 */
export function commandTextToPlain(text: string): string {
  return decodeSlackEntities(text).trim();
}

/** Whether a message event's text mentions the bot. */
export function mentionsUser(text: string, userId: string): boolean {
  return new RegExp(`<@${escapeRegExp(userId)}(?:\\|[^>]*)?>`).test(text);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
