import type Keyv from "keyv";
import { StoreError } from "./errors.js";
import type { UserSettings } from "./grammar.js";
import type { StoredImageRef } from "./ports.js";
import {
  canMove,
  isTerminal,
  type ProcessInfo,
  type ReferenceDescriptor,
  type RunState,
  type ThreadAddress,
} from "./run-record.js";
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

export interface RunParams {
  model?: string;
  size?: string;
  seed?: number;
  watermark: boolean;
  n: number;
  fast?: boolean;
  /** `--format png|jpeg`. */
  format?: "png" | "jpeg";
  /** `--web`. */
  web?: boolean;
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
  userName?: string;
  /** The requester's team (workspace / server): whose quota a continuation after a restart counts in. */
  teamId?: string;
  prompt: string;
  /** Parsed parameters, `model` as resolved when the request was accepted. */
  params: RunParams;
  createdAt: number;
  /** What was delivered so far (image indexes and their message ids), in the order posted. */
  images: ImageRecord[];
  state: RunState;
  /** Queue order: lower starts first; kept across restarts. */
  seq: number;
  /** Times the run was started (moved to `running`); see MAX_RUN_ATTEMPTS. */
  attempts: number;
  /** Where the output goes; undefined for threads that cannot be rebuilt (console). */
  address?: ThreadAddress;
  references: ReferenceDescriptor[];
  /** The process running it (ProcessInfo.id), while `running`. */
  owner?: string;
  updatedAt: number;
  /** Set once the run needs nothing more: it leaves the queue of unfinished runs. */
  finishedAt?: number;
  /** Taken up again after a restart. */
  resumed?: boolean;
  /** Why it failed or was interrupted, for operators (never shown to users as is). */
  reason?: string;
}

/** What a new request records; the store fills in state, queue order and bookkeeping. */
export type NewRun = Omit<
  RunRecord,
  "images" | "state" | "seq" | "attempts" | "updatedAt" | "finishedAt" | "owner" | "resumed" | "references"
> & { references?: ReferenceDescriptor[] };

