/**
 * Delivery benchmark (issue 15): our bot against a bare baseline bot doing the same job, in the
 * same run, against the same fakes. Each bot runs in its own process, started twice: once with
 * the default limits (per-image latency, platform calls per run, status edits for 24 queued
 * runs) and once with MAX_CONCURRENT_RUNS=100 so that the load's runs really run at once.
 * Run: npm run bench -- delivery  (or delivery:latency, delivery:calls, delivery:queue,
 * delivery:load). Writes its section of bench/RESULTS.md and the README's table.
 */
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import type { CheckCost, LoopReport } from "./delivery/bot-process.js";
import { type BotKind, BotUnderTest } from "./delivery/bots.js";
import { BenchFakes, type Platform } from "./delivery/fakes.js";
import { loadEvidence } from "./delivery/load-evidence.js";
import {
  type CallsResult,
  calls,
  type LatencyResult,
  type LoadResult,
  latency,
  load,
  type QueueResult,
  queue,
} from "./delivery/scenarios.js";
import { writeReadmeSection, writeResultsSection } from "./results-file.js";

export const DELIVERY_PARTS = ["latency", "calls", "queue", "load"] as const;
export type DeliveryPart = (typeof DELIVERY_PARTS)[number];

/** The load: runs per platform (both platforms at once), and Seedream's time per 4K image. */
const LOAD = { runsPerPlatform: 25, imageDelayMs: 5_000 } as const;
const LATENCY_RUNS = 10;
const QUEUED_RUNS = 24;
const PLATFORMS: Platform[] = ["slack", "discord"];

/** Figures issue 15 recorded when it was filed (its own measurement, before the work). */
const AT_FILING = {
  latency: { "slack 2K": [10.6, 16.4], "slack 4K": [33.6, 99], "discord 4K": [28, 85] } as Record<
    string,
    [number, number]
  >,
  discordRest: 8,
  statusEdits: { discord: 146, slack: 52 } as Record<Platform, number>,
  discordLoadRatio: 1.54,
} as const;

interface BotResults {
  latency: LatencyResult[];
  calls?: CallsResult;
  queue: QueueResult[];
  /** The load on the fake Seedream's model clock (as the real API paces images): the headline. */
  load?: LoadResult;
  /** The same load with each image's delay counted from the previous write flushed (the old fake). */
  loadAfterSent?: LoadResult;
  checkCost?: CheckCost;
}

/** Settings of ours in the load (the bare bot has no limits to raise). */
const LOAD_ENV = { MAX_CONCURRENT_RUNS: "100" };

async function measureBot(kind: BotKind, fakes: BenchFakes, parts: Set<DeliveryPart>): Promise<BotResults> {
  const results: BotResults = { latency: [], queue: [] };
  if (parts.has("latency") || parts.has("calls") || parts.has("queue")) {
    fakes.forget();
    const bot = await BotUnderTest.start(kind, fakes);
    try {
      // Warm-up: the first run of a process pays for JIT and connections.
      await latency(bot, fakes, "slack", "2K", 100, 1);
      await latency(bot, fakes, "discord", "2K", 101, 1);
      if (parts.has("latency")) {
        let seat = 0;
        for (const platform of PLATFORMS) {
          for (const tier of ["2K", "4K"] as const) {
            results.latency.push(await latency(bot, fakes, platform, tier, seat, LATENCY_RUNS));
            seat += LATENCY_RUNS;
          }
        }
      }
      if (parts.has("calls")) results.calls = await calls(bot, fakes, 102);
      if (parts.has("queue")) {
        for (const [i, platform] of PLATFORMS.entries())
          results.queue.push(await queue(bot, fakes, platform, 30 + i * QUEUED_RUNS, QUEUED_RUNS));
      }
    } finally {
      await bot.stop();
    }
  }
  if (parts.has("load")) {
    // Each pacing in a fresh process, so neither inherits the other's heap or store.
    for (const pacing of ["after-sent", "generation"] as const) {
      fakes.forget();
      const bot = await BotUnderTest.start(kind, fakes, LOAD_ENV);
      try {
        await latency(bot, fakes, "slack", "4K", 103, 1);
        await latency(bot, fakes, "discord", "4K", 104, 1);
        if (pacing === "generation") results.checkCost = await bot.checkCost(10);
        const result = await load(bot, fakes, LOAD.runsPerPlatform, LOAD.imageDelayMs, PLATFORMS, pacing);
        if (pacing === "generation") results.load = result;
        else results.loadAfterSent = result;
      } finally {
        await bot.stop();
      }
    }
  }
  if (process.env.BENCH_DUMP)
    writeFileSync(`${process.env.BENCH_DUMP}-${kind}.json`, JSON.stringify(results, null, 2));
  return results;
}

