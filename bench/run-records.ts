/**
 * Run-record operations on one real Redis: the Lua implementation (run-records-redis.ts, what
 * `redis://` uses) against the baseline, keyv read-modify-write with in-process locks
 * (run-records-keyv.ts, what `redis://` used before, and still what memory/sqlite use), through
 * the same `RunRecords` port in the same run.
 * - throughput: `moveRun` calls per second, one process, 1 and 16 moves in flight (each on its
 *   own run, cycling waiting → running → interrupted → waiting);
 * - correctness across two processes (two backends, each with its own connections): a worker's
 *   start racing a cancel on 200 waiting runs, and 2 × 8 images of one run recorded at once
 *   from both, 50 runs.
 * Run: npm run bench:records  (needs redis-server on PATH). Writes its section of bench/RESULTS.md.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { type NewRun, planMove, type RunRecords } from "../src/core/run-records.js";
import { KeyvRunRecords } from "../src/core/run-records-keyv.js";
import type { StoreBackend } from "../src/core/store-backend.js";
import { openBackend } from "../src/core/store-open.js";
import { freePort } from "../test/helpers/free-port.js";
import { locateRedis } from "../test/helpers/redis-locate.js";
import { writeResultsSection } from "./results-file.js";

const TTL = 60 * 60 * 1000;
const IN_FLIGHT = [1, 16] as const;
const SECONDS = 2;
const ROUNDS = 5;

type Kind = "lua" | "keyv";
const LABEL: Record<Kind, string> = {
  lua: "Lua scripts (now)",
  keyv: "keyv read-modify-write + in-process lock (before)",
};

const newRun = (runId: string): NewRun => ({
  runId,
  platform: "slack",
  conversationId: "C1:1700000000.000100",
  userId: "U1",
  prompt: "a fox in the snow",
  params: { n: 8, watermark: false, model: "doubao-seedream-4-5-251128" },
  createdAt: Date.now(),
  address: { platform: "slack", channel: "C1", thread: "1700000000.000100" },
});

const image = (runId: string, index: number) => ({
  platform: "slack",
  conversationId: "C1:1700000000.000100",
  messageId: `F-${runId}-${index}`,
  ref: `F-${runId}-${index}`,
  fileName: `seedream-${index + 1}.jpg`,
  mimeType: "image/jpeg",
  runId,
  index,
  prompt: "a fox in the snow",
  params: { n: 8, watermark: false },
  postedAt: Date.now(),
});

function records(backend: StoreBackend, kind: Kind): RunRecords {
  if (kind === "keyv") return new KeyvRunRecords(backend.keyv, TTL);
  const lua = backend.runRecords?.(TTL);
  if (!lua) throw new Error("the Redis backend has no run records of its own");
  return lua;
}

interface Rate {
  perSecond: number;
  /** CPU time of this (the bot's) process per move, µs. */
  botCpuUs: number;
  /** CPU time of redis-server per move, µs. */
  redisCpuUs: number;
}

/** redis-server's CPU time so far (user + system), µs. */
async function redisCpu(admin: Redis): Promise<number> {
  const info = await admin.info("cpu");
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return (field("used_cpu_user") + field("used_cpu_sys")) * 1e6;
}

async function throughput(store: RunRecords, admin: Redis, tag: string, inFlight: number): Promise<Rate> {
  const cycle = ["running", "interrupted", "waiting"] as const;
  const ids = Array.from({ length: inFlight }, (_, i) => `${tag}-${inFlight}-${i}`);
  for (const id of ids) await store.enqueue(newRun(id));
  let ops = 0;
  const redisBefore = await redisCpu(admin);
  const cpuBefore = process.cpuUsage();
  const until = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    ids.map(async (id) => {
      for (let step = 0; performance.now() < until; step++) {
        const to = cycle[step % 3] as (typeof cycle)[number];
        const moved = await store.move(id, planMove(to, to === "running" ? { owner: "bench" } : {}));
        if (moved?.state !== to) throw new Error(`${id}: move to ${to} refused`);
        ops += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const redisUs = (await redisCpu(admin)) - redisBefore;
  return { perSecond: ops / seconds, botCpuUs: (cpu.user + cpu.system) / ops, redisCpuUs: redisUs / ops };
}

/** Start vs cancel on 200 waiting runs from two processes: runs whose cancel was lost. */
async function startCancelRace(a: RunRecords, b: RunRecords, tag: string): Promise<number> {
  const ids = Array.from({ length: 200 }, (_, i) => `${tag}-race-${i}`);
  for (const id of ids) await a.enqueue(newRun(id));
  await Promise.all(
    ids.map((id, i) => {
      const [worker, canceller] = i % 2 === 0 ? [a, b] : [b, a];
      return Promise.all([
        worker.move(id, planMove("running", { owner: "w" })),
        canceller.move(id, planMove("cancelled")),
      ]);
    }),
  );
  const finals = await Promise.all(ids.map((id) => a.get(id)));
  // Every cancel was accepted (waiting and running may both be cancelled): anything else lost it.
  return finals.filter((run) => run?.state !== "cancelled").length;
}

/** 2 × 8 images per run recorded at once from two processes, 50 runs: images lost. */
async function imageRace(a: RunRecords, b: RunRecords, tag: string): Promise<number> {
  const ids = Array.from({ length: 50 }, (_, i) => `${tag}-img-${i}`);
  for (const id of ids) await a.enqueue(newRun(id));
  await Promise.all(
    ids.flatMap((id) => Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? a : b).addImage(image(id, i)))),
  );
  const runs = await Promise.all(ids.map((id) => a.get(id)));
  return runs.reduce((lost, run) => lost + 16 - (run?.images.length ?? 0), 0);
}

async function startRedis(binary: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "bench-redis-"));
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

