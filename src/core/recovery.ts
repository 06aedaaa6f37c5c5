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

export async function recoverRuns(deps: RecoveryDeps): Promise<RecoverySummary> {
  const { store, logger } = deps;
  const summary: RecoverySummary = { waiting: 0, continued: 0, givenUp: 0, left: 0 };
  for (let run of await store.unfinishedRuns()) {
    const log = logger.child({ runId: run.runId, platform: run.platform });
    const restorer = deps.restorers.get(run.platform);
    if (restorer === undefined) {
      summary.left++;
      continue;
    }
    try {
      if (run.state === "running") {
        if (!(await deps.lease.ownerGone(run.owner))) {
          summary.left++;
          continue;
        }
        const interrupted = await store.moveRun(run.runId, "interrupted", {
          reason: "its process went away",
        });
        if (interrupted === undefined) continue;
        run = interrupted;
      }
      if (run.address === undefined) {
        // Console runs and the like: nowhere to tell, nothing to resume.
        await (run.state === "waiting"
          ? store.moveRun(run.runId, "cancelled", { reason: "cannot be resumed after a restart" })
          : store.moveRun(run.runId, "interrupted", { finished: true }));
        continue;
      }
      if (run.state === "interrupted") {
        const delivered = new Set(run.images.map((image) => image.index)).size;
        const next: AfterRestart =
          run.attempts >= MAX_RUN_ATTEMPTS ? "give-up" : delivered === 0 ? "restart" : "continue";
        log.info("interrupted run found", { attempts: run.attempts, delivered, next });
        const thread = restorer.thread(run.address);
        const tell = (action: () => Promise<void> | undefined) =>
          Promise.resolve(action()).catch((error: unknown) =>
            log.warn("could not tell the thread", { error }),
          );
        if (next === "give-up") {
          await store.moveRun(run.runId, "interrupted", { finished: true });
          await tell(() => thread.postText(restartedSentence(delivered, run.params.n, next)));
          await tell(() => thread.updateStatus(givenUpStatus(delivered, run.params.n)));
          await tell(() => thread.finish?.());
          summary.givenUp++;
          continue;
        }
        const waiting = await store.moveRun(run.runId, "waiting", { resumed: true });
        if (waiting === undefined) continue;
        // Told before it resumes, so the message sits above the images that follow it.
        await tell(() => thread.postText(restartedSentence(delivered, run.params.n, next)));
        deps.resume(waiting, restorer);
        summary.continued++;
        continue;
      }
      if (run.state === "waiting") {
        deps.resume(run, restorer);
        summary.waiting++;
      }
    } catch (error) {
      log.error("could not recover a run", { state: run.state, error });
    }
  }
  return summary;
}
