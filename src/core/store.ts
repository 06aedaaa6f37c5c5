import { mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import KeyvSqlite from "@keyv/sqlite";
import Keyv from "keyv";
import { StoreError } from "./errors.js";
import type { StoredImageRef } from "./ports.js";

/**
 * What the bot remembers between messages: every image it posted (so a later reply can find
 * what it edits), each run, each conversation's latest run, and event ids already handled.
 * Backed by keyv: `memory://` for tests, `sqlite://PATH` so edits survive a restart.
 */

export interface RunParams {
  model?: string;
  size?: string;
  seed?: number;
  watermark: boolean;
  n: number;
}

export interface ImageRecord extends StoredImageRef {
  runId: string;
  /** 0-based `image_index` ("2/4" is index 1). */
  index: number;
  prompt: string;
  params: RunParams;
  postedAt: number;
}

export interface RunRecord {
  runId: string;
  platform: string;
  conversationId: string;
  userId: string;
  prompt: string;
  params: RunParams;
  createdAt: number;
  /** In the order they were posted. */
  images: ImageRecord[];
}

export interface BotStore {
  recordRun(run: Omit<RunRecord, "images">): Promise<void>;
  /** Records a posted image; the run becomes its conversation's latest run. */
  recordImage(image: ImageRecord): Promise<void>;
  findImage(platform: string, messageId: string): Promise<ImageRecord | undefined>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** The latest run of a conversation that delivered at least one image. */
  latestRun(platform: string, conversationId: string): Promise<RunRecord | undefined>;
  /**
   * True when `key` was already seen within `ttlMs` (default one day); marks it seen otherwise.
   * Safe against two concurrent deliveries in one process (Slack's app_mention + message).
   */
  seen(key: string, ttlMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export interface OpenStoreOptions {
  /** Time to live of every record (config `store.ttlMs`, default 30 days). */
  ttlMs: number;
}

/** Opens the store named by STORE_URL; a store that cannot be opened throws a `StoreError` naming it. */
export async function openStore(url: string, options: OpenStoreOptions): Promise<BotStore> {
  const keyv = await openKeyv(url);
  return new KeyvBotStore(keyv, options.ttlMs);
}

async function openKeyv(url: string): Promise<Keyv> {
  const fail = (reason: string, cause?: unknown): never => {
    throw new StoreError(
      `Cannot open the store at STORE_URL=${url}: ${reason}. Set STORE_URL to sqlite://PATH with a writable PATH, or memory:// (nothing then survives a restart).`,
      { cause },
    );
  };
  if (url === "memory://") return new Keyv({ namespace: "seedream-bot", throwOnErrors: true });
  if (!url.startsWith("sqlite://")) return fail("it must start with memory:// or sqlite://");
  const path = url.slice("sqlite://".length);
  if (path === "") return fail("the path after sqlite:// is empty");

  try {
    await ensureDirectory(dirname(resolve(path)));
  } catch (error) {
    fail(`cannot create the directory ${dirname(resolve(path))} (${describe(error)})`, error);
  }
  const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, busyTimeout: 5000 });
  const keyv = new Keyv({ store: adapter, namespace: "seedream-bot", throwOnErrors: true });
  // Errors are thrown to callers (throwOnErrors); the listener only keeps emitters quiet.
  keyv.on("error", () => {});
  try {
    // Opening is lazy: a write proves the file exists, is a database and is writable.
    await keyv.set("store:opened", Date.now());
  } catch (error) {
    await adapter.disconnect().catch(() => {});
    fail(describe(error), error);
  }
  return keyv;
}

/**
 * `mkdir -p`, one level at a time: Node's own recursive mkdir never returns (or spins) for
 * some unwritable parents such as /proc, which would hang start-up instead of explaining.
 */
async function ensureDirectory(dir: string): Promise<void> {
  try {
    if ((await stat(dir)).isDirectory()) return;
    throw Object.assign(new Error(`${dir} is not a directory`), { code: "ENOTDIR" });
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw error;
  }
  const parent = dirname(dir);
  if (parent !== dir) await ensureDirectory(parent);
  try {
    await mkdir(dir);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EEXIST") throw error;
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}

class KeyvBotStore implements BotStore {
  /** Keys marked by `seen` in this process, so two concurrent deliveries cannot both pass. */
  private readonly recent = new Map<string, number>();
  /** Serialises read-modify-write updates of one run record. */
  private readonly runLocks = new Map<string, Promise<void>>();

  constructor(
    private readonly keyv: Keyv,
    private readonly ttlMs: number,
  ) {}

  async recordRun(run: Omit<RunRecord, "images">): Promise<void> {
    await this.keyv.set(`run:${run.runId}`, { ...run, images: [] }, this.ttlMs);
  }

  async recordImage(image: ImageRecord): Promise<void> {
    await this.keyv.set(imageKey(image.platform, image.messageId), image, this.ttlMs);
    await this.withRunLock(image.runId, async () => {
      const run = await this.getRun(image.runId);
      if (run === undefined) return;
      run.images = [...run.images.filter((other) => other.messageId !== image.messageId), image];
      await this.keyv.set(`run:${run.runId}`, run, this.ttlMs);
    });
    await this.keyv.set(conversationKey(image.platform, image.conversationId), image.runId, this.ttlMs);
  }

  async findImage(platform: string, messageId: string): Promise<ImageRecord | undefined> {
    return (await this.keyv.get<ImageRecord>(imageKey(platform, messageId))) ?? undefined;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return (await this.keyv.get<RunRecord>(`run:${runId}`)) ?? undefined;
  }

  async latestRun(platform: string, conversationId: string): Promise<RunRecord | undefined> {
    const runId = await this.keyv.get<string>(conversationKey(platform, conversationId));
    return runId ? this.getRun(runId) : undefined;
  }

  async seen(key: string, ttlMs = DAY_MS): Promise<boolean> {
    const now = Date.now();
    this.prune(now);
    const local = this.recent.get(key);
    if (local !== undefined && local > now) return true;
    this.recent.set(key, now + ttlMs);
    const storeKey = `seen:${key}`;
    if ((await this.keyv.get(storeKey)) !== undefined) return true;
    await this.keyv.set(storeKey, 1, ttlMs);
    return false;
  }

  async close(): Promise<void> {
    await this.keyv.disconnect();
  }

  private prune(now: number): void {
    if (this.recent.size < 1000) return;
    for (const [key, expires] of this.recent) if (expires <= now) this.recent.delete(key);
  }

  private async withRunLock(runId: string, update: () => Promise<void>): Promise<void> {
    const previous = this.runLocks.get(runId) ?? Promise.resolve();
    const next = previous.then(update, update);
    const settled = next.catch(() => {});
    this.runLocks.set(runId, settled);
    try {
      await next;
    } finally {
      if (this.runLocks.get(runId) === settled) this.runLocks.delete(runId);
    }
  }
}

const imageKey = (platform: string, messageId: string): string => `image:${platform}:${messageId}`;
const conversationKey = (platform: string, conversationId: string): string =>
  `conversation:${platform}:${conversationId}`;
