/**
 * A run as a durable job: everything needed to tell where it is, to show it again after a
 * restart and to run it again, as plain JSON (any store can hold it: keyv/sqlite today, Redis
 * tomorrow). Bytes never go in here: references are descriptors to fetch again, images the bot
 * posted are store keys.
 */

/**
 * `waiting` → `running` → `done` | `failed` | `cancelled` | `interrupted`. An interrupted run
 * (its process went away) goes back to `waiting` once, as a continuation, or stays interrupted
 * for good ("finished") when that was its last attempt.
 */
export type RunState = "waiting" | "running" | "done" | "failed" | "cancelled" | "interrupted";

/** Which state may follow which; anything else is refused by the store. */
export const RUN_TRANSITIONS = {
  waiting: ["running", "cancelled", "failed"],
  running: ["done", "failed", "cancelled", "interrupted"],
  // → waiting: the restart resumes it; → interrupted: it is given up (marked finished).
  interrupted: ["waiting", "interrupted"],
  done: [],
  failed: [],
  cancelled: [],
} as const satisfies Record<RunState, readonly RunState[]>;

/** States that end a run by themselves; an `interrupted` run ends when it is given up. */
const TERMINAL: ReadonlySet<RunState> = new Set(["done", "failed", "cancelled"]);

/** Times a run may be started: the first run and one restart or continuation, so a crash cannot loop. */
export const MAX_RUN_ATTEMPTS = 2;

export function canMove(from: RunState, to: RunState): boolean {
  return (RUN_TRANSITIONS[from] as readonly RunState[]).includes(to);
}

export function isTerminal(state: RunState): boolean {
  return TERMINAL.has(state);
}

/**
 * Where a run's output goes, enough for the adapter to rebuild its output thread with nothing
 * else (after a restart, or in another process). Strings only, so it serialises anywhere.
 */
export interface ThreadAddress {
  platform: string;
  /** Slack channel id, Discord channel id. */
  channel: string;
  /** The thread the results go into (Slack thread ts, Discord message replied to). */
  thread?: string;
  /** The status message edited as the run goes, once it exists. */
  statusMessageId?: string;
  /** Anything else the adapter needs to rebuild the thread (e.g. who to answer privately). */
  details?: Record<string, string>;
}

/**
 * Where to fetch a reference again: an image the bot posted (its store key: platform and
 * message id) or a user's file (whatever the adapter needs to open it again; never bytes).
 */
export type ReferenceDescriptor = { kind: "stored"; platform: string; messageId: string } | FileDescriptor;

/** A user's file, as the adapter can open it again. */
export interface FileDescriptor {
  kind: "file";
  platform: string;
  name: string;
  contentType?: string;
  size?: number;
  /** Adapter-specific location (Slack file id; Discord channel/message/attachment ids). */
  locator: Record<string, string>;
}

/** A process that may own running runs; its heartbeat tells others whether it is still there. */
export interface ProcessInfo {
  /** Unique per process start (not the pid: a restarted container often gets the same pid). */
  id: string;
  pid: number;
  host: string;
  startedAt: number;
  beatAt: number;
}

/**
 * Whether the process that owned a run is gone. On this host a dead pid, or our own pid under
 * another id (the previous life of this container), is gone at once; elsewhere a missing or
 * stale heartbeat decides.
 */
export function ownerGone(
  owner: string | undefined,
  heartbeat: ProcessInfo | undefined,
  me: ProcessInfo,
  options: { now: number; staleMs: number; pidAlive(pid: number): boolean },
): boolean {
  if (owner === undefined) return true;
  if (owner === me.id) return false;
  if (heartbeat === undefined) return true;
  if (heartbeat.host === me.host && (heartbeat.pid === me.pid || !options.pidAlive(heartbeat.pid)))
    return true;
  return options.now - heartbeat.beatAt > options.staleMs;
}

/** `process.kill(pid, 0)`: true while a process with that pid exists (EPERM: it exists, not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === "EPERM";
  }
}

/** 0-based image indexes of `n` that no delivered image has, in order: what a continuation makes. */
export function missingIndexes(n: number, delivered: Iterable<number>): number[] {
  const have = new Set(delivered);
  return Array.from({ length: n }, (_, index) => index).filter((index) => !have.has(index));
}
