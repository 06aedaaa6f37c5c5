import type Keyv from "keyv";
import { StoreError } from "./errors.js";
import type { UserSettings } from "./grammar.js";
import type { ProcessInfo, RunState, ThreadAddress } from "./run-record.js";
import {
  freshRun,
  type ImageRecord,
  type NewRun,
  planMove,
  type RunChange,
  type RunRecord,
  type RunRecords,
} from "./run-records.js";
import { KeyvRunRecords } from "./run-records-keyv.js";
import type { StoreBackend } from "./store-backend.js";
import { guardStore } from "./store-guard.js";
import { openBackend } from "./store-open.js";

/**
 * What the bot remembers between messages: every image it posted (so a later reply can find
 * what it edits), each run as a durable job (its state, what it delivered, how to run it again),
 * the queue of unfinished runs, each conversation's latest run, event ids already handled and
 * which processes are alive. Backed by keyv: `memory://` for tests, `sqlite://PATH` so edits and
 * runs survive a restart, `redis://HOST:PORT[/DB]` so many processes share it (store-open.ts).
 */

export type { ImageRecord, NewRun, RunChange, RunParams, RunRecord } from "./run-records.js";

export interface BotStore {
  /** Records a run that starts now, outside the durable queue (state `running`, attempt 1). */
  recordRun(run: NewRun): Promise<void>;
  /** Records an accepted request as a `waiting` run at the back of the queue. */
  enqueueRun(run: NewRun): Promise<RunRecord>;
  /**
   * Moves a run to `to` (entering `running` counts an attempt; `done`, `failed` and
   * `cancelled` finish it) and applies `change`. Returns undefined, changing nothing, when the
   * run is unknown or the state machine forbids the move (e.g. it was cancelled meanwhile).
   */
  moveRun(runId: string, to: RunState, change?: RunChange): Promise<RunRecord | undefined>;
  /** Updates where a run's output goes (the status message now exists), whatever its state. */
  setRunAddress(runId: string, address: ThreadAddress): Promise<void>;
  /** Runs not finished yet (waiting, running, interrupted and not given up), in queue order. */
  unfinishedRuns(): Promise<RunRecord[]>;
  /** Says this process is alive for `ttlMs`. */
  heartbeat(info: ProcessInfo, ttlMs: number): Promise<void>;
  /** The last heartbeat of a process, while it has not expired. */
  processInfo(id: string): Promise<ProcessInfo | undefined>;
  /** Records a posted image; the run becomes its conversation's latest run. */
  recordImage(image: ImageRecord): Promise<void>;
  findImage(platform: string, messageId: string): Promise<ImageRecord | undefined>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** The latest run of a conversation that delivered at least one image. */
  latestRun(platform: string, conversationId: string): Promise<RunRecord | undefined>;
  /**
   * True when `key` was already seen within `ttlMs` (default one day); marks it seen otherwise.
   * Safe against two concurrent deliveries in one process (Slack's app_mention + message), and
   * across processes on Redis.
   */
  seen(key: string, ttlMs?: number): Promise<boolean>;
  /** A user's saved defaults (`settings …`); undefined when none are saved. */
  userSettings(platform: string, userId: string): Promise<UserSettings | undefined>;
  /** Saves a user's defaults (kept until reset); undefined clears them. */
  saveUserSettings(platform: string, userId: string, settings: UserSettings | undefined): Promise<void>;
  /** Resolves when the store answers (readiness); rejects naming why not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export interface OpenStoreOptions {
  /** Time to live of every record (config `store.ttlMs`, default 30 days). */
  ttlMs: number;
  /** How long start-up waits for a network store (Redis) to answer. Default 5000. */
  connectTimeoutMs?: number;
}

/** Opens the store named by STORE_URL; a store that cannot be opened throws a `StoreError` naming it. */
export async function openStore(url: string, options: OpenStoreOptions): Promise<BotStore> {
  const backend = await openBackend(url, { connectTimeoutMs: options.connectTimeoutMs ?? 5000 });
  return guardStore(new KeyvBotStore(backend, options.ttlMs));
}

