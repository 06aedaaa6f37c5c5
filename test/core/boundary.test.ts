import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Imports run one way: entry points (`src/main.ts`, `src/app.ts`, `src/cli`) → adapters → core →
 * API client. The core stays platform-neutral (no chat SDK, no adapter, no app config), so every
 * platform gets the same behaviour and the console adapter proves it; adapters never reach back
 * into the entry points; and nothing anywhere imports in a circle.
 */

const root = fileURLToPath(new URL("../..", import.meta.url));

const isSlackSdk = (s: string) => s.startsWith("@slack/");
const isDiscordSdk = (s: string) =>
  s === "discord.js" || s.startsWith("discord.js/") || s.startsWith("@discordjs/");

interface Rule {
  /** Files (repository-relative, `/`-separated) the rule applies to. */
  from: (file: string) => boolean;
  /** The raw specifier, and the repository-relative file it resolves to (relative imports only). */
  forbids: (specifier: string, target: string | undefined) => boolean;
  why: string;
}

const RULES: readonly Rule[] = [
  { from: (f) => f.startsWith("src/core/"), forbids: (s) => isSlackSdk(s), why: "a Slack SDK" },
  { from: (f) => f.startsWith("src/core/"), forbids: (s) => isDiscordSdk(s), why: "discord.js" },
  {
    from: (f) => f.startsWith("src/core/"),
    forbids: (s, t) => t?.startsWith("adapters/") ?? /(^|\/)adapters(\/|$)/.test(s),
    why: "an adapter",
  },
  {
    from: (f) => f.startsWith("src/core/"),
    forbids: (_s, t) => t === "src/config.ts",
    why: "the app config (the core takes CoreSettings)",
  },
  {
    from: (f) => f.startsWith("adapters/"),
    forbids: (_s, t) => t === "src/main.ts" || t === "src/app.ts" || (t?.startsWith("src/cli/") ?? false),
    why: "an entry point",
  },
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
  return nested.flat().filter((file) => /\.(c|m)?tsx?$/.test(file) && !file.endsWith(".d.ts"));
}

/** `./x.js` written in `file` → the repository-relative source file it means, if it is one of ours. */
function resolveSpecifier(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const base = resolve(root, dirname(file), specifier);
  const candidates = [base, base.replace(/\.(c|m)?js$/, ".$1ts"), `${base}.ts`, join(base, "index.ts")];
  const found = candidates.find((candidate) => /\.(c|m)?tsx?$/.test(candidate) && existsSync(candidate));
  return found === undefined ? undefined : relative(root, found).split("\\").join("/");
}

type Graph = Map<string, string[]>;

async function importGraph(dirs: readonly string[]): Promise<Graph> {
  const graph: Graph = new Map();
  for (const dir of dirs) {
    for (const path of await filesUnder(join(root, dir))) {
      const file = relative(root, path).split("\\").join("/");
      const targets = importsOf(await readFile(path, "utf8")).flatMap((s) => resolveSpecifier(file, s) ?? []);
      graph.set(file, targets);
    }
  }
  return graph;
}

/** Every import cycle, each as the path that closes it (`a → b → a`); one per strongly connected set. */
function findCycles(graph: Graph): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const seen = state.get(next);
      if (seen === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (seen === undefined && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

function violations(sources: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [file, specifiers] of sources) {
    for (const specifier of specifiers) {
      const target = resolveSpecifier(file, specifier);
      const rule = RULES.find((candidate) => candidate.from(file) && candidate.forbids(specifier, target));
      if (rule) found.push(`${file} imports ${specifier} (${rule.why})`);
    }
  }
  return found;
}

async function specifiersByFile(dirs: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const dir of dirs) {
    for (const path of await filesUnder(join(root, dir))) {
      out.set(relative(root, path).split("\\").join("/"), importsOf(await readFile(path, "utf8")));
    }
  }
  return out;
}

const CHECKED = ["src", "adapters"] as const;

describe("import boundaries", () => {
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

  it("finds a cycle and names its path", () => {
    const graph: Graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
      ["d.ts", ["a.ts"]],
    ]);
    expect(findCycles(graph)).toEqual([["a.ts", "b.ts", "c.ts", "a.ts"]]);
    expect(
      findCycles(
        new Map([
          ["a.ts", ["b.ts"]],
          ["b.ts", []],
        ]),
      ),
    ).toEqual([]);
  });

  it("no import cycles anywhere in src/ and adapters/", async () => {
    const graph = await importGraph(CHECKED);
    expect(graph.size).toBeGreaterThan(40);
    expect(findCycles(graph).map((cycle) => cycle.join(" → "))).toEqual([]);
  });

  it("the core imports no chat SDK, adapter or app config; adapters import no entry point", async () => {
    const sources = await specifiersByFile(CHECKED);
    expect([...sources.keys()].filter((file) => file.startsWith("src/core/")).length).toBeGreaterThan(5);
    expect([...sources.keys()].filter((file) => file.startsWith("adapters/")).length).toBeGreaterThan(20);
    expect(violations(sources)).toEqual([]);
  });
});