const f0 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(0));
const f1 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(1));
const f2 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(2));

function latencyTable(bare: BotResults, ours: BotResults): string[] {
  if (ours.latency.length === 0) return [];
  const rows = ours.latency.map((mine) => {
    const theirs = bare.latency.find((b) => b.platform === mine.platform && b.tier === mine.tier);
    const key = `${mine.platform} ${mine.tier}`;
    const filed = AT_FILING.latency[key];
    return `| ${mine.platform === "slack" ? "Slack" : "Discord"} ${mine.tier} | ${f1(theirs?.medianMs)} | ${f1(mine.medianMs)} | ${f2((theirs?.medianMs ?? Number.NaN) / mine.medianMs)}× | ${filed ? `${filed[0]} (bare ${filed[1]})` : "—"} |`;
  });
  return [
    `## Per image: Seedream's event written → the image visible at the fake (median ms, ${LATENCY_RUNS} runs × 2 images, one run at a time)`,
    "",
    "| platform, size | bare | ours | bare / ours | ours at filing |",
    "|---|---:|---:|---:|---|",
    ...rows,
  ];
}

function callsTable(bare: BotResults, ours: BotResults): string[] {
  if (!ours.calls || !bare.calls) return [];
  return [
    "## Platform calls per 2-image mention run (counted at the fakes; exact counts are asserted in tests)",
    "",
    "| calls | bare | ours | goal | ours at filing |",
    "|---|---:|---:|---|---:|",
    `| Discord REST requests | ${bare.calls.discordRest} | ${ours.calls.discordRest} | ≤ images + 3 = 5 | ${AT_FILING.discordRest} |`,
    `| Slack Web API calls + upload POSTs | ${bare.calls.slackCalls} | ${ours.calls.slackCalls} | ≤ images × (3 upload steps + 1 buttons message) + 3 = 11 | 8 (before the buttons) |`,
  ];
}

function queueTable(bare: BotResults, ours: BotResults): string[] {
  if (ours.queue.length === 0) return [];
  const rows = ours.queue.map((mine) => {
    const theirs = bare.queue.find((b) => b.platform === mine.platform);
    return `| ${mine.platform === "slack" ? "Slack" : "Discord"} | ${theirs ? `${theirs.statusEdits} (no status line, no queue; ${f1(theirs.wallMs / 1000)} s)` : "—"} | ${mine.statusEdits} (${f1(mine.statusEdits / mine.served)} per run; ${f1(mine.wallMs / 1000)} s) | ${AT_FILING.statusEdits[mine.platform]} |`;
  });
  return [
    `## Status edits while ${QUEUED_RUNS} users ask at once (MAX_CONCURRENT_RUNS=4 and MAX_QUEUE_LENGTH=20, the defaults: 4 run, 20 wait; 2 images each, 0.5 s apart)`,
    "",
    "| platform | bare | ours (per served run; wall time) | ours at filing |",
    "|---|---|---|---:|",
    ...rows,
  ];
}

