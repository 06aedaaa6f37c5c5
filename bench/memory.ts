/**
 * Peak RSS growth while a 15-image 4K base64 stream comes from the fake Seedream server, as a
 * multiple of one image's base64 (issue 15, goal 4: ≤ 8×). Each measurement runs in a fresh
 * Node process (`--expose-gc`), so one path's garbage and heap growth cannot flatter or hurt
 * the next; the fake server runs in its own process, so its copies are not counted.
 * - `images`: V8's floor: nothing read, only 15 fresh image-sized Buffers handed out one by one.
 * - `drain`: the floor: the stream read with undici and dropped, nothing decoded.
 * - `drain-http`: the same, read with Node's http client.
 * - `baseline`: a bare client: fetch, `response.text()`, split on blank lines, JSON.parse and
 *   Buffer.from per event.
 * - `before`: the client's path before the change (copied below): eventsource-parser via
 *   decodeSse, JSON.parse of the whole event, zod, Buffer.from of the JSON string value.
 * - `sliced`: the same, with only the JSON step replaced by parseEventJson: the change alone.
 * - `client`: the real client (`createSeedreamClient().generate`), which now slices the base64
 *   out of the event text and decodes it directly (src/seedream/event-json.ts).
 * - `slack`: the real client, each image posted through SlackThread to the fake Slack Web API
 *   (in the server process), as a Slack run delivers it.
 * Every path drops each image once it has checked it, as the delivery does after posting.
 * Run: npm run bench:memory. Writes its section of bench/RESULTS.md.
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { request as httpRequest } from "node:http";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Agent, request } from "undici";
import { DiscordThread } from "../adapters/discord/discord-thread.js";
import { AddressedTarget } from "../adapters/discord/reply-targets.js";
import { discordRestRequest, leanUploads } from "../adapters/discord/rest.js";
import { SlackThread } from "../adapters/slack/slack-thread.js";
import { SlackWeb } from "../adapters/slack/slack-web.js";
import type { OutputThread } from "../src/core/ports.js";
import { silentLogger } from "../src/logger.js";
import { createSeedreamClient } from "../src/seedream/client.js";
import { parseEventJson } from "../src/seedream/event-json.js";
import { decodeSse } from "../src/seedream/sse.js";
import { wireStreamEventSchema } from "../src/seedream/wire.js";
import { FakeDiscord } from "../test/fakes/discord.js";
import { startFakeSeedream } from "../test/fakes/seedream-server.js";
import { FakeSlackApi } from "../test/fakes/slack-api.js";
import { writeResultsSection } from "./results-file.js";
import { mulberry32, naiveEvents } from "./workload.js";

const IMAGES = 15;
/** A 4K (4096×4096) JPEG is about 3.75 MB; its base64 is 5 MB, the issue's "about 5 MB per image". */
const RAW_BYTES = 3_750_000;
const BASE64_BYTES = Math.ceil(RAW_BYTES / 3) * 4;
const MODES = [
  "images",
  "drain",
  "drain-http",
  "drain-gc",
  "baseline",
  "before",
  "sliced",
  "client",
  "slack",
  "discord",
] as const;
type Mode = (typeof MODES)[number];
const PHASES = ["cold", "second", "first"] as const;
type Phase = (typeof PHASES)[number];
const ROUNDS = Number(process.env.MEMORY_ROUNDS ?? 5);
/** Fewer rounds and paths for the figures beside the issue's measure (the cold stream), to keep the bench short. */
const PLAN: Record<"cold" | "second" | "first", { rounds: number; modes: readonly string[] }> = {
  cold: { rounds: ROUNDS, modes: MODES },
  second: {
    rounds: Math.min(ROUNDS, 3),
    modes: ["drain", "drain-gc", "baseline", "client", "slack", "discord"],
  },
  first: { rounds: Math.min(ROUNDS, 3), modes: ["drain", "client", "slack", "discord"] },
};

/** The same pseudo-random "JPEG" in every process: incompressible, so nothing is shared or deduplicated. */
function imageBytes(index: number): Buffer {
  const random = mulberry32(1000 + index);
  const bytes = Buffer.allocUnsafe(RAW_BYTES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (random() * 256) | 0;
  bytes.set([0xff, 0xd8, 0xff, 0xe0], 0);
  return bytes;
}

const gc = (globalThis as { gc?: (options?: { type: "minor" | "major" }) => void }).gc;

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Peak RSS, sampled at every image and every 2 ms in between (when the loop gets a turn). */
class RssProbe {
  readonly base = process.memoryUsage.rss();
  peak = this.base;
  private readonly timer = setInterval(() => this.sample(), 2);
  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak - this.base;
  }
}

