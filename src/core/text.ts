/**
 * The few text helpers every user-facing sentence needs, written once for the core and the
 * adapters. Lists use `Intl.ListFormat` (British English: no serial comma, "2K or 4K").
 */

const conjunction = new Intl.ListFormat("en-GB", { type: "conjunction" });
const disjunction = new Intl.ListFormat("en-GB", { type: "disjunction" });

/** "a, b and c". */
export const andList = (items: readonly string[]): string => conjunction.format(items);

/** "a, b or c". */
export const orList = (items: readonly string[]): string => disjunction.format(items);

/** "1 image", "3 images"; `many` for words whose plural is not just an added "s". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** The word alone: `pluralWord(2, "permission")` → "permissions". */
export function pluralWord(count: number, one: string, many = `${one}s`): string {
  return count === 1 ? one : many;
}

/**
 * Cuts `text` to at most `limit` UTF-16 code units (what Slack and Discord count) including the
 * closing "…", never splitting a character in two. Being a bound in units, it is also a bound in
 * code points for limits stated that way.
 */
export function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let cut = Math.max(0, limit - 1);
  const last = text.charCodeAt(cut - 1);
  // A high surrogate at the cut would leave half a character behind.
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut)}…`;
}
