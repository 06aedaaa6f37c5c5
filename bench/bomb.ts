/**
 * Decompression-bomb benchmark (issue 9, item 7): four users each send a 16000×16000 PNG (a few
 * hundred KB that decode to 768 MB each) at once. Measures the peak RSS of a fresh process
 * preparing those references with the pre-fix pipeline (the baseline, in the same run) and with
 * the core's `prepareReferences` today, plus a legitimate heavy load (four 8000×8000 photos).
 *
 * Run: npm run bench:bomb  (node --import tsx bench/bomb.ts). Writes its section of bench/RESULTS.md.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { DEFAULT_REFERENCE_RULES } from "../src/core/image-normalise.js";
import type { Attachment } from "../src/core/ports.js";
import { prepareReferences } from "../src/core/references.js";
import { writeResultsSection } from "./results-file.js";

const USERS = 4;
const VARIANTS = {
  "bombs, before (pre-fix pipeline)": { input: "bomb", code: "before" },
  "bombs, after (prepareReferences)": { input: "bomb", code: "after" },
  "8000×8000 photos, after (prepareReferences)": { input: "photo", code: "after" },
} as const;
type Variant = keyof typeof VARIANTS;

interface Measurement {
  startRssMiB: number;
  peakRssMiB: number;
  wallMs: number;
  cpuMs: number;
  answered: number;
  outcome: string;
}

const inputs = {
  bomb: { file: join(tmpdir(), "seedream-bench-bomb-16000.png"), width: 16_000, format: "png" },
  photo: { file: join(tmpdir(), "seedream-bench-photo-8000.jpg"), width: 8_000, format: "jpeg" },
} as const;

async function ensureInput(kind: keyof typeof inputs): Promise<Buffer> {
  const { file, width, format } = inputs[kind];
  if (!existsSync(file)) {
    const bytes = await sharp({ create: { width, height: width, channels: 3, background: "#2b5d8a" } })
      .toFormat(format, format === "png" ? { compressionLevel: 9 } : {})
      .toBuffer();
    writeFileSync(file, bytes);
  }
  return readFileSync(file);
}

function attachment(name: string, bytes: Buffer): Attachment {
  return { name, fetch: async () => ({ body: Readable.from([bytes]), contentLength: bytes.byteLength }) };
}

/** What normaliseImage did before the fix for an image over 36 MP: header, then a full decode and resize. */
async function beforeFix(bytes: Buffer): Promise<string> {
  const meta = await sharp(bytes).metadata();
  const scale = Math.sqrt(DEFAULT_REFERENCE_RULES.maxPixels / (meta.width * meta.height));
  const out = await sharp(bytes)
    .autoOrient()
    .toColourspace("srgb")
    .resize(Math.floor(meta.width * scale), Math.floor(meta.height * scale), { fit: "fill" })
    .flatten({ background: "#ffffff" })
    .jpeg({ quality: 90 })
    .toBuffer();
  return `sent ${out.byteLength} bytes`;
}

async function afterFix(bytes: Buffer, user: number): Promise<string> {
  const [image] = await prepareReferences([attachment(`user${user}.png`, bytes)], DEFAULT_REFERENCE_RULES, {
    maxBytes: 15 * 1024 * 1024,
    timeoutMs: 120_000,
  });
  return `sent ${image?.width}×${image?.height}`;
}

/** Runs in a fresh child process: four users at once, RSS sampled every 5 ms. */
async function child(variant: Variant): Promise<void> {
  const { input, code } = VARIANTS[variant];
  const bytes = await ensureInput(input);
  const mib = (n: number) => n / (1024 * 1024);
  const startRss = process.memoryUsage.rss();
  let peak = startRss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: USERS }, (_, user) =>
      code === "before" ? beforeFix(bytes) : afterFix(bytes, user),
    ),
  );
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  const used = process.cpuUsage(cpu);
  const first = results[0];
  const outcome =
    first?.status === "fulfilled"
      ? first.value
      : String((first?.reason as { userMessage?: string })?.userMessage ?? first?.reason);
  const measurement: Measurement = {
    startRssMiB: mib(startRss),
    peakRssMiB: mib(peak),
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    answered: results.length,
    outcome,
  };
  process.stdout.write(JSON.stringify(measurement));
}

function measure(variant: Variant): Measurement {
  const out = execFileSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), variant], {
    encoding: "utf8",
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(out) as Measurement;
}

async function main(): Promise<void> {
  const bomb = await ensureInput("bomb");
  await ensureInput("photo");
  const load = loadavg()[0]?.toFixed(1);
  const rows: string[] = [];
  const peaks = new Map<Variant, number>();
  for (const variant of Object.keys(VARIANTS) as Variant[]) {
    const m = measure(variant);
    peaks.set(variant, m.peakRssMiB);
    console.log(variant, m);
    rows.push(
      `| ${variant} | ${m.startRssMiB.toFixed(0)} | ${m.peakRssMiB.toFixed(0)} | ${(m.wallMs / 1000).toFixed(2)} | ${(m.cpuMs / 1000).toFixed(2)} | ${m.answered}/${USERS}: ${m.outcome.replace(/\|/g, "\\|")} |`,
    );
  }
  const before = peaks.get("bombs, before (pre-fix pipeline)") ?? 0;
  const after = peaks.get("bombs, after (prepareReferences)") ?? 1;
  const report = [
    "# Decompression-bomb benchmark",
    "",
    `Four users at once each send a 16000×16000 PNG (${(bomb.byteLength / 1024).toFixed(0)} KB, 768 MB decoded);`,
    "for comparison, four users each send an 8000×8000 JPEG photo, which is still accepted and scaled",
    "to 6000×6000. Each row is a fresh Node process; RSS sampled every 5 ms. The baseline is the",
    "pre-fix pipeline (header, then full decode and resize), run in the same session.",
    `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, load average at start ${load} on ${cpus().length} cores.`,
    "`npm run bench:bomb` to reproduce.",
    "",
    "| load | RSS at start (MiB) | peak RSS (MiB) | wall (s) | CPU (s) | answers |",
    "|---|---:|---:|---:|---:|---|",
    ...rows,
    "",
    `- peak RSS before / after the fix under the bomb load: **${(before / after).toFixed(1)}x**`,
  ].join("\n");
  console.log(`\n${report}`);
  writeResultsSection("decompression-bomb", report);
}

const variant = process.argv[2];
if (variant !== undefined && variant in VARIANTS) await child(variant as Variant);
else await main();
