import { type AfterRestart, givenUpStatus, restartedSentence } from "./messages.js";
import type { PlatformRestorer } from "./ports.js";
import type { ProcessLease } from "./process-lease.js";
import { MAX_RUN_ATTEMPTS } from "./run-record.js";
import type { Logger } from "./runtime.js";
import type { BotStore, RunRecord } from "./store.js";

/**
 * Start-up: the runs an earlier process left unfinished, in their old order. A run left
 * `running` by a process that is gone is interrupted; an interrupted run's thread is told once
 * what had been delivered, then the run starts again (nothing delivered) or continues with the
 * missing images, unless that was its last attempt; waiting runs take their places in line again.
 */

export interface RecoveryDeps {
  store: BotStore;
  lease: ProcessLease;
  /** By platform name: only runs of platforms this process serves are picked up. */
  restorers: ReadonlyMap<string, PlatformRestorer>;
  logger: Logger;
  /** Lines a run up again (synchronously joins the limiter's line, so call order is queue order). */
  resume(run: RunRecord, restorer: PlatformRestorer): void;
}

export interface RecoverySummary {
  /** Waiting runs lined up again. */
  waiting: number;
  /** Interrupted runs started again or continued. */
  continued: number;
  /** Interrupted runs given up (their last attempt). */
  givenUp: number;
  /** Runs of another platform, or running in a live process. */
  left: number;
}

/** What became of one unfinished run whose process may be gone. */
export type Revival =
  /** Ready to run here (its record `waiting` again); `continued`: after an interruption. */
  | { kind: "resume"; run: RunRecord; continued: boolean }
  /** Still running in a live process: leave it. */
  | { kind: "left" }
  /** Nothing more to do: given up, or it cannot be resumed (no address). */
  | { kind: "ended"; run: RunRecord; givenUp: boolean };

export interface ReviveDeps {
  store: BotStore;
  lease: ProcessLease;
  logger: Logger;
}

/**
 * One unfinished run, found at start-up or taken from the shared queue: a run left `running`
 * by a process that is gone is interrupted; an interrupted run's thread is told once what had
 * been delivered, then it is lined up to start again (nothing delivered) or to continue with
 * the missing images, unless that was its last attempt.
 */
export async function reviveRun(
  found: RunRecord,
  restorer: PlatformRestorer,
  deps: ReviveDeps,
): Promise<Revival> {
  const { store } = deps;
  let run = found;
  const log = deps.logger.child({ runId: run.runId, platform: run.platform });
  if (run.state === "running") {
    if (!(await deps.lease.ownerGone(run.owner))) return { kind: "left" };
    const interrupted = await store.moveRun(run.runId, "interrupted", { reason: "its process went away" });
    // Moved meanwhile by someone else (cancelled, or another process got there first).
    if (interrupted === undefined) return { kind: "left" };
    run = interrupted;
  }
  if (run.address === undefined) {
    // Console runs and the like: nowhere to tell, nothing to resume.
    const ended = await (run.state === "waiting"
      ? store.moveRun(run.runId, "cancelled", { reason: "cannot be resumed after a restart" })
      : store.moveRun(run.runId, "interrupted", { finished: true }));
    return { kind: "ended", run: ended ?? run, givenUp: false };
  }
  if (run.state === "waiting") return { kind: "resume", run, continued: false };
  if (run.state !== "interrupted") return { kind: "left" };
  const delivered = new Set(run.images.map((image) => image.index)).size;
  const next: AfterRestart =
    run.attempts >= MAX_RUN_ATTEMPTS ? "give-up" : delivered === 0 ? "restart" : "continue";
  log.info("interrupted run found", { attempts: run.attempts, delivered, next });
  const thread = restorer.thread(run.address);
  const tell = (action: () => Promise<void> | undefined) =>
    Promise.resolve(action()).catch((error: unknown) => log.warn("could not tell the thread", { error }));
  const total = run.params.n;
  if (next === "give-up") {
    const ended = await store.moveRun(run.runId, "interrupted", { finished: true });
    if (ended === undefined) return { kind: "left" };
    await tell(() => thread.postText(restartedSentence(delivered, total, next)));
    await tell(() => thread.updateStatus(givenUpStatus(delivered, total)));
    await tell(() => thread.finish?.());
    return { kind: "ended", run: ended, givenUp: true };
  }
  const waiting = await store.moveRun(run.runId, "waiting", { resumed: true });
  if (waiting === undefined) return { kind: "left" };
  // Told before it resumes, so the message sits above the images that follow it.
  await tell(() => thread.postText(restartedSentence(delivered, total, next)));
  return { kind: "resume", run: waiting, continued: true };
}

export async function recoverRuns(deps: RecoveryDeps): Promise<RecoverySummary> {
  const { logger } = deps;
  const summary: RecoverySummary = { waiting: 0, continued: 0, givenUp: 0, left: 0 };
  for (const run of await deps.store.unfinishedRuns()) {
    const restorer = deps.restorers.get(run.platform);
    if (restorer === undefined) {
      summary.left++;
      continue;
    }
    try {
      const revival = await reviveRun(run, restorer, deps);
      if (revival.kind === "left") summary.left++;
      else if (revival.kind === "ended") {
        if (revival.givenUp) summary.givenUp++;
      } else {
        deps.resume(revival.run, restorer);
        if (revival.continued) summary.continued++;
        else summary.waiting++;
      }
    } catch (error) {
      logger.error("could not recover a run", { runId: run.runId, state: run.state, error });
    }
  }
  return summary;
}