class KeyvBotStore implements BotStore {
  /** Keys marked by `seen` in this process, so two concurrent deliveries cannot both pass. */
  private readonly recent = new Map<string, number>();

  private readonly keyv: Keyv;
  /** Run records: the backend's own (atomic across processes on Redis), or keyv's. */
  private readonly runs: RunRecords;
  private closed = false;

  constructor(
    private readonly backend: StoreBackend,
    private readonly ttlMs: number,
  ) {
    this.keyv = backend.keyv;
    this.runs = backend.runRecords?.(ttlMs) ?? new KeyvRunRecords(backend.keyv, ttlMs);
  }

  async recordRun(run: NewRun): Promise<void> {
    await this.runs.put({ ...freshRun(run, 0, Date.now()), state: "running", attempts: 1 });
  }

  async enqueueRun(run: NewRun): Promise<RunRecord> {
    return this.runs.enqueue(run);
  }

  async moveRun(runId: string, to: RunState, change: RunChange = {}): Promise<RunRecord | undefined> {
    return this.runs.move(runId, planMove(to, change));
  }

  async setRunAddress(runId: string, address: ThreadAddress): Promise<void> {
    await this.runs.setAddress(runId, address);
  }

  async unfinishedRuns(): Promise<RunRecord[]> {
    return this.runs.unfinished();
  }

  async heartbeat(info: ProcessInfo, ttlMs: number): Promise<void> {
    await this.keyv.set(`process:${info.id}`, info, ttlMs);
  }

  async processInfo(id: string): Promise<ProcessInfo | undefined> {
    return (await this.keyv.get<ProcessInfo>(`process:${id}`)) ?? undefined;
  }

  async recordImage(image: ImageRecord): Promise<void> {
    await this.keyv.set(imageKey(image.platform, image.messageId), image, this.ttlMs);
    await this.runs.addImage(image);
    await this.keyv.set(conversationKey(image.platform, image.conversationId), image.runId, this.ttlMs);
  }

  async findImage(platform: string, messageId: string): Promise<ImageRecord | undefined> {
    return (await this.keyv.get<ImageRecord>(imageKey(platform, messageId))) ?? undefined;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.runs.get(runId);
  }

  async latestRun(platform: string, conversationId: string): Promise<RunRecord | undefined> {
    const runId = await this.keyv.get<string>(conversationKey(platform, conversationId));
    return runId ? this.getRun(runId) : undefined;
  }

  async seen(key: string, ttlMs = DAY_MS): Promise<boolean> {
    if (this.backend.claim) return !(await this.backend.claim(key, ttlMs));
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

  async userSettings(platform: string, userId: string): Promise<UserSettings | undefined> {
    return (await this.keyv.get<UserSettings>(settingsKey(platform, userId))) ?? undefined;
  }

  async saveUserSettings(
    platform: string,
    userId: string,
    settings: UserSettings | undefined,
  ): Promise<void> {
    if (settings === undefined) await this.keyv.delete(settingsKey(platform, userId));
    else await this.keyv.set(settingsKey(platform, userId), settings);
  }

  async ping(): Promise<void> {
    // A closed memory or sqlite store would still answer from what it holds: say it is closed.
    if (this.closed) throw new StoreError("closed");
    await this.backend.ping();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.backend.close();
  }

  private prune(now: number): void {
    if (this.recent.size < 1000) return;
    for (const [key, expires] of this.recent) if (expires <= now) this.recent.delete(key);
  }
}

const imageKey = (platform: string, messageId: string): string => `image:${platform}:${messageId}`;
const conversationKey = (platform: string, conversationId: string): string =>
  `conversation:${platform}:${conversationId}`;
const settingsKey = (platform: string, userId: string): string => `settings:${platform}:${userId}`;