const REQUEST = {
  prompt: "fifteen foxes",
  maxImages: IMAGES,
  size: "4K",
  responseFormat: "b64_json",
} as const;
const bodyFor = (count: number) =>
  JSON.stringify({
    model: "doubao-seedream-4-5-251128",
    prompt: REQUEST.prompt,
    size: "4096x4096",
    sequential_image_generation: "auto",
    sequential_image_generation_options: { max_images: count },
    stream: true,
    response_format: "b64_json",
    watermark: false,
  });

/** What the `images` mode copies from: made before the measurement starts, as the server's are. */
let sourceImages: readonly Buffer[] = [];

/** Yields each of `count` images' bytes as the path under test produces them. */
async function* imagesOf(
  mode: Mode,
  url: string,
  count: number,
): AsyncGenerator<{ index: number; bytes: Buffer }> {
  const BODY = bodyFor(count);
  const endpoint = `${url}/images/generations`;
  const headers = { "content-type": "application/json", authorization: "Bearer k" };
  if (mode === "images") {
    // V8's own floor: nothing read at all, only the 15 decoded images any client hands out, each
    // a fresh Buffer of its own, held until the next one exists (as a run posts one at a time).
    for (let index = 0; index < count; index++) {
      const bytes = Buffer.allocUnsafeSlow(RAW_BYTES);
      sourceImages[index]?.copy(bytes);
      yield { index, bytes };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } else if (mode === "drain-http") {
    // The same floor read with Node's own HTTP client (no undici): its body chunks are the
    // socket's reads themselves.
    const response = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      const sent = httpRequest(endpoint, { method: "POST", headers }, resolve);
      sent.on("error", reject);
      sent.end(BODY);
    });
    let bytes = 0;
    for await (const chunk of response) bytes += (chunk as Buffer).length;
    if (bytes < count * BASE64_BYTES) throw new Error(`drain-http: only ${bytes} bytes`);
  } else if (mode === "drain" || mode === "drain-gc") {
    // The floor: the same bytes read off the socket and dropped, nothing decoded. `drain-gc`
    // also collects the young generation every 16 reads, so no read's Buffer waits for a GC.
    const response = await request(endpoint, { method: "POST", headers, body: BODY, bodyTimeout: 0 });
    let bytes = 0;
    let reads = 0;
    for await (const chunk of response.body) {
      bytes += (chunk as Buffer).length;
      reads += 1;
      if (mode === "drain-gc" && reads % 16 === 0) gc?.({ type: "minor" });
    }
    if (bytes < count * BASE64_BYTES) throw new Error(`drain: only ${bytes} bytes`);
  } else if (mode === "baseline") {
    const response = await fetch(endpoint, { method: "POST", headers, body: BODY });
    const text = await response.text();
    for (const event of naiveEvents(text)) {
      if (event.b64_json)
        yield { index: event.image_index ?? 0, bytes: Buffer.from(event.b64_json, "base64") };
    }
  } else if (mode === "before" || mode === "sliced") {
    // eventsFromSse as it was before event-json.ts (`before`), or with only its JSON step swapped
    // for parseEventJson (`sliced`: the client before sse-lift.ts), for the image events this
    // stream carries.
    const parse =
      mode === "before" ? (text: string) => ({ json: JSON.parse(text), bytes: undefined }) : parseEventJson;
    const response = await request(endpoint, { method: "POST", headers, body: BODY, bodyTimeout: 0 });
    for await (const message of decodeSse(response.body)) {
      if (message.data.trim() === "[DONE]") return;
      const { json, bytes } = parse(message.data);
      const parsed = wireStreamEventSchema.safeParse(json);
      if (!parsed.success) throw parsed.error;
      const event = parsed.data;
      const decoded = bytes ?? (event.b64_json ? Buffer.from(event.b64_json, "base64") : undefined);
      if (decoded) yield { index: event.image_index ?? 0, bytes: decoded };
    }
  } else if (mode === "client") {
    const client = createSeedreamClient({ apiKey: "k", baseUrl: url, maxRetries: 0 });
    try {
      for await (const event of client.generate({ ...REQUEST, maxImages: count })) {
        if (event.type === "image") yield { index: event.index, bytes: event.bytes };
        else if (event.type !== "completed") throw new Error(`unexpected ${event.type}`);
      }
    } finally {
      await client.close();
    }
  }
}