async function main(): Promise<void> {
  const { binary, url: given } = locateRedis(process.env);
  if (!binary && !given) throw new Error("bench:records needs redis-server on PATH or REDIS_URL");
  const server = given ? undefined : await startRedis(binary as string);
  const url = given ?? (server?.url as string);
  const load = loadavg()[0]?.toFixed(1);
  const [one, two] = await Promise.all([
    openBackend(url, { connectTimeoutMs: 5000 }),
    openBackend(url, { connectTimeoutMs: 5000 }),
  ]);
  const admin = new Redis(url);
  const rates: Record<Kind, Record<number, Rate[]>> = {
    lua: { 1: [], 16: [] },
    keyv: { 1: [], 16: [] },
  };
  const lostCancels: Record<Kind, number[]> = { lua: [], keyv: [] };
  const lostImages: Record<Kind, number[]> = { lua: [], keyv: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 === 0 ? (["lua", "keyv"] as const) : (["keyv", "lua"] as const)) {
      const tag = `${kind}-${round}`;
      for (const inFlight of IN_FLIGHT)
        rates[kind][inFlight]?.push(await throughput(records(one, kind), admin, tag, inFlight));
      lostCancels[kind].push(await startCancelRace(records(one, kind), records(two, kind), tag));
      lostImages[kind].push(await imageRace(records(one, kind), records(two, kind), tag));
      process.stderr.write(
        `round ${round + 1} ${kind}: ${IN_FLIGHT.map((n) => Math.round(rates[kind][n]?.at(-1)?.perSecond ?? 0)).join(" / ")} moves/s, lost cancels ${lostCancels[kind].at(-1)}/200, lost images ${lostImages[kind].at(-1)}/800\n`,
      );
    }
  }
  await Promise.all([one.close(), two.close(), admin.quit()]);
  await server?.stop();

  const rate = (kind: Kind, inFlight: number, of: keyof Rate = "perSecond") =>
    median((rates[kind][inFlight] ?? []).map((sample) => sample[of]));
  const ratio = (inFlight: number, of: keyof Rate = "perSecond") =>
    (rate("lua", inFlight, of) / rate("keyv", inFlight, of)).toFixed(2);
  const row = (kind: Kind) =>
    `| ${LABEL[kind]} | ${IN_FLIGHT.map((n) => Math.round(rate(kind, n))).join(" | ")} | ${rate(kind, 16, "botCpuUs").toFixed(1)} | ${rate(kind, 16, "redisCpuUs").toFixed(1)} | ${lostCancels[kind].join(", ")} of 200 | ${lostImages[kind].join(", ")} of 800 |`;
  const markdown = `
# Run records on Redis

One real redis-server 7 on 127.0.0.1 (no persistence), Node ${process.version}, ${cpus().length} cores,
load average ${load} at start, ${new Date().toISOString().slice(0, 10)}. Both implementations through the same
\`RunRecords\` port in the same run, ${ROUNDS} rounds in alternating order.
Throughput: \`moveRun\` calls per second from one process, 1 or 16 in flight, each on its own run
(waiting → running → interrupted → waiting), ${SECONDS} s per round, median of the rounds; CPU time
per move of this process and of redis-server (INFO cpu), 16 in flight. Wall-clock rates move with
the machine's other load; the CPU columns much less.
Across two processes (two backends with their own connections on the same Redis), per round: a
worker's start racing a cancel on 200 waiting runs (a lost cancel: the run did not end up cancelled),
and 16 images of each of 50 runs recorded at once, half from each (a lost image: missing from its run).
\`npm run bench:records\` to reproduce.

| run records | moveRun/s, 1 in flight | moveRun/s, 16 in flight | bot CPU µs per move | redis-server CPU µs per move | lost cancels (per round) | lost images (per round) |
|---|---:|---:|---:|---:|---:|---:|
${row("lua")}
${row("keyv")}

- Lua / keyv moveRun throughput: **${ratio(1)}x** with 1 in flight, **${ratio(16)}x** with 16 in flight
- Lua / keyv CPU per move: bot **${ratio(16, "botCpuUs")}x**, redis-server **${ratio(16, "redisCpuUs")}x** (the script checks the
  state, writes the fields and reads the whole record back, as \`moveRun\` returns it, where keyv
  does one GET and one SET)
`;
  writeResultsSection("run-records", markdown);
  process.stdout.write(markdown);
}

await main();
