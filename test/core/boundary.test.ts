import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The core must stay platform-neutral: no chat SDK and nothing from the adapters, so every
 * platform gets the same behaviour and the console adapter proves it.
 */

const root = fileURLToPath(new URL("../..", import.meta.url));
const coreDir = join(root, "src", "core");

const FORBIDDEN: ReadonlyArray<{ test: (specifier: string) => boolean; why: string }> = [
  { test: (s) => s.startsWith("@slack/"), why: "a Slack SDK" },
  {
    test: (s) => s === "discord.js" || s.startsWith("discord.js/") || s.startsWith("@discordjs/"),
    why: "discord.js",
  },
  { test: (s) => /(^|\/)adapters(\/|$)/.test(s), why: "an adapter" },
];

/** Static imports/exports, `import type`, dynamic `import()` and `require()`. */
const SPECIFIER =
  /\b(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\s+from\s+)?["'`]([^"'`]+)["'`]|\bimport\s*\(\s*["'`]([^"'`]+)["'`]\s*\)|\brequire\s*\(\s*["'`]([^"'`]+)["'`]\s*\)/g;

function importsOf(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((match) => match[1] ?? match[2] ?? match[3] ?? "");
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
    ),
  );
  return nested.flat();
}

describe("core boundary", () => {
  it("recognises every import form it polices", () => {
    const sample = [
      'import { App } from "@slack/bolt";',
      'import type { Client } from "discord.js";',
      "const x = await import('../../adapters/slack/app.js');",
      'const y = require("@discordjs/rest");',
      'export * from "../adapters/console/index.js";',
      'import "./side-effect.js";',
    ].join("\n");
    expect(importsOf(sample)).toEqual([
      "@slack/bolt",
      "discord.js",
      "../../adapters/slack/app.js",
      "@discordjs/rest",
      "../adapters/console/index.js",
      "./side-effect.js",
    ]);
  });

  it("src/core imports no chat SDK and nothing from adapters/", async () => {
    const files = (await filesUnder(coreDir)).filter((file) => /\.(c|m)?[jt]sx?$/.test(file));
    expect(files.length).toBeGreaterThan(5);
    const violations: string[] = [];
    for (const file of files) {
      for (const specifier of importsOf(await readFile(file, "utf8"))) {
        const rule = FORBIDDEN.find((candidate) => candidate.test(specifier));
        if (rule) violations.push(`${relative(root, file)} imports ${specifier} (${rule.why})`);
      }
    }
    expect(violations).toEqual([]);
  });
});
