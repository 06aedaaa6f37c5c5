import { readFileSync, writeFileSync } from "node:fs";

/**
 * bench/RESULTS.md holds one section per benchmark, each between its own markers, so every
 * bench rewrites only its own numbers.
 */
const RESULTS = new URL("./RESULTS.md", import.meta.url);

export function writeResultsSection(name: string, markdown: string): void {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  let text = "";
  try {
    text = readFileSync(RESULTS, "utf8");
  } catch {
    // First run: the file is created.
  }
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const next =
    from >= 0 && to > from
      ? `${text.slice(0, from)}${block}${text.slice(to + end.length)}`
      : `${text.trim() === "" ? "" : `${text.trimEnd()}\n\n`}${block}\n`;
  writeFileSync(RESULTS, next);
}

const README = new URL("../README.md", import.meta.url);

/**
 * Replaces the README's block between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` (the
 * performance table a bench keeps current). The markers must exist: a README without them is
 * left alone, with a warning, rather than grown at an arbitrary place.
 */
export function writeReadmeSection(name: string, markdown: string): void {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const text = readFileSync(README, "utf8");
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    console.warn(`README.md has no ${start} … ${end} block; its table was not updated.`);
    return;
  }
  writeFileSync(README, `${text.slice(0, from)}${start}\n${markdown.trim()}\n${text.slice(to)}`);
}
