/**
 * The benchmark's input: a Seedream stream of N images whose base64 is `imageMiB` MiB each,
 * cut into network-sized chunks (deterministic sizes between `minChunk` and `maxChunk`).
 */
export interface Workload {
  chunks: Buffer[];
  totalBytes: number;
  images: number;
}

/** A small deterministic PRNG so every run sees the same chunk boundaries. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function buildWorkload(options: {
  images: number;
  imageMiB: number;
  minChunk: number;
  maxChunk: number;
  seed?: number;
}): Workload {
  const random = mulberry32(options.seed ?? 42);
  // Base64 of `imageMiB` MiB: raw bytes are 3/4 of that.
  const raw = Buffer.alloc(Math.floor((options.imageMiB * 1024 * 1024 * 3) / 4));
  for (let i = 0; i < raw.length; i++) raw[i] = (random() * 256) | 0;
  const parts: Buffer[] = [];
  for (let index = 0; index < options.images; index++) {
    raw[0] = index;
    const event = {
      type: "image_generation.partial_succeeded",
      model: "doubao-seedream-4-5-251128",
      created: 1757321139,
      image_index: index,
      b64_json: raw.toString("base64"),
      size: "4096x4096",
    };
    parts.push(Buffer.from(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
  }
  const usage = { generated_images: options.images, output_tokens: options.images * 65536, total_tokens: 0 };
  const completed = { type: "image_generation.completed", model: "m", created: 1757321139, usage };
  parts.push(Buffer.from(`event: ${completed.type}\ndata: ${JSON.stringify(completed)}\n\ndata: [DONE]\n\n`));
  const whole = Buffer.concat(parts);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < whole.length; ) {
    const size = options.minChunk + Math.floor(random() * (options.maxChunk - options.minChunk + 1));
    // Copies, so each chunk is its own allocation like a socket read.
    chunks.push(Buffer.from(whole.subarray(offset, offset + size)));
    offset += size;
  }
  return { chunks, totalBytes: whole.length, images: options.images };
}

/** The bare baseline's parser: a whole SSE body split into events, each JSON.parse'd. */
export function* naiveEvents(text: string): Generator<{ image_index?: number; b64_json?: string }> {
  for (const block of text.split("\n\n")) {
    const data = block
      .split("\n")
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).trimStart())
      .join("\n");
    if (data === "" || data === "[DONE]") continue;
    yield JSON.parse(data) as { image_index?: number; b64_json?: string };
  }
}