/** Fields a state change may set along with the state. */
export interface RunChange {
  owner?: string | undefined;
  address?: ThreadAddress;
  resumed?: boolean;
  reason?: string;
  /** Only for `interrupted`: the run is given up and leaves the queue. */
  finished?: boolean;
}

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
  /** Serialises read-modify-write updates of one record (a run, or the queue). */
  private readonly locks = new Map<string, Promise<unknown>>();

  private readonly keyv: Keyv;
  private closed = false;

  constructor(
    private readonly backend: StoreBackend,
    private readonly ttlMs: number,
  ) {
    this.keyv = backend.keyv;
  }

  async recordRun(run: NewRun): Promise<void> {
    const record: RunRecord = { ...fresh(run, 0), state: "running", attempts: 1 };
    await this.keyv.set(runKey(run.runId), record, this.ttlMs);
  }

  async enqueueRun(run: NewRun): Promise<RunRecord> {
    return this.withLock(QUEUE_KEY, async () => {
      const seq = ((await this.keyv.get<number>(SEQ_KEY)) ?? 0) + 1;
      const record = fresh(run, seq);
      await this.keyv.set(runKey(run.runId), record, this.ttlMs);
      await this.keyv.set(SEQ_KEY, seq);
      const queue = (await this.keyv.get<string[]>(QUEUE_KEY)) ?? [];
      await this.keyv.set(QUEUE_KEY, [...queue, run.runId]);
      return record;
    });
  }

  async moveRun(runId: string, to: RunState, change: RunChange = {}): Promise<RunRecord | undefined> {
    const moved = await this.withLock(runId, async () => {
      const run = await this.getRun(runId);
      if (run === undefined || run.finishedAt !== undefined || !canMove(run.state, to)) return undefined;
      if (run.state === to && !(to === "interrupted" && change.finished)) return undefined;
      const { finished, ...fields } = change;
      const now = Date.now();
      const next: RunRecord = { ...run, ...fields, state: to, updatedAt: now };
      if (to === "running") next.attempts = run.attempts + 1;
      if (to !== "running" && !("owner" in change)) delete next.owner;
      if (isTerminal(to) || (to === "interrupted" && finished)) next.finishedAt = now;
      await this.keyv.set(runKey(runId), next, this.ttlMs);
      return next;
    });
    if (moved?.finishedAt !== undefined) {
      await this.withLock(QUEUE_KEY, async () => {
        const queue = (await this.keyv.get<string[]>(QUEUE_KEY)) ?? [];
        if (queue.includes(runId))
          await this.keyv.set(
            QUEUE_KEY,
            queue.filter((id) => id !== runId),
          );
      });
    }
    return moved;
  }

  async setRunAddress(runId: string, address: ThreadAddress): Promise<void> {
    await this.withLock(runId, async () => {
      const run = await this.getRun(runId);
      if (run === undefined) return;
      await this.keyv.set(runKey(runId), { ...run, address, updatedAt: Date.now() }, this.ttlMs);
    });
  }

  async unfinishedRuns(): Promise<RunRecord[]> {
    const queue = (await this.keyv.get<string[]>(QUEUE_KEY)) ?? [];
    const runs = await Promise.all(queue.map((runId) => this.getRun(runId)));
    return runs
      .filter((run): run is RunRecord => run !== undefined && run.finishedAt === undefined)
      .sort((a, b) => a.seq - b.seq);
  }

  async heartbeat(info: ProcessInfo, ttlMs: number): Promise<void> {
    await this.keyv.set(`process:${info.id}`, info, ttlMs);
  }

  async processInfo(id: string): Promise<ProcessInfo | undefined> {
    return (await this.keyv.get<ProcessInfo>(`process:${id}`)) ?? undefined;
  }

  async recordImage(image: ImageRecord): Promise<void> {
    await this.keyv.set(imageKey(image.platform, image.messageId), image, this.ttlMs);
    await this.withLock(image.runId, async () => {
      const run = await this.getRun(image.runId);
      if (run === undefined) return;
      run.images = [...run.images.filter((other) => other.messageId !== image.messageId), image];
      run.updatedAt = Date.now();
      await this.keyv.set(runKey(run.runId), run, this.ttlMs);
    });
    await this.keyv.set(conversationKey(image.platform, image.conversationId), image.runId, this.ttlMs);
  }

  async findImage(platform: string, messageId: string): Promise<ImageRecord | undefined> {
    return (await this.keyv.get<ImageRecord>(imageKey(platform, messageId))) ?? undefined;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const run = await this.keyv.get<RunRecord>(runKey(runId));
    return run ? withDefaults(run) : undefined;
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

  private async withLock<T>(key: string, update: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(update, update);
    const settled = next.catch(() => {});
    this.locks.set(key, settled);
    try {
      return await next;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }
}

const QUEUE_KEY = "runs:unfinished";
const SEQ_KEY = "runs:seq";
const runKey = (runId: string): string => `run:${runId}`;

function fresh(run: NewRun, seq: number): RunRecord {
  return {
    ...run,
    images: [],
    state: "waiting",
    seq,
    attempts: 0,
    references: run.references ?? [],
    updatedAt: Date.now(),
  };
}

/** Records written before runs were durable read as finished runs of one attempt. */
function withDefaults(run: RunRecord): RunRecord {
  if (run.state !== undefined) return run;
  return { ...run, state: "done", seq: 0, attempts: 1, references: [], updatedAt: run.createdAt };
}

const imageKey = (platform: string, messageId: string): string => `image:${platform}:${messageId}`;
const conversationKey = (platform: string, conversationId: string): string =>
  `conversation:${platform}:${conversationId}`;
const settingsKey = (platform: string, userId: string): string => `settings:${platform}:${userId}`;