function loadTable(bare: BotResults, ours: BotResults): string[] {
  const mine = ours.load;
  const theirs = bare.load;
  if (!mine || !theirs) return [];
  const side = (result: LoadResult, platform: Platform) => result.sides.find((s) => s.platform === platform);
  const row = (label: string, value: (result: LoadResult) => string, goal: string) =>
    `| ${label} | ${value(theirs)} | ${value(mine)} | ${goal} |`;
  const ratio = (result: LoadResult, platform: Platform) => {
    const s = side(result, platform);
    return s
      ? `${f1(s.wallMs / 1000)} s / ${f1(s.idealMs / 1000)} s = **${f2(s.wallMs / s.idealMs)}×**`
      : "—";
  };
  const loop = (report: LoopReport) =>
    `p99 **${f1(report.p99)}** ms (p50 ${f1(report.p50)}, max ${f0(report.max)})`;
  const old = (results: BotResults, platform: Platform) =>
    results.loadAfterSent ? ratio(results.loadAfterSent, platform).replaceAll("**", "") : "—";
  return [
    `## ${LOAD.runsPerPlatform * PLATFORMS.length} concurrent 2-image 4K runs: ${LOAD.runsPerPlatform} in Slack and ${LOAD.runsPerPlatform} in Discord at once`,
    "",
    `Every run its own user and channel, all mentioned within a few ms; Seedream takes ${LOAD.imageDelayMs / 1000} s per image. Ours`,
    `with MAX_CONCURRENT_RUNS=${LOAD_ENV.MAX_CONCURRENT_RUNS} (the default 4 would queue 46 of them). Ideal wall time: the latest mention`,
    "plus Seedream's 2 × per-image time, as if the bot and the platforms cost nothing; wall time: the first",
    "mention to the last image visible. Event-loop delay (`perf_hooks.monitorEventLoopDelay`, 1 ms",
    "resolution) and peak RSS (sampled every 5 ms) are the bot process's alone.",
    "",
    "Seedream's pacing: on the model's own clock (the fake's default since this run): image k is ready",
    "at the request plus k × 5 s and is written as soon as it is ready and the one before it is written,",
    "as the real API keeps generating while a slow reader still takes the last image. Old pacing (the",
    "fake before): each image's 5 s began only once the previous image's write had been flushed, so a",
    "bot that left image 1 unread for a while (8 images in flight at most) also had image 2 made later;",
    "the same load, each bot in a fresh process, is shown under both. All other rows: model clock.",
    "",
    "| | bare | ours | goal |",
    "|---|---|---|---|",
    row("images delivered", (r) => r.sides.map((s) => `${s.delivered}/${s.expected}`).join(" + "), "all"),
    row("Slack: wall / ideal", (r) => ratio(r, "slack"), "—"),
    row("Discord: wall / ideal", (r) => ratio(r, "discord"), "≤ 1.2× (at filing: 1.54×)"),
    `| Slack, old pacing: wall / ideal | ${old(bare, "slack")} | ${old(ours, "slack")} | — |`,
    `| Discord, old pacing: wall / ideal | ${old(bare, "discord")} | ${old(ours, "discord")} | (before this run: 1.30×, bare 1.30×) |`,
    row(
      "per image, Seedream → visible (p50 / p99)",
      (r) => r.sides.map((s) => `${s.platform} ${f0(s.imageLagP50)} / ${f0(s.imageLagP99)} ms`).join("; "),
      "—",
    ),
    row("event-loop delay", (r) => loop(r.loop), "p99 < 100 ms"),
    row(
      "peak RSS (at the highest sample: V8 heap used, Buffers)",
      (r) =>
        `**${f0(r.loop.peakRssMiB)}** MiB (${f0(r.loop.atPeak.heapUsed)}, ${f0(r.loop.atPeak.external)}; ${f0(r.loop.startRssMiB)} before the load)`,
      "< 512 MiB",
    ),
    row("the fakes' own event-loop delay p99 (driver process)", (r) => `${f1(r.fakesLoopP99)} ms`, "—"),
  ];
}

export async function runDelivery(parts: Set<DeliveryPart>): Promise<void> {
  const started = new Date();
  const load = loadavg()[0] ?? 0;
  const fakes = await BenchFakes.start();
  let bare: BotResults;
  let ours: BotResults;
  try {
    console.log("delivery: bare bot");
    bare = await measureBot("bare", fakes, parts);
    console.log("delivery: ours");
    ours = await measureBot("ours", fakes, parts);
  } finally {
    await fakes.close();
  }
  const sections = [
    latencyTable(bare, ours),
    callsTable(bare, ours),
    queueTable(bare, ours),
    loadTable(bare, ours),
    loadEvidence({ bare, ours, cores: cpus().length }),
  ].filter((lines) => lines.length > 0);
  const report = [
    "# Delivery benchmark: the bot against a bare bot, same fakes, same run",
    "",
    "Ours runs in embedded mode (`main()`: Slack over HTTP and Discord in one process, the default sqlite:// store), the bare",
    "baseline (`bench/delivery/bare-bot.ts`: Bolt + discord.js + eventsource-parser, no status, no",
    "queue, no checks, no buttons) the same way; each in its own process, talking to the repo's",
    "Slack and Discord fakes (the driver's process) and the fake Seedream (its own process), all on",
    "127.0.0.1. Images are real JPEGs: 4K 4096×4096 of 3.5 MB, 2K 2048×2048 of 0.9 MB, as",
    `\`b64_json\` in the stream. Node ${process.version}, ${cpus().length} cores, load average ${load.toFixed(1)} at start`,
    `(other work on the machine slows both bots alike), ${started.toISOString().slice(0, 16).replace("T", " ")} UTC.`,
    "`npm run bench -- delivery` to reproduce (parts: `delivery:latency`, `delivery:calls`,",
    '`delivery:queue`, `delivery:load`). "At filing": the figures issue 15 recorded before the work.',
    "",
    ...sections.flatMap((lines) => [...lines, ""]),
  ].join("\n");
  console.log(`\n${report}`);
  // A partial run only prints: RESULTS.md and the README always show one whole run.
  if (parts.size < DELIVERY_PARTS.length) {
    console.log("(a partial run: bench/RESULTS.md and the README are left as they are)");
    return;
  }
  writeResultsSection("delivery", report);
  writeReadmeSection("delivery", readmeTable(bare, ours, load));
}

