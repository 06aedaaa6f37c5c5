/**
 * BLOCKED_TERMS: words and phrases a prompt may not contain. Terms match case-insensitively as
 * whole words — "art" does not block "party" — with any run of spaces inside a phrase; terms in
 * a script written without spaces (Chinese, Japanese) match anywhere, since there are no word
 * boundaries to look for. Prompts and terms are compared after NFKC (full-width letters become
 * ASCII), lower-cased, with zero-width characters removed and spaces collapsed, so "ＧＯＲＥ" or
 * "go\u200bre" do not slip past. Each term is a native substring search over the prompt, then
 * a look at the characters either side: no regular expression to backtrack, even with
 * hundreds of terms.
 */

export type BlockedTermMatcher = (prompt: string) => string | undefined;

const UNSPACED_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const INVISIBLE = /[\u00AD\u200B-\u200D\u2060\uFEFF]/gu;
const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;

function normalise(text: string): string {
  return text.normalize("NFKC").replace(INVISIBLE, "").replace(/\s+/gu, " ").toLowerCase();
}

interface Term {
  /** As configured, for the message and the log. */
  name: string;
  needle: string;
  wholeWord: boolean;
}

/** The code point that ends just before `index` ("" at the start). */
function charBefore(text: string, index: number): string {
  if (index <= 0) return "";
  const unit = text.charCodeAt(index - 1);
  const start = unit >= 0xdc00 && unit <= 0xdfff && index >= 2 ? index - 2 : index - 1;
  return String.fromCodePoint(text.codePointAt(start) ?? 0);
}

function charAt(text: string, index: number): string {
  return index < text.length ? String.fromCodePoint(text.codePointAt(index) ?? 0) : "";
}

function occursAsWord(haystack: string, needle: string): boolean {
  // A term that starts (ends) with punctuation, like "c++", needs no boundary on that side.
  const checkStart = WORD_CHAR.test(charAt(needle, 0));
  const checkEnd = WORD_CHAR.test(charBefore(needle, needle.length));
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    const startsWord = !checkStart || !WORD_CHAR.test(charBefore(haystack, at));
    const endsWord = !checkEnd || !WORD_CHAR.test(charAt(haystack, at + needle.length));
    if (startsWord && endsWord) return true;
  }
  return false;
}

export function blockedTermMatcher(terms: readonly string[]): BlockedTermMatcher {
  const compiled: Term[] = [];
  const seen = new Set<string>();
  for (const name of terms) {
    const needle = normalise(name).trim();
    if (needle === "" || seen.has(needle)) continue;
    seen.add(needle);
    compiled.push({ name: name.trim(), needle, wholeWord: !UNSPACED_SCRIPT.test(needle) });
  }
  // Longer terms first, so "blood bath" is named rather than "blood" when both are listed.
  compiled.sort((a, b) => b.needle.length - a.needle.length);
  if (compiled.length === 0) return () => undefined;
  return (prompt) => {
    const text = normalise(prompt);
    const hit = compiled.find((term) =>
      term.wholeWord ? occursAsWord(text, term.needle) : text.includes(term.needle),
    );
    return hit?.name;
  };
}
