/**
 * Where the load's time goes (issue 15, goal 5): CPU per process, the least time the second
 * images can take on the cores there are, and each run's timeline. Tables for bench/RESULTS.md.
 */
import type { CheckCost } from "./bot-process.js";
import type { Platform } from "./fakes.js";
import type { LatencyResult, LoadResult, Spread, Timeline } from "./scenarios.js";

export interface EvidenceInput {
  bare: { latency: LatencyResult[]; load?: LoadResult; loadAfterSent?: LoadResult };
  ours: { latency: LatencyResult[]; load?: LoadResult; loadAfterSent?: LoadResult; checkCost?: CheckCost };
  runsPerPlatform: number;
  cores: number;
}

const f0 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(0));
const f1 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(1));
const f2 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(2));
const name = (platform: Platform) => (platform === "slack" ? "Slack" : "Discord");
const PLATFORMS: Platform[] = ["slack", "discord"];

/** MB of each tier's JPEG (bench/delivery/photos.ts), to scale the per-byte part of the CPU. */
const TIER_MB = { "2K": 0.9, "4K": 3.5 } as const;

/**
 * CPU ms per 4K image, one run at a time, for one bot and platform: each process and their sum;
 * `sized`: only the part that grows with the image's bytes (the 4K and 2K figures' difference
 * per MB, times 4K's MB), which leaves out each run's fixed work (mention, status, summary).
 */
function perImage(latency: LatencyResult[], platform: Platform) {
  const at = (tier: "2K" | "4K") =>
    latency.find((l) => l.platform === platform && l.tier === tier)?.cpuPerImage;
  const big = at("4K");
  const small = at("2K");
  if (!big) return undefined;
  const whole = (cpu: Record<string, number> | undefined, key: string) => cpu?.[key] ?? Number.NaN;
  const sized = (key: string) =>
    ((whole(big, key) - whole(small, key)) / (TIER_MB["4K"] - TIER_MB["2K"])) * TIER_MB["4K"];
  const bot = whole(big, "bot");
  const fakes = whole(big, "driver") + whole(big, "seedream");
  return {
    bot,
    fakes,
    all: bot + fakes,
    sizedBot: sized("bot"),
    sizedAll: sized("bot") + sized("driver") + sized("seedream"),
  };
}

type Share = "all" | "bot" | "sizedAll" | "sizedBot";

/**
 * The least wall time the load can take on `cores`, from the one-at-a-time CPU per image: every
 * run's second image is ready at the same moment (the ideal's end, on the model's clock) and
 * none of its work can start before, so the last one cannot be visible before the CPU all of
 * them need has been spent on the cores there are. Read as a ratio to the ideal.
 */
function floor(latency: LatencyResult[], runs: number, cores: number, idealMs: number, share: Share) {
  const slack = perImage(latency, "slack");
  const discord = perImage(latency, "discord");
  if (!slack || !discord) return undefined;
  const drainMs = (runs * (slack[share] + discord[share])) / cores;
  return { drainMs, ratio: (idealMs + drainMs) / idealMs };
}