interface Servers {
  seedream: string;
  /** A fake Seedream whose stream has one image (the first of the others). */
  seedreamOne: string;
  slack: string;
  token: string;
  discord: { api: string; token: string; channel: string };
}

/** The real client's images, each posted to `thread` as a run delivers them, then handed on. */
async function* postedTo(
  thread: Pick<OutputThread, "postImage">,
  url: string,
  count: number,
): AsyncGenerator<{ index: number; bytes: Buffer }> {
  for await (const image of imagesOf("client", url, count)) {
    await thread.postImage({
      key: { runId: "run-memory", index: image.index },
      bytes: image.bytes,
      fileName: `seedream-run-memory-${image.index + 1}.jpg`,
      mimeType: "image/jpeg",
      caption: `${image.index + 1}/${IMAGES}`,
      altText: "fifteen foxes",
    });
    yield image;
  }
}

/** A Slack thread on the fake Slack Web API (getUploadURLExternal, upload, complete, message). */
function slackThread(servers: Servers): SlackThread {
  const web = new SlackWeb({
    token: servers.token,
    apiUrl: servers.slack,
    fetch,
    logger: silentLogger,
    tokenHosts: () => true,
  });
  return new SlackThread(
    { web, logger: silentLogger, statusIntervalMs: 0 },
    { channel: "C0MEMORY1", threadTs: "1700000000.000100", userId: "U0MEMORY" },
  );
}

/**
 * A Discord channel as the adapter posts to it: DiscordThread through discord.js (logged in to
 * the fake Discord's gateway before the measurement starts) with the adapter's makeRequest.
 */
function discordThread(servers: Servers, client: import("discord.js").Client<true>): DiscordThread {
  const target = new AddressedTarget(
    client,
    { platform: "discord", channel: servers.discord.channel },
    silentLogger,
  );
  return new DiscordThread(target, {
    logger: silentLogger,
    typingIntervalMs: 8_000,
    statusIntervalMs: 0,
    onPermissionError: async () => {},
  });
}

async function discordClient(servers: Servers): Promise<import("discord.js").Client<true>> {
  const { Client, Events, GatewayIntentBits } = await import("discord.js");
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: servers.discord.api, makeRequest: discordRestRequest(new Agent()) },
  });
  // As the adapter sets it up (discord-restorer.ts): uploads leave from the images' own Buffers.
  leanUploads(client.rest);
  const ready = once(client, Events.ClientReady);
  await client.login(servers.discord.token);
  await ready;
  await client.channels.fetch(servers.discord.channel);
  return client as import("discord.js").Client<true>;
}

/**
 * Child: one measurement. Prints `{ growth, images }` as JSON. `cold`: the 15-image stream is
 * the process's first (the issue's measure); `second`: the same path streamed the same 15 images
 * once before (a bot that has served such a request: does memory keep growing?); `first`: a
 * one-image stream, the process's first (what a first request costs however many images it has).
 */
async function measure(mode: Mode, servers: Servers, phase: Phase): Promise<void> {
  const count = phase === "first" ? 1 : IMAGES;
  const expected = Array.from({ length: IMAGES }, (_, index) => imageBytes(index));
  sourceImages = expected;
  const discord = mode === "discord" ? await discordClient(servers) : undefined;
  const thread =
    mode === "slack" ? slackThread(servers) : discord ? discordThread(servers, discord) : undefined;
  const stream = (count: number) => {
    const url = count === 1 ? servers.seedreamOne : servers.seedream;
    return thread ? postedTo(thread, url, count) : imagesOf(mode, url, count);
  };
  if (phase === "second") for await (const _ of stream(IMAGES));
  await settle();
  const probe = new RssProbe();
  let images = 0;
  for await (const { index, bytes } of stream(count)) {
    probe.sample();
    if (!expected[index]?.equals(bytes)) throw new Error(`${mode}: image ${index} came back different`);
    images += 1;
  }
  const growth = probe.stop();
  await discord?.destroy();
  if (images !== (mode.startsWith("drain") ? 0 : count))
    throw new Error(`${mode}: ${images} of ${count} images`);
  process.stdout.write(`${JSON.stringify({ growth, images })}\n`);
}

