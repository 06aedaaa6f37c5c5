import type { StoredImageRef } from "./ports.js";
import type { ReservationTicket } from "./quotas.js";
import {
  canMove,
  isTerminal,
  type ReferenceDescriptor,
  RUN_TRANSITIONS,
  type RunState,
  type ThreadAddress,
} from "./run-record.js";

/**
 * The run records the store keeps, and the small port that holds them: a keyv implementation
 * (memory, sqlite: one process, in-process locks) and a Redis one (many processes, each change
 * one Lua script). The state machine is decided here, in TS, once: a move becomes a `MovePlan`
 * that either implementation applies in one step.
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
  /** The quota reservation of a run handed to the shared queue: settled by whoever finishes it. */
  reserved?: ReservationTicket;
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

/** Where run records live; every method is one atomic step for every process sharing it. */
export interface RunRecords {
  /** Writes a run as it is (replacing any record of that id), outside the queue. */
  put(record: RunRecord): Promise<void>;
  /** Gives the run the next queue number and writes it `waiting` in the queue, in one step. */
  enqueue(run: NewRun): Promise<RunRecord>;
  /** Applies `plan` if the run's current state allows it; undefined (nothing changed) otherwise. */
  move(runId: string, plan: MovePlan): Promise<RunRecord | undefined>;
  /** Sets the run's address, whatever its state; nothing when the run is unknown. */
  setAddress(runId: string, address: ThreadAddress): Promise<void>;
  /** Adds a delivered image (replacing one with the same message id); nothing when the run is unknown. */
  addImage(image: ImageRecord): Promise<void>;
  get(runId: string): Promise<RunRecord | undefined>;
  /** Unfinished runs in queue order. */
  unfinished(): Promise<RunRecord[]>;
}

/** A state change as data: what it requires of the current record and what it writes. */
export interface MovePlan {
  to: RunState;
  /** States the run may be in for the move to happen (and it must not be finished). */
  from: readonly RunState[];
  /** Entering `running` counts an attempt. */
  countAttempt: boolean;
  /** The run needs nothing more: it gets `finishedAt` and leaves the queue. */
  finish: boolean;
  /** Fields written along with the state (top-level record fields). */
  set: Readonly<Record<string, unknown>>;
  /** Fields removed. */
  unset: readonly string[];
}

const STATES = Object.keys(RUN_TRANSITIONS) as RunState[];

/** The rules of `BotStore.moveRun` (see there), as a plan any `RunRecords` applies atomically. */
export function planMove(to: RunState, change: RunChange = {}): MovePlan {
  const { finished, ...fields } = change;
  // Staying in a state is no move, except giving up an interrupted run.
  const from = STATES.filter(
    (state) => canMove(state, to) && (state !== to || (to === "interrupted" && finished === true)),
  );
  const set: Record<string, unknown> = {};
  const unset: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) unset.push(key);
    else set[key] = value;
  }
  // Only a running run has an owner, unless the change names one.
  if (to !== "running" && !("owner" in change)) unset.push("owner");
  return {
    to,
    from,
    countAttempt: to === "running",
    finish: isTerminal(to) || (to === "interrupted" && finished === true),
    set,
    unset,
  };
}

/** `plan` applied to `run` at `now`, or undefined when the run's state does not allow it. */
export function applyMove(run: RunRecord, plan: MovePlan, now: number): RunRecord | undefined {
  if (run.finishedAt !== undefined || !plan.from.includes(run.state)) return undefined;
  const next = { ...run, ...plan.set, state: plan.to, updatedAt: now } as RunRecord;
  for (const key of plan.unset) delete (next as unknown as Record<string, unknown>)[key];
  if (plan.countAttempt) next.attempts = run.attempts + 1;
  if (plan.finish) next.finishedAt = now;
  return next;
}

/** A new run's record: `waiting` with queue number `seq`, nothing delivered, no attempt yet. */
export function freshRun(run: NewRun, seq: number, now: number): RunRecord {
  return {
    ...run,
    images: [],
    state: "waiting",
    seq,
    attempts: 0,
    references: run.references ?? [],
    updatedAt: now,
  };
}