export function loadEvidence(input: EvidenceInput): string[] {
  const { bare, ours, runsPerPlatform, cores } = input;
  if (!ours.load || !bare.load) return [];
  const lines: string[] = [];
  const ideal = ours.load.sides.find((s) => s.platform === "discord")?.idealMs ?? Number.NaN;

  lines.push(
    "## Where the load's time goes",
    "",
    "### CPU per 4K image, one run at a time (ms, from /proc: every thread of each process)",
    "",
    "The latency runs above, 4K: each process's CPU over the runs divided by the images delivered",
    "(mention, status, summary included). The driver holds the Slack and Discord fakes; the fake",
    "Seedream encodes each event. All share this machine's cores with the bot.",
    "",
    "| platform | bare: bot | bare: driver + Seedream | bare: all (sized part) | ours: bot | ours: driver + Seedream | ours: all (sized part) |",
    "|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const platform of PLATFORMS) {
    const theirs = perImage(bare.latency, platform);
    const mine = perImage(ours.latency, platform);
    lines.push(
      `| ${name(platform)} 4K | ${f0(theirs?.bot)} | ${f0(theirs?.fakes)} | ${f0(theirs?.all)} (${f0(theirs?.sizedAll)}) | ${f0(mine?.bot)} | ${f0(mine?.fakes)} | ${f0(mine?.all)} (${f0(mine?.sizedAll)}) |`,
    );
  }
  lines.push(
    "",
    "Sized part: what grows with the image's bytes, (4K − 2K) per MB × 3.5 MB, leaving out each",
    "run's fixed work; the floor below uses it, so it cannot be blamed on per-run overheads.",
  );
  if (ours.checkCost) {
    lines.push(
      "",
      `Ours' decode check alone (issue 9: every image decoded to the end), ${ours.checkCost.images} × the 4K JPEG one at a time in the bot's process: ${f1(ours.checkCost.cpuMs)} ms CPU, ${f1(ours.checkCost.wallMs)} ms wall per image.`,
    );
  }

  const at = (which: EvidenceInput["bare"], share: Share) => {
    const f = floor(which.latency, runsPerPlatform, cores, ideal, share);
    return f ? `${f2(f.ratio)}× (${f1(f.drainMs / 1000)} s)` : "—";
  };
  const budgetMs = (0.2 * ideal * cores) / (2 * runsPerPlatform);
  lines.push(
    "",
    "### The least time the load can take on these cores",
    "",
    `On the model's clock every run's second image is ready at about the same moment, the ideal's end (${f1(ideal / 1000)} s), and none`,
    `of its work can begin before it: the last image cannot be visible before the CPU all ${2 * runsPerPlatform} second images need`,
    `(the per-image figures above, ${runsPerPlatform} Slack + ${runsPerPlatform} Discord) has been spent on ${cores} cores. 1.2× leaves ${f1((0.2 * ideal) / 1000)} s`,
    `for that, i.e. **${f0(budgetMs)} ms of CPU per image** for the bot and the fakes together.`,
    "",
    "| least wall / ideal (time to drain the second images), counting … | bare | ours |",
    "|---|---:|---:|",
    `| the sized part, bot and fakes (they share the cores, as here) | ${at(bare, "sizedAll")} | ${at(ours, "sizedAll")} |`,
    `| the whole per-image CPU, bot and fakes | ${at(bare, "all")} | ${at(ours, "all")} |`,
    `| the sized part, the bot alone (as if the fakes cost nothing) | ${at(bare, "sizedBot")} | ${at(ours, "sizedBot")} |`,
    `| the whole per-image CPU, the bot alone | ${at(bare, "bot")} | ${at(ours, "bot")} |`,
    "",
    "A floor, not an estimate: it assumes perfect use of both cores, no contention and nothing else",
    "on the machine; the measured ratios below sit above it.",
  );

  const cpuRow = (label: string, pick: (r: LoadResult) => string) =>
    `| ${label} | ${bare.load ? pick(bare.load) : "—"} | ${ours.load ? pick(ours.load) : "—"} | ${bare.loadAfterSent ? pick(bare.loadAfterSent) : "—"} | ${ours.loadAfterSent ? pick(ours.loadAfterSent) : "—"} |`;
  lines.push(
    "",
    "### CPU under the load (first mention → last image visible; cores used on average)",
    "",
    "| | bare, model clock | ours, model clock | bare, old pacing | ours, old pacing |",
    "|---|---:|---:|---:|---:|",
    cpuRow("window", (r) => `${f1((r.cpu?.windowMs ?? Number.NaN) / 1000)} s`),
    cpuRow("bot", (r) => f2(r.cpu?.cores.bot)),
    cpuRow("driver (Slack + Discord fakes)", (r) => f2(r.cpu?.cores.driver)),
    cpuRow("fake Seedream", (r) => f2(r.cpu?.cores.seedream)),
    cpuRow("the three together", (r) =>
      f2(
        (r.cpu?.cores.bot ?? Number.NaN) +
          (r.cpu?.cores.driver ?? Number.NaN) +
          (r.cpu?.cores.seedream ?? Number.NaN),
      ),
    ),
    cpuRow("the whole machine (other work too)", (r) => `${f2(r.cpu?.machine)} of ${cores}`),
    cpuRow("bot CPU per image delivered", (r) => `${f0(r.cpu?.botMsPerImage)} ms`),
  );

  const perSecond = (r: LoadResult | undefined) => r?.cpu?.perSecond ?? [];
  const seconds = Math.max(perSecond(bare.load).length, perSecond(ours.load).length);
  if (seconds > 0) {
    const cell = (r: LoadResult | undefined, s: number) => {
      const p = perSecond(r)[s];
      return p ? `${f1(p.bot)} / ${f1(p.driver)} / ${f1(p.seedream)} / ${f1(p.machine)}` : "—";
    };
    lines.push(
      "",
      "Per second of the load, model clock (cores: bot / driver / fake Seedream / whole machine):",
      "",
      "| s | bare | ours |",
      "|---:|---|---|",
      ...Array.from(
        { length: seconds },
        (_, s) => `| ${s} | ${cell(bare.load, s)} | ${cell(ours.load, s)} |`,
      ),
    );
  }

  lines.push(
    "",
    "### Each run's timeline (ms; p50 / p90 / max over the runs)",
    "",
    "Stamped in each process on one wall clock: the mention sent (driver) → the request at the",
    "fake Seedream → each image's write begun and flushed there (a write lasts as long as the bot",
    "leaves the socket unread) → Discord: the upload's POST begun at the fake → the image visible.",
    "",
  );
  const spread = (s: Spread | undefined) => (s ? `${f0(s.p50)} / ${f0(s.p90)} / ${f0(s.max)}` : "—");
  type Row = [string, (t: Timeline) => Spread | undefined];
  const rows: Row[] = [
    ["mention → request at Seedream", (t) => t.toRequest],
    ["request → image 1 write begun", (t) => t.toFirstWrite],
    ["image 1 write (begun → flushed)", (t) => t.write[0]],
    ["image 1 flushed → image 2 write begun", (t) => t.betweenWrites],
    ["image 2 write (begun → flushed)", (t) => t.write[1]],
    ["image 2 write begun → visible", (t) => t.secondReadyToVisible],
    ["Discord: flushed → upload POST begun (both images)", (t) => t.flushedToUpload],
    ["Discord: upload POST begun → visible", (t) => t.uploadToVisible],
  ];
  const results: [string, LoadResult | undefined][] = [
    ["bare, model clock", bare.load],
    ["ours, model clock", ours.load],
    ["bare, old pacing", bare.loadAfterSent],
    ["ours, old pacing", ours.loadAfterSent],
  ];
  for (const platform of PLATFORMS) {
    lines.push(
      `${name(platform)}:`,
      "",
      `| stage | ${results.map(([label]) => label).join(" | ")} |`,
      `|---|${results.map(() => "---").join("|")}|`,
    );
    for (const [label, pick] of rows) {
      if (platform === "slack" && label.startsWith("Discord")) continue;
      const cells = results.map(([, r]) => {
        const t = r?.sides.find((s) => s.platform === platform)?.timeline;
        return t ? spread(pick(t)) : "—";
      });
      lines.push(`| ${label} | ${cells.join(" | ")} |`);
    }
    const last = results.map(([, r]) => {
      const t = r?.sides.find((s) => s.platform === platform)?.timeline?.last;
      if (!t) return "—";
      const writes = t.writes.map(([a, b]) => `${f1(a / 1000)}–${f1(b / 1000)}`).join(", ");
      return `request ${f1(t.request / 1000)} s; writes ${writes}; ${t.upload === undefined ? "" : `upload ${f1(t.upload / 1000)}; `}visible ${f1(t.visible / 1000)}`;
    });
    lines.push(`| the last image's run (s from the first mention) | ${last.join(" | ")} |`, "");
  }
  const slots = ours.load.slots;
  if (slots) {
    lines.push(
      `Ours' images in flight (8 slots, model clock): an image waited ${spread(slots.wait)} ms for a slot and held it ${spread(slots.hold)} ms (p50 / p90 / max, ${slots.wait.count} images).`,
    );
  }
  return lines;
}