function readmeTable(bare: BotResults, ours: BotResults, load: number): string {
  const lines: string[] = [
    `Measured by \`npm run bench\` (${new Date().toISOString().slice(0, 10)}, 2 cores, load average ${load.toFixed(1)}; full tables`,
    "in [`bench/RESULTS.md`](bench/RESULTS.md)), against a bare bot doing the same job in the same run;",
    '"at filing": what issue 15 recorded before the work.',
    "",
    "| figure | bare bot | seedream-bot | at filing | goal (issue 15) |",
    "|---|---:|---:|---:|---|",
  ];
  const name = (platform: Platform) => (platform === "slack" ? "Slack" : "Discord");
  for (const mine of ours.latency) {
    const theirs = bare.latency.find((b) => b.platform === mine.platform && b.tier === mine.tier);
    const filed = AT_FILING.latency[`${mine.platform} ${mine.tier}`];
    lines.push(
      `| ${name(mine.platform)} ${mine.tier}: image → visible, median | ${f1(theirs?.medianMs)} ms | ${f1(mine.medianMs)} ms | ${filed ? `${filed[0]} ms (bare ${filed[1]})` : "—"} | — |`,
    );
  }
  if (ours.calls && bare.calls) {
    lines.push(
      `| Discord REST calls per 2-image run | ${bare.calls.discordRest} | ${ours.calls.discordRest} | ${AT_FILING.discordRest} | ≤ 5 |`,
    );
    lines.push(
      `| Slack calls per 2-image run (upload steps + buttons) | ${bare.calls.slackCalls} | ${ours.calls.slackCalls} | 8 (no buttons yet) | ≤ 11 |`,
    );
  }
  for (const mine of ours.queue) {
    const theirs = bare.queue.find((b) => b.platform === mine.platform);
    lines.push(
      `| ${name(mine.platform)}: status edits, 24 served queued runs | ${theirs?.statusEdits ?? "—"} (no status) | ${mine.statusEdits} | ${AT_FILING.statusEdits[mine.platform]} | positions ≤ 1 per 5 s per waiting run |`,
    );
  }
  if (ours.load && bare.load) {
    const side = (r: LoadResult, p: Platform) => r.sides.find((s) => s.platform === p);
    const ratio = (r: LoadResult, p: Platform) => {
      const s = side(r, p);
      return s ? `${f2(s.wallMs / s.idealMs)}×` : "—";
    };
    const delivered = (r: LoadResult) =>
      `${r.sides.reduce((n, s) => n + s.delivered, 0)}/${r.sides.reduce((n, s) => n + s.expected, 0)}`;
    const runs = LOAD.runsPerPlatform * PLATFORMS.length;
    lines.push(
      `| ${runs} concurrent 4K runs: images delivered | ${delivered(bare.load)} | ${delivered(ours.load)} | — | all |`,
    );
    lines.push(
      `| … Discord wall / ideal time | ${ratio(bare.load, "discord")} | ${ratio(ours.load, "discord")} | ${AT_FILING.discordLoadRatio}× | ≤ 1.2× |`,
    );
    lines.push(
      `| … Slack wall / ideal time | ${ratio(bare.load, "slack")} | ${ratio(ours.load, "slack")} | ≈ 1× | — |`,
    );
    if (bare.loadAfterSent && ours.loadAfterSent) {
      lines.push(
        `| … Discord wall / ideal, the fake's old pacing | ${ratio(bare.loadAfterSent, "discord")} | ${ratio(ours.loadAfterSent, "discord")} | — | — |`,
      );
    }
    lines.push(
      `| … event-loop delay p99 | ${f1(bare.load.loop.p99)} ms | ${f1(ours.load.loop.p99)} ms | "past 100 ms" (estimated) | < 100 ms |`,
    );
    lines.push(
      `| … peak RSS | ${f0(bare.load.loop.peakRssMiB)} MiB | ${f0(ours.load.loop.peakRssMiB)} MiB | — | < 512 MiB |`,
    );
  }
  lines.push(
    "",
    "Memory over a 15 × 4K stream: the memory benchmark below (`npm run bench -- memory`). Notes on these",
    "figures (what is met and what is not, before and after, the sqlite store under load) are in",
    "`bench/RESULTS.md` after the delivery tables.",
  );
  return lines.join("\n");
}
