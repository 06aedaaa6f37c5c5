/**
 * Where the load's time goes (issue 15, goal 5): CPU per process (and the bot's main thread),
 * how busy each was in the Discord side's tail, and each run's timeline. Tables for
 * bench/RESULTS.md.
 */
import type { CheckCost } from "./bot-process.js";
import type { Platform } from "./fakes.js";
import type { LatencyResult, LoadResult, Spread, Timeline } from "./scenarios.js";

export interface EvidenceInput {
  bare: { latency: LatencyResult[]; load?: LoadResult; loadAfterSent?: LoadResult };
  ours: { latency: LatencyResult[]; load?: LoadResult; loadAfterSent?: LoadResult; checkCost?: CheckCost };
  cores: number;
}

const f0 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(0));
const f1 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(1));
const f2 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(2));
const name = (platform: Platform) => (platform === "slack" ? "Slack" : "Discord");
const PLATFORMS: Platform[] = ["slack", "discord"];

/** CPU ms per 4K image, one run at a time, for one bot and platform: each process and their sum. */
function perImage(latency: LatencyResult[], platform: Platform) {
  const cpu = latency.find((l) => l.platform === platform && l.tier === "4K")?.cpuPerImage;
  if (!cpu) return undefined;
  const bot = cpu.bot ?? Number.NaN;
  const fakes = (cpu.driver ?? Number.NaN) + (cpu.seedream ?? Number.NaN);
  return { bot, botMain: cpu.botMain ?? Number.NaN, fakes, all: bot + fakes };
}

/** Each load's tail: from the ideal's end to the Discord side's last image, cores per process. */
function tailRows(results: (LoadResult | undefined)[], cores: number): string[] {
  const cells = (pick: (tail: NonNullable<LoadResult["tail"]>) => string) =>
    results.map((r) => (r?.tail ? pick(r.tail) : "—")).join(" | ");
  return [
    `| tail: ideal's end → Discord's last image | ${cells((t) => `${f1(t.windowMs / 1000)} s`)} |`,
    `| bot, all threads (cores) | ${cells((t) => f2(t.cores.bot))} |`,
    `| bot's main thread (share of one core) | ${cells((t) => `**${f0(t.cores.botMain * 100)} %**`)} |`,
    `| driver (Slack + Discord fakes) | ${cells((t) => f2(t.cores.driver))} |`,
    `| fake Seedream | ${cells((t) => f2(t.cores.seedream))} |`,
    `| the whole machine | ${cells((t) => `${f2(t.machine)} of ${cores}`)} |`,
  ];
}

export function loadEvidence(input: EvidenceInput): string[] {
  const { bare, ours, cores } = input;
  if (!ours.load || !bare.load) return [];
  const lines: string[] = [];

  lines.push(
    "## Where the load's time goes",
    "",
    "### CPU per 4K image, one run at a time (ms, from /proc: every thread of each process)",
    "",
    "The latency runs above, 4K: each process's CPU over the runs divided by the images delivered",
    "(mention, status, summary included). The driver holds the Slack and Discord fakes; the fake",
    "Seedream encodes each event. All share this machine's cores with the bot.",
    "",
    "| platform | bare: bot (main thread) | bare: driver + Seedream | bare: all | ours: bot (main thread) | ours: driver + Seedream | ours: all |",
    "|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const platform of PLATFORMS) {
    const theirs = perImage(bare.latency, platform);
    const mine = perImage(ours.latency, platform);
    lines.push(
      `| ${name(platform)} 4K | ${f0(theirs?.bot)} (${f0(theirs?.botMain)}) | ${f0(theirs?.fakes)} | ${f0(theirs?.all)} | ${f0(mine?.bot)} (${f0(mine?.botMain)}) | ${f0(mine?.fakes)} | ${f0(mine?.all)} |`,
    );
  }
  lines.push(
    "",
    "One image at a time is the dearest case for the bot's GC: under the load one collection serves",
    "several images (the bot's CPU per image delivered under the load is below).",
  );
  if (ours.checkCost) {
    lines.push(
      "",
      `Ours' decode check alone (issue 9: every image decoded to the end), ${ours.checkCost.images} × the 4K JPEG one at a time in the bot's process: ${f1(ours.checkCost.cpuMs)} ms CPU, ${f1(ours.checkCost.wallMs)} ms wall per image.`,
    );
  }

  lines.push(
    "",
    "### After the ideal's end (the Discord side's tail)",
    "",
    "From the ideal's end (on the model's clock every run's second image is ready by then, or within",
    "the mention → request lag) to the Discord side's last image visible: how busy each process was.",
    "The bot's main thread runs all its JavaScript and the GC's pauses; it can use one core at most.",
    "",
    "| | bare, model clock | ours, model clock | bare, old pacing | ours, old pacing |",
    "|---|---:|---:|---:|---:|",
    ...tailRows([bare.load, ours.load, bare.loadAfterSent, ours.loadAfterSent], cores),
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
    cpuRow("bot, all threads", (r) => f2(r.cpu?.cores.bot)),
    cpuRow(
      "bot's main thread (share of one core)",
      (r) => `${f0((r.cpu?.cores.botMain ?? Number.NaN) * 100)} %`,
    ),
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
      return p
        ? `${f1(p.bot)} (${f0(p.botMain * 100)} %) / ${f1(p.driver)} / ${f1(p.seedream)} / ${f1(p.machine)}`
        : "—";
    };
    lines.push(
      "",
      "Per second of the load, model clock (cores: bot (its main thread, % of one core) / driver / fake Seedream / whole machine):",
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