/** Server process: the fake Seedream, sending the same images the children expect. */
async function serve(): Promise<void> {
  const images = Array.from({ length: IMAGES }, (_, index) => ({
    kind: "ok" as const,
    bytes: imageBytes(index),
  }));
  const fake = await startFakeSeedream({ images });
  const one = await startFakeSeedream({ images: images.slice(0, 1) });
  const slack = await FakeSlackApi.start();
  // Images are 3.75 MB; the fake keeps what it is sent, so allow it a run's worth.
  const discord = await FakeDiscord.start({ uploadLimitBytes: 8 * 1024 * 1024 });
  const servers: Servers = {
    seedream: fake.url,
    seedreamOne: one.url,
    slack: slack.apiUrl,
    token: slack.botToken,
    discord: { api: discord.apiUrl, token: discord.token, channel: discord.channel().id },
  };
  process.stdout.write(`${JSON.stringify(servers)}\n`);
  process.on(
    "SIGTERM",
    () =>
      void Promise.all([fake.close(), one.close(), slack.close(), discord.close()]).then(() =>
        process.exit(0),
      ),
  );
}

const self = fileURLToPath(import.meta.url);
const nodeArgs = ["--import", "tsx", "--expose-gc", self];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const LABELS: Record<Mode, string> = {
  images: "V8's floor: only the 15 decoded images, fresh Buffers, each held until the next; nothing read",
  drain: "floor: the body read off the socket and dropped, nothing decoded",
  "drain-http": "floor, read with Node's http client instead of undici",
  "drain-gc": "floor, with a minor GC forced every 16 reads (no read waits for a GC)",
  baseline: "bare: fetch + text() + JSON.parse per event",
  before: "before issue 15: decodeSse + JSON.parse + zod + Buffer.from",
  sliced: "last session's client: b64_json sliced from the event text",
  client: "client now: b64_json lifted from the bytes (sse-lift.ts)",
  slack: "client now, each image posted to a Slack thread (fake Slack Web API)",
  discord: "client now, each image posted to a Discord channel (discord.js, fake Discord REST)",
};

async function main(): Promise<void> {
  const server = spawn(process.execPath, [...nodeArgs, "--serve"], { stdio: ["ignore", "pipe", "inherit"] });
  const [first] = (await once(server.stdout, "data")) as [Buffer];
  const servers = first.toString().trim();
  const load = loadavg()[0] ?? 0;
  const growth = Object.fromEntries(
    PHASES.map((phase) => [phase, Object.fromEntries(MODES.map((mode) => [mode, [] as number[]]))]),
  ) as Record<Phase, Record<Mode, number[]>>;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of MODES) {
        for (const phase of PHASES) {
          if (round >= PLAN[phase].rounds || !PLAN[phase].modes.includes(mode)) continue;
          const out = execFileSync(process.execPath, [...nodeArgs, "--measure", mode, servers, phase], {
            encoding: "utf8",
          });
          const result = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as { growth: number };
          growth[phase][mode].push(result.growth);
        }
      }
    }
  } finally {
    server.kill("SIGTERM");
  }
  const mid = (phase: Phase, mode: Mode) => median(growth[phase][mode]);
  const cell = (phase: Phase, mode: Mode, format: (values: number[]) => string) =>
    growth[phase][mode].length === 0 ? "—" : format(growth[phase][mode]);
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const times = (bytes: number) => (bytes / BASE64_BYTES).toFixed(1);
  const ratio = (a: number, b: number) => (a / b).toFixed(1);
  const row = (mode: Mode) =>
    `| ${LABELS[mode]} | ${mib(mid("cold", mode))} | **${times(mid("cold", mode))}×** | ${growth.cold[mode].map(times).join(", ")} | ${cell("second", mode, (v) => `${times(median(v))}×`)} | ${cell("second", mode, (v) => v.map(times).join(", "))} | ${cell("first", mode, (v) => `${times(median(v))}×`)} |`;
  const verdict = (mode: Mode) =>
    mid("cold", mode) <= 8 * BASE64_BYTES
      ? `met (${times(mid("cold", mode))}×)`
      : `**not met** (${times(mid("cold", mode))}×)`;
  const markdown = `
# Memory benchmark: a 15-image 4K base64 stream

${IMAGES} images of ${(RAW_BYTES / 1e6).toFixed(2)} MB (a 4K JPEG's size; ${(BASE64_BYTES / 1e6).toFixed(2)} MB
of base64 each, ${((IMAGES * BASE64_BYTES) / 1e6).toFixed(0)} MB in all) streamed as SSE from the fake Seedream
server (its own process, with the fake Slack and Discord) over loopback. Each measurement is a
fresh \`node --expose-gc\` process: a full GC, then peak RSS above that start, sampled at every
image and every 2 ms; each image is checked byte for byte and dropped once posted.
- **cold**: the 15-image stream is the process's first (issue 15's measure);
- **second stream**: the process streamed the same 15 images through the same path once before:
  does a bot that has served such a request keep growing?
- **first image**: a one-image stream, the process's first: what any first request costs.

${PLAN.cold.rounds} rounds for the cold stream, ${PLAN.second.rounds} for the others, modes interleaved; the median is reported.
Node ${process.version}, ${cpus().length} cores, load average ${load.toFixed(1)} at start,
${new Date().toISOString().slice(0, 10)}. \`npm run bench:memory\` to reproduce.

| path | cold: peak RSS growth (MiB) | cold × one image's base64 | each round (×) | second stream × | each round (×) | first image × |
|---|---:|---:|---|---:|---|---:|
${MODES.map(row).join("\n")}

- Issue 15 goal 4 (≤ 8× one image's base64, cold): Slack ${verdict("slack")}, Discord ${verdict("discord")}.
- Same run, bare / now (cold): the client **${ratio(mid("cold", "baseline"), mid("cold", "client"))}×**, Slack **${ratio(mid("cold", "baseline"), mid("cold", "slack"))}×**, Discord **${ratio(mid("cold", "baseline"), mid("cold", "discord"))}×**; last session's client / now **${ratio(mid("cold", "sliced"), mid("cold", "client"))}×**.
- The floor under any client is V8's: it frees a dead Buffer only at a garbage collection, and it
  starts one only once about 34 MB of Buffers have died (6.8× one image's base64). Measured
  outside this bench, that figure is the same for 16 KiB and 3.75 MB Buffers, with
  \`--max-semi-space-size\` 2 or 64, on Node 20.20 and 22.23. Handing out the 15 images alone,
  reading nothing, costs ${times(mid("cold", "images"))}×; draining the socket ${times(mid("cold", "drain"))}× with undici, ${times(mid("cold", "drain-http"))}× with Node's http client.
  These floors do not add up (one collection frees every kind of dead Buffer), but the goal sits
  at about the first. Only forcing collections (\`--expose-gc\`) or reusing buffers across reads
  and requests would go lower; neither is done.
- The floors keep memory the process reuses: the same 15 images a second time grow the client by
  ${times(mid("second", "client"))}×, Slack by ${times(mid("second", "slack"))}× and Discord by ${times(mid("second", "discord"))}× (bare ${times(mid("second", "baseline"))}×). With a minor GC forced every 16 reads undici's
  floor is still ${times(mid("cold", "drain-gc"))}×.
- Node's http client as the Seedream transport was tried (2026-12-01, the same fakes, 5 interleaved
  rounds, 3 for the client alone): the client alone fell from 13.0–13.2× to 8.6–11.2×, but posted to Slack it rose from 9.8–10.7×
  to 10.2–14.3×, and to Discord from 5.6–15.7× to 14.2–18.1×. The client stays on undici.
- Slack uploads go through Node's http client (\`adapters/shared/post-bytes.ts\`): \`fetch\` copied
  every image before sending it (the Fetch standard copies a BufferSource body), one more
  image-sized allocation per upload; \`test/slack/upload-copies.test.ts\` fails on that copy.
- What the client holds per image now: the base64 lifted out of the bytes and decoded chunk by
  chunk, joined once into the image's Buffer at its closing quote; no string of the image's size
  (decoded text, the parser's line, the JSON value) exists any more (src/seedream/sse-lift.ts).
- Uploads copy nothing on either platform: Slack's go through Node's http client
  (\`adapters/shared/post-bytes.ts\`), Discord's as a multipart body of the image's own Buffer,
  still queued and retried by discord.js (\`leanUploads\` in \`adapters/discord/rest.ts\`). A run posts
  one image at a time (the next event is not read until the post returns), within the
  process-wide bound on images in flight.
`;
  writeResultsSection("memory", markdown);
  process.stdout.write(markdown);
}

const [flag, mode, servers, phase] = process.argv.slice(2);
if (flag === "--serve") await serve();
else if (flag === "--measure")
  await measure(mode as Mode, JSON.parse(servers ?? "{}") as Servers, phase as Phase);
else await main();
