import { randomUUID } from "node:crypto";
import type { ImageGenerator } from "../seedream/types.js";
import { SETTINGS_CLEARED, settingsSaved, settingsShown } from "./cost-messages.js";
import { type CounterStore, MemoryCounters } from "./counters.js";
import { InterruptedError, QueueFullError, ReferenceImageError, UserQueueFullError } from "./errors.js";
import { type FollowUpCommand, readFollowUp } from "./follow-ups.js";
import { type GenerationParams, parseCommand, type SettingsCommand, type UserSettings } from "./grammar.js";
import type { ImageBudget } from "./image-budget.js";
import { RunLimiter } from "./limits.js";
import {
  cancelReply,
  errorSentence,
  QUEUED_STATUS,
  queueFullSentence,
  resumedStatus,
  userQueueFullSentence,
} from "./messages.js";
import { noObserver, type RunObserver, runOutcome } from "./observer.js";
import { createPolicy } from "./policy.js";
import type { Attachment, FollowUp, IncomingRequest, OutputThread, PlatformRestorer } from "./ports.js";
import { createProcessLease, type ProcessLease } from "./process-lease.js";
import { QueuePositions } from "./queue-positions.js";
import { type CostSettings, Quotas, type Requester, type Reservation } from "./quotas.js";
import { type RecoverySummary, recoverRuns, reviveRun } from "./recovery.js";
import {
  checkRequest,
  execute,
  type GenerateDeps,
  generate,
  type HandleResult,
  type Plan,
  planFor,
  type RunTracker,
  rejectRequest,
} from "./request-run.js";
import type { QueuedRun, RunQueue, RunVerdict, WorkOptions } from "./run-queue.js";
import type { ReferenceDescriptor, ThreadAddress } from "./run-record.js";
import { type Clock, type Logger, realSleep, type Sleep, silentLogger, systemClock } from "./runtime.js";
import type { CoreSettings } from "./settings.js";
import { StatusThrottle, type StatusTimers, systemStatusTimers } from "./status-throttle.js";
import type { BotStore, RunRecord } from "./store.js";
import { helpText } from "./usage.js";

/**
 * The one entry every platform feeds, and the request lifecycle all of them share: dedupe a
 * delivery → read the command (once) → pick references → check limits → wait for a slot →
 * download references → run → record, with every request in flight tracked so `shutdown` can
 * cancel and wait for it. `submit` never throws: whatever goes wrong becomes one sentence.
 */

export interface HandlerDeps {
  generator: ImageGenerator;
  store: BotStore;
  settings: CoreSettings;
  /** Quota and usage counters (default: in this process's memory). */
  counters?: CounterStore;
  clock?: Clock;
  sleep?: Sleep;
  logger?: Logger;
  /** Timers of the status throttle (tests pass a manual one). */
  statusTimers?: StatusTimers;
  /** Run ids (default: random UUIDs). */
  newRunId?: () => string;
  /**
   * New runs wait until `recover()` has lined up the runs recorded earlier (the bot sets this;
   * the console and tests that never recover leave it off).
   */
  recoverOnStart?: boolean;
  /** This process's claim on its runs (default: a lease on `store`). */
  lease?: ProcessLease;
  /** SEEDREAM_IMAGES_PER_MINUTE's budget, when set. */
  imageBudget?: ImageBudget;
  /** Metrics and the audit line (default: none). */
  observer?: RunObserver;
  /**
   * The run queue shared by every process (STORE_URL=redis://): accepted runs are handed to it
   * and `work` takes them from it. Without one, runs wait and run in this process.
   */
  queue?: RunQueue;
}

/** How runs handed to the shared queue are followed. */
export const HAND_OFF_DEFAULTS = {
  /** How often a run going on reads its record (a Cancel from another process stops it). */
  watchRecordMs: 2_000,
  /** A run whose old process may still be alive is looked at again after this long. */
  ownerAliveRetryMs: 5_000,
} as const satisfies Record<string, number>;

export type { HandleOutcome, HandleResult } from "./request-run.js";

/**
 * The command of a request, read once. An adapter that must decide before answering whether
 * the answer is public (a slash command's parent message, a deferred interaction) reads
 * `kind === "generate"`: help, cancel and every mistake in the command are answered privately.
 */
export type Reading =
  | { kind: "help" }
  | { kind: "cancel" }
  | { kind: "usage" }
  | SettingsCommand
  | { kind: "generate"; params: GenerationParams; plan: Plan }
  | { kind: "mistake"; error: unknown };

/**
 * A request whose details cost I/O to gather (or that needs a public message first): built only
 * after dedupe, and tracked meanwhile.
 */
export interface PendingRequest {
  platform: string;
  /**
   * The request, or undefined when there is nothing to answer (the adapter said why itself).
   * `thread` replaces the one given to `submit` when the answer's thread only exists now (a slash
   * command's parent message); the first one then only hears about a failure to build.
   */
  build(): Promise<{ request: IncomingRequest; thread?: OutputThread } | undefined>;
}

export interface SubmitOptions {
  /** Keys of this delivery (event id, message id…): a key seen before makes it a duplicate. */
  deliveryKey?: string | readonly string[];
  /** `read(request)` of this same request, when the adapter needed it first (not parsed again). */
  reading?: Reading;
  /** `admit(request, reading)` of this same request, when the adapter needed it first. */
  admission?: Admission;
}

/** What a Cancel press did. */
export type CancelRunResult =
  | { kind: "cancelled" }
  /** The run is not going on (it finished, or its record is gone). */
  | { kind: "over" }
  /** Someone else's run, and the presser is no admin: only `requesterId` may cancel it. */
  | { kind: "refused"; requesterId: string };

export interface CancelRunBy {
  userId: string;
  /** Whether the presser may cancel anyone's run; only asked when the run is someone else's. */
  isAdmin?(): Promise<boolean>;
}

/**
 * Whether a request may spend: its reading with the user's saved settings applied, and the
 * images it reserved against the quotas (given back, less what was delivered, when it ends).
 * Refused: the private sentence that says why (the limit, what is left, when it resets).
 */
export type Admission =
  | { granted: true; reading: Reading; reservation?: Reservation }
  | { granted: false; message: string };

export interface Handler {
  /**
   * Reads the command of a request without I/O: parse, model choice, the channel and word
   * policy, every check it allows. `user`: the saved settings to apply (see `admit`).
   */
  read(request: IncomingRequest, user?: UserSettings): Reading;
  /**
   * Applies the user's saved settings and reserves the request's images against the quotas:
   * the one admission every way of starting a run goes through (`submit` calls it when not
   * given one). An adapter calls it first only when it must know before answering publicly.
   */
  admit(request: IncomingRequest, reading?: Reading): Promise<Admission>;
  /** Answers a request in `thread`; resolves when it is answered (the run included). */
  submit(
    request: IncomingRequest | PendingRequest,
    thread: OutputThread,
    options?: SubmitOptions,
  ): Promise<HandleResult>;
  /**
   * Cancels the user's running and waiting runs, found through the store (so also runs recorded
   * before a restart); returns how many.
   */
  cancel(platform: string, userId: string): Promise<number>;
  /** The Cancel button of one run: only its requester, or an admin, may stop it. */
  cancelRun(platform: string, runId: string, by: CancelRunBy): Promise<CancelRunResult>;
  /**
   * Start-up: starts this process's heartbeat and picks up the runs earlier processes left
   * unfinished, in their old order (see recovery.ts). New runs queue behind them.
   */
  recover(restorers: readonly PlatformRestorer[]): Promise<RecoverySummary>;
  /**
   * Starts taking runs from the shared queue (roles `all` and `worker` on Redis), at most
   * `concurrency` at once here, in threads `restorers` rebuild. Resolves once taking.
   */
  work(restorers: readonly PlatformRestorer[], options: WorkOptions): Promise<void>;
  /**
   * SIGTERM/SIGINT: new runs are recorded and left waiting for the next process, waiting ones
   * stay waiting, running ones get `graceMs` to finish and are then interrupted (the next
   * process continues them). Resolves once nothing is in flight.
   */
  drain(graceMs: number): Promise<void>;
  /**
   * Stops taking requests (of `platform`, or all), cancels those in flight (their users see
   * "Cancelled.") and resolves once every one of them is answered.
   */
  shutdown(platform?: string): Promise<void>;
  /** Resolves once every request of `platform` (or all) submitted so far is answered. */
  idle(platform?: string): Promise<void>;
}

interface Task {
  platform: string;
  userKey?: string;
  done?: Promise<unknown>;
}

export function createHandler(deps: HandlerDeps): Handler {
  const { generator, store, settings } = deps;
  const logger = deps.logger ?? silentLogger;
  const statusTimers = deps.statusTimers ?? systemStatusTimers;
  const queue = deps.queue;
  // With a shared queue the queue's limits hold across processes; this one only tracks (and
  // cancels) the runs this process works on.
  const limiter = new RunLimiter(queue ? UNLIMITED : settings.limits, statusTimers);
  const clock = deps.clock ?? systemClock;
  const quotas = new Quotas(
    deps.counters ?? new MemoryCounters(clock),
    settings.cost ?? NO_QUOTAS,
    settings.seedream.provider,
    clock,
  );
  const policy = createPolicy(settings.policy);
  const userKey = (platform: string, userId: string) => `${platform}:${userId}`;
  const tasks = new Set<Task>();
  const closed = new Set<string>();
  let closedAll = false;
  let draining = false;
  // Across processes a dead worker's runs are taken over sooner: its heartbeat goes stale in 15 s.
  const lease =
    deps.lease ?? createProcessLease(store, logger, queue ? { heartbeatMs: 5_000, staleMs: 15_000 } : {});
  const observer = deps.observer ?? noObserver;
  observer.watchLoad(
    queue
      ? async () => ({ queued: await queue.length().catch(() => 0), running: limiter.runningCount })
      : () => ({ queued: limiter.waitingCount, running: limiter.runningCount }),
  );
  let markRecovered = () => {};
  const recovered = deps.recoverOnStart
    ? new Promise<void>((resolve) => {
        markRecovered = resolve;
      })
    : Promise.resolve();
  const runDeps: GenerateDeps = {
    generator,
    store,
    settings,
    limiter,
    clock,
    sleep: deps.sleep ?? realSleep,
    newRunId: deps.newRunId ?? randomUUID,
    stopping: (platform) => closedAll || closed.has(platform),
    draining: () => draining,
    recovered,
    owner: lease.info.id,
    local: new Set(),
    active: new Map(),
    ...(deps.imageBudget ? { imageBudget: deps.imageBudget } : {}),
    observer,
    ...(queue
      ? {
          handOff: (record, thread, log, tracker) => handOff(queue, record, thread, log, tracker),
          watchRecordMs: HAND_OFF_DEFAULTS.watchRecordMs,
        }
      : {}),
  };
  /** Platforms' restorers, by name (given to `recover` and `work`). */
  const restorers = new Map<string, PlatformRestorer>();
  const learn = (given: readonly PlatformRestorer[]) => {
    for (const restorer of given) restorers.set(restorer.platform, restorer);
  };
  let working = false;
  /** The places in line of the runs this process handed to the queue. */
  const positions =
    queue && new QueuePositions({ queue, store, restorer: (platform) => restorers.get(platform), logger });

  async function cancel(platform: string, userId: string): Promise<number> {
    let count = limiter.cancel(userKey(platform, userId));
    // Runs this process is not executing: waiting across a restart, or running elsewhere.
    for (const run of await store.unfinishedRuns()) {
      if (run.platform !== platform || run.userId !== userId || runDeps.local.has(run.runId)) continue;
      if (run.state !== "waiting" && run.state !== "running") continue;
      if (await store.moveRun(run.runId, "cancelled", { reason: "cancelled by the user" })) count++;
    }
    return count;
  }

  async function cancelRun(platform: string, runId: string, by: CancelRunBy): Promise<CancelRunResult> {
    const local = runDeps.active.get(runId);
    // Not executing here: waiting (maybe across a restart) or going on in another process.
    const record = local ? undefined : await store.getRun(runId);
    const owner = local ?? (record?.state === "waiting" || record?.state === "running" ? record : undefined);
    if (!owner || owner.platform !== platform) return { kind: "over" };
    if (owner.userId !== by.userId && !(await by.isAdmin?.().catch(() => false))) {
      return { kind: "refused", requesterId: owner.userId };
    }
    if (local) runDeps.active.get(runId)?.abort();
    else if (!(await store.moveRun(runId, "cancelled", { reason: "cancelled with its button" }))) {
      return { kind: "over" };
    }
    logger.info("run cancelled with its button", { platform, runId, by: by.userId });
    return { kind: "cancelled" };
  }

  /** Again, Vary, Edit…: the command and references come from the pressed image's run. */
  async function answerFollowUp(
    request: IncomingRequest,
    followUp: FollowUp,
    thread: OutputThread,
    log: Logger,
    tracker: RunTracker,
  ): Promise<HandleResult> {
    let command: FollowUpCommand;
    try {
      command = await readFollowUp(request, followUp, store, settings);
    } catch (error) {
      return rejectRequest(error, thread, log, { privately: true });
    }
    log.debug("follow-up", { verb: followUp.verb, of: command.run.runId });
    // Buttons spend like typed requests: the same quota, reserved before any Seedream call.
    const refused = policy(request, command.params.prompt);
    if (refused !== undefined) return rejectRequest(refused, thread, log, { privately: true });
    const decision = await quotas.reserve(requester(request), command.params.n);
    if (!decision.granted) {
      log.info("follow-up refused by a quota");
      await (thread.postEphemeral
        ? thread.postEphemeral(decision.message)
        : thread.postText(decision.message));
      return { outcome: "rejected" };
    }
    const plan = planFor(command.params);
    tracker.reservation = decision.reservation;
    return spending(decision.reservation, log, () =>
      generate(runDeps, request, thread, command.params, plan, log, tracker, command.sources),
    );
  }

  /** Runs `work` holding `reservation`, then counts what it delivered and gives back the rest. */
  async function spending(
    reservation: Reservation | undefined,
    log: Logger,
    work: () => Promise<HandleResult>,
  ): Promise<HandleResult> {
    let result: HandleResult | undefined;
    try {
      result = await work();
      return result;
    } finally {
      if (reservation !== undefined) {
        await delivered(result)
          .then((count) => reservation.settle(count, result?.model))
          .catch((error: unknown) => log.error("could not update the quota counters", { error }));
      }
    }
  }

  /** Images a run delivered; for one interrupted by a restart, what its record holds so far. */
  async function delivered(result: HandleResult | undefined): Promise<number> {
    if (result?.run !== undefined) return result.run.delivered;
    if (result?.runId === undefined) return 0;
    return (await store.getRun(result.runId))?.images.length ?? 0;
  }

  /**
   * A recorded run to the shared queue: refused if the line is full (or the user has too many
   * waiting), else its status shown and its address recorded first (the worker edits that
   * message), then queued. The quota reservation travels in the record.
   */
  async function handOff(
    runQueue: RunQueue,
    record: RunRecord,
    thread: OutputThread,
    log: Logger,
    tracker: RunTracker,
  ): Promise<HandleResult> {
    const { runId } = record;
    try {
      const waiting = await runQueue.length();
      if (waiting >= settings.limits.maxQueueLength) throw new QueueFullError(queueFullSentence(waiting));
      if (waiting >= settings.limits.maxQueuedPerUser) {
        const mine = (await store.unfinishedRuns()).filter(
          (run) =>
            run.state === "waiting" &&
            run.runId !== runId &&
            run.platform === record.platform &&
            run.userId === record.userId,
        ).length;
        if (mine >= settings.limits.maxQueuedPerUser)
          throw new UserQueueFullError(userQueueFullSentence(mine));
      }
      await thread.updateStatus(QUEUED_STATUS);
      await tracker.flushStatus?.();
      await runQueue.add({ runId, platform: record.platform, userId: record.userId });
    } catch (error) {
      await store.moveRun(runId, "failed", { reason: "could not be queued" }).catch(() => {});
      await settleHandedOver(record, 0, undefined, log);
      const result = await rejectRequest(error, thread, log, {
        privately: error instanceof UserQueueFullError,
      });
      return { ...result, runId };
    }
    log.info("run queued", { runId });
    positions?.watch(runId);
    return { outcome: "queued", runId };
  }

  /** Settles a handed-off run's quota reservation, once whichever process gets there. */
  async function settleHandedOver(
    record: RunRecord,
    delivered: number,
    model: string | undefined,
    log: Logger,
  ): Promise<void> {
    if (record.reserved === undefined) return;
    try {
      if (await store.seen(`quota-settled:${record.runId}`)) return;
      await quotas.settleTicket(ownerOf(record), record.reserved, delivered, model ?? record.params.model);
    } catch (error) {
      log.error("could not update the quota counters", { error });
    }
  }

  /** A run a worker took from the queue: rebuilt, revived if its old process died, and run. */
  async function processQueued(queued: QueuedRun): Promise<RunVerdict> {
    const log = logger.child({ platform: queued.platform, user: queued.userId, runId: queued.runId });
    try {
      if (draining) return { kind: "handBack" };
      const record = await store.getRun(queued.runId);
      if (record === undefined) return { kind: "done" };
      if (record.finishedAt !== undefined) {
        // Cancelled while it waited, or its worker died after it ended: its quota is settled now.
        await settleHandedOver(record, record.images.length, undefined, log);
        return { kind: "done" };
      }
      const restorer = restorers.get(record.platform);
      if (restorer === undefined) {
        log.error(`no ${record.platform} here to run this queued run on; leaving it to another worker`);
        return { kind: "later", delayMs: 10_000 };
      }
      const revival = await reviveRun(record, restorer, { store, lease, logger: log });
      if (revival.kind === "left") return { kind: "later", delayMs: HAND_OFF_DEFAULTS.ownerAliveRetryMs };
      if (revival.kind === "ended") {
        await settleHandedOver(revival.run, revival.run.images.length, undefined, log);
        return { kind: "done" };
      }
      const result = await runHere(revival.run, restorer, revival.continued);
      return result.outcome === "interrupted" || result.outcome === "queued"
        ? { kind: "handBack" }
        : { kind: "done" };
    } catch (error) {
      // The store is unavailable, say: the run stays recorded and is looked at again.
      log.error("could not take a queued run", { error });
      return { kind: "later", delayMs: HAND_OFF_DEFAULTS.ownerAliveRetryMs };
    }
  }

  /** Runs a recorded run in this process, in the thread its platform rebuilds, tracked for drains. */
  function runHere(record: RunRecord, restorer: PlatformRestorer, resumed: boolean): Promise<HandleResult> {
    const task: Task = { platform: record.platform, userKey: userKey(record.platform, record.userId) };
    const log = logger.child({ platform: record.platform, user: record.userId });
    const rebuilt = restorer.thread(record.address as ThreadAddress);
    const thread = resumed ? resumedThread(rebuilt) : rebuilt;
    const sources = record.references.map((reference) => restoreReference(reference, restorer, store));
    const before = record.images.length;
    return track(task, () =>
      answering(thread, log, { runId: record.runId }, async (output) => {
        const result = await execute(runDeps, record, sources, output, log, resumed ? { resumed: true } : {});
        if (result.outcome === "interrupted" || result.outcome === "queued") return result;
        const count = await delivered(result).catch(() => before);
        const model = result.model ?? record.params.model;
        if (record.reserved !== undefined) await settleHandedOver(record, count, model, log);
        // The old process counted what it delivered; this one counts the rest.
        else
          await quotas
            .count(ownerOf(record), count - before, model)
            .catch((error: unknown) => log.error("could not update the quota counters", { error }));
        return result;
      }),
    );
  }

  function read(request: IncomingRequest, user?: UserSettings): Reading {
    try {
      const command = parseCommand(request.text, {
        defaults: settings.defaults,
        allowPicks: request.replyTo !== undefined || request.continuesThread === true,
        ...(user === undefined ? {} : { user }),
      });
      if (command.kind !== "generate") return command;
      const refused = policy(request, command.params.prompt);
      if (refused !== undefined) return { kind: "mistake", error: refused };
      const plan = planFor(command.params);
      // Without a reply or a thread to continue, the references are the attachments: check now.
      if (request.replyTo === undefined && request.continuesThread !== true) {
        plan.checked = checkRequest(plan, request.attachments.length, generator);
      }
      return { kind: "generate", params: command.params, plan };
    } catch (error) {
      return { kind: "mistake", error };
    }
  }

  async function admit(request: IncomingRequest, reading: Reading = read(request)): Promise<Admission> {
    if (reading.kind !== "generate") return { granted: true, reading };
    const saved = await store.userSettings(request.platform, request.user.id);
    const effective = saved === undefined ? reading : read(request, saved);
    if (effective.kind !== "generate") return { granted: true, reading: effective };
    const decision = await quotas.reserve(requester(request), effective.params.n);
    if (!decision.granted) return decision;
    return { granted: true, reading: effective, reservation: decision.reservation };
  }

  async function answerSettings(request: IncomingRequest, command: SettingsCommand, log: Logger) {
    const { platform, user } = request;
    if (command.action === "show") return settingsShown(await store.userSettings(platform, user.id));
    if (command.action === "reset") {
      await store.saveUserSettings(platform, user.id, undefined);
      return SETTINGS_CLEARED;
    }
    const previous = (await store.userSettings(platform, user.id)) ?? {};
    // A new size or ratio replaces both: a saved 4K beside a new 16:9 would be a surprise.
    const merged: UserSettings = { ...previous, ...command.settings };
    if (command.settings.size !== undefined && command.settings.ar === undefined) delete merged.ar;
    if (command.settings.ar !== undefined && command.settings.size === undefined) delete merged.size;
    // Saved only if a plain request with them would pass the model's checks.
    const probe = read(
      { ...request, text: "settings check", attachments: [], continuesThread: false },
      merged,
    );
    if (probe.kind === "mistake") throw probe.error;
    await store.saveUserSettings(platform, user.id, merged);
    log.info("user settings saved");
    return settingsSaved(merged);
  }

  async function answer(
    request: IncomingRequest,
    thread: OutputThread,
    reading: Reading,
    log: Logger,
    tracker: RunTracker,
    given?: Admission,
  ): Promise<HandleResult> {
    const privately = (text: string) =>
      thread.postEphemeral ? thread.postEphemeral(text) : thread.postText(text);
    switch (reading.kind) {
      case "help":
        await privately(helpText(generator.models?.()));
        return { outcome: "help" };
      case "cancel":
        await privately(cancelReply(await cancel(request.platform, request.user.id)));
        return { outcome: "cancel" };
      case "mistake":
        return rejectRequest(reading.error, thread, log, { privately: true });
      case "usage": {
        const who = requester(request);
        await privately(await quotas.usage(who, quotas.isAdmin(who) || request.user.manager === true));
        return { outcome: "usage" };
      }
      case "settings":
        try {
          await privately(await answerSettings(request, reading, log));
          return { outcome: "settings" };
        } catch (error) {
          return rejectRequest(error, thread, log, { privately: true });
        }
      case "generate": {
        const admission = given ?? (await admit(request, reading));
        if (!admission.granted) {
          log.info("request refused by a quota");
          await privately(admission.message);
          return { outcome: "rejected" };
        }
        const { reservation } = admission;
        if (admission.reading.kind !== "generate") {
          await reservation?.settle(0, undefined);
          return answer(request, thread, admission.reading, log, tracker);
        }
        const { params, plan } = admission.reading;
        if (reservation !== undefined) tracker.reservation = reservation;
        return spending(reservation, log, () =>
          generate(runDeps, request, thread, params, plan, log, tracker),
        );
      }
    }
  }

  /**
   * Runs `work` against the thread as the core shows it (status throttled, the run's address
   * kept in its record once the status message exists), then shows the last status and lets
   * the adapter tidy up.
   */
  async function answering(
    thread: OutputThread,
    log: Logger,
    tracker: RunTracker,
    work: (output: OutputThread) => Promise<HandleResult>,
  ): Promise<HandleResult> {
    let recordedStatus: string | undefined;
    const keepAddress = async () => {
      const address = thread.address?.();
      if (tracker.runId === undefined || address?.statusMessageId === undefined) return;
      if (address.statusMessageId === recordedStatus) return;
      recordedStatus = address.statusMessageId;
      await store
        .setRunAddress(tracker.runId, address)
        .catch((error: unknown) => log.warn("could not record where the run's status is", { error }));
    };
    const status = new StatusThrottle(
      async (text) => {
        await thread.updateStatus(text);
        await keepAddress();
      },
      thread.statusIntervalMs ?? 0,
      statusTimers,
      (error) => log.warn("could not update the status message", { error }),
    );
    tracker.flushStatus = async () => {
      await status.flush();
      await keepAddress();
    };
    try {
      return await work(throttled(thread, status));
    } catch (error) {
      log.error("request failed", { error });
      await thread.postText(errorSentence(error)).catch(() => {});
      return { outcome: "failed" };
    } finally {
      await status.flush();
      await thread.finish?.().catch((error: unknown) => log.warn("could not finish the answer", { error }));
    }
  }

  async function run(
    task: Task,
    source: IncomingRequest | PendingRequest,
    firstThread: OutputThread,
    options: SubmitOptions,
  ): Promise<HandleResult> {
    const log = logger.child({ platform: task.platform });
    const unanswered = async (result: HandleResult): Promise<HandleResult> => {
      // An admission the adapter took first: its reservation is given back whole.
      if (options.admission?.granted)
        await options.admission.reservation?.settle(0, undefined).catch(() => {});
      return result;
    };
    let built: { request: IncomingRequest; thread?: OutputThread } | undefined;
    try {
      const keys =
        typeof options.deliveryKey === "string" ? [options.deliveryKey] : (options.deliveryKey ?? []);
      for (const key of keys) {
        if (await store.seen(key)) {
          log.debug(`duplicate ${task.platform} delivery ignored`, { key });
          return unanswered({ outcome: "duplicate" });
        }
      }
      built = "build" in source ? await source.build() : { request: source };
    } catch (error) {
      log.error("request failed", { error });
      await firstThread.postText(errorSentence(error)).catch(() => {});
      return unanswered({ outcome: "failed" });
    }
    if (built === undefined || runDeps.stopping(task.platform)) return unanswered({ outcome: "ignored" });
    const { request } = built;
    task.userKey = userKey(request.platform, request.user.id);
    return answerIn(
      built.thread ?? firstThread,
      request,
      options.reading,
      log.child({ user: request.user.id }),
      options.admission,
    );
  }

  /** Answers a built request in `thread` (see `answering`). */
  async function answerIn(
    thread: OutputThread,
    request: IncomingRequest,
    reading: Reading | undefined,
    log: Logger,
    admission: Admission | undefined,
  ): Promise<HandleResult> {
    const tracker: RunTracker = {};
    return answering(thread, log, tracker, async (output) => {
      const result = request.followUp
        ? await answerFollowUp(request, request.followUp, output, log, tracker)
        : await answer(request, output, reading ?? read(request), log, tracker, admission);
      log.debug("request answered", { outcome: result.outcome, runId: result.runId });
      return result;
    });
  }

  /** Tracks a request in flight (shutdown and idle wait for it). */
  function track(task: Task, work: () => Promise<HandleResult>): Promise<HandleResult> {
    const done = work();
    void done.then(
      ({ outcome }) => {
        const ended = runOutcome(outcome);
        if (ended) observer.requestEnded(task.platform, ended);
      },
      () => {},
    );
    task.done = done;
    tasks.add(task);
    void done.finally(() => tasks.delete(task));
    return done;
  }

  /** A run recorded earlier, lined up again at once (see `execute`), in its rebuilt thread. */
  function resume(record: RunRecord, restorer: PlatformRestorer): void {
    void runHere(record, restorer, true);
  }

  function submit(
    source: IncomingRequest | PendingRequest,
    thread: OutputThread,
    options: SubmitOptions = {},
  ): Promise<HandleResult> {
    const task: Task = { platform: source.platform };
    if (runDeps.stopping(task.platform)) {
      logger.debug("request ignored: shutting down", { platform: task.platform });
      if (options.admission?.granted)
        void options.admission.reservation?.settle(0, undefined).catch(() => {});
      return Promise.resolve({ outcome: "ignored" });
    }
    return track(task, () => run(task, source, thread, options));
  }

  const matching = (platform: string | undefined) =>
    [...tasks].filter((task) => platform === undefined || task.platform === platform);

  async function idle(platform?: string): Promise<void> {
    for (let open = matching(platform); open.length > 0; open = matching(platform)) {
      await Promise.allSettled(open.map((task) => task.done));
    }
  }

  async function recover(given: readonly PlatformRestorer[]): Promise<RecoverySummary> {
    learn(given);
    try {
      await lease.start();
      if (queue) return await requeue(queue);
      const summary = await recoverRuns({
        store,
        lease,
        restorers: new Map(given.map((restorer) => [restorer.platform, restorer])),
        logger,
        resume,
      });
      logger.info("recovery finished", { ...summary });
      return summary;
    } finally {
      markRecovered();
    }
  }

  /**
   * Start-up with a shared queue: every unfinished run not running is queued again (a no-op for
   * those still queued), so none is lost between its record and its queue entry. Runs left
   * running by a dead process come back through the queue's stalled-job checks.
   */
  async function requeue(runQueue: RunQueue): Promise<RecoverySummary> {
    const summary: RecoverySummary = { waiting: 0, continued: 0, givenUp: 0, left: 0 };
    for (const run of await store.unfinishedRuns()) {
      if (run.state === "running" || run.address === undefined) {
        summary.left++;
        continue;
      }
      await runQueue.add({ runId: run.runId, platform: run.platform, userId: run.userId });
      if (run.state === "waiting") summary.waiting++;
      else summary.continued++;
    }
    logger.info("queued runs checked", { ...summary });
    return summary;
  }

  async function work(given: readonly PlatformRestorer[], options: WorkOptions): Promise<void> {
    if (queue === undefined) throw new Error("work() needs a shared run queue (STORE_URL=redis://)");
    learn(given);
    if (working) return;
    working = true;
    await queue.work(processQueued, options);
    logger.info("taking runs from the queue", { concurrency: options.concurrency });
  }

  async function drain(graceMs: number): Promise<void> {
    draining = true;
    logger.info("shutting down: new runs wait for the next process", {
      graceMs,
      running: limiter.runningCount,
      waiting: limiter.waitingCount,
    });
    limiter.closeLine(() => new InterruptedError());
    const interrupt = setTimeout(() => limiter.abortRunning(() => new InterruptedError()), graceMs);
    try {
      // The queue hands this process no more runs; those it works on end (or are interrupted
      // at the grace and handed back for another worker).
      await Promise.all([working ? queue?.stopWorking() : undefined, idle()]);
    } finally {
      positions?.stop();
      clearTimeout(interrupt);
      lease.stop();
    }
  }

  return {
    read,
    admit,
    submit,
    cancel,
    cancelRun,
    recover,
    work,
    drain,
    idle,
    async shutdown(platform) {
      if (platform === undefined) closedAll = true;
      else closed.add(platform);
      for (const task of matching(platform)) if (task.userKey) limiter.cancel(task.userKey);
      await idle(platform);
    },
  };
}

/** The adapter's thread with its status calls going through the core's throttle. */
function throttled(thread: OutputThread, status: StatusThrottle): OutputThread {
  return withStatus(thread, (text) => status.set(text));
}

/** A rebuilt thread whose statuses say the run was picked up again after a restart. */
function resumedThread(thread: OutputThread): OutputThread {
  return withStatus(thread, (text) => thread.updateStatus(resumedStatus(text)));
}

/** `thread` with another `updateStatus`; everything else forwarded (adapters keep private state). */
function withStatus(thread: OutputThread, updateStatus: (text: string) => Promise<void>): OutputThread {
  const output: OutputThread = {
    postText: (text) => thread.postText(text),
    postImage: (image) => thread.postImage(image),
    updateStatus,
  };
  const typing = thread.typing?.bind(thread);
  if (typing) output.typing = typing;
  const ephemeral = thread.postEphemeral?.bind(thread);
  if (ephemeral) output.postEphemeral = ephemeral;
  const finish = thread.finish?.bind(thread);
  if (finish) output.finish = finish;
  const address = thread.address?.bind(thread);
  if (address) output.address = address;
  if (thread.maxUploadBytes !== undefined) output.maxUploadBytes = thread.maxUploadBytes;
  if (thread.statusIntervalMs !== undefined) output.statusIntervalMs = thread.statusIntervalMs;
  const cancellable = thread.cancellable?.bind(thread);
  if (cancellable) output.cancellable = cancellable;
  return output;
}

/** A recorded reference as an attachment again: an image the bot posted is looked up by its store key. */
function restoreReference(
  reference: ReferenceDescriptor,
  restorer: PlatformRestorer,
  store: BotStore,
): Attachment {
  if (reference.kind === "file") return restorer.attachment(reference);
  return {
    name: "an earlier image",
    descriptor: reference,
    fetch: async (signal) => {
      const image = await store.findImage(reference.platform, reference.messageId);
      if (image === undefined) {
        throw new ReferenceImageError("The earlier image this request edits is no longer available.");
      }
      return restorer.storedImage(image).fetch(signal);
    },
  };
}

/** Quotas off, usage still counted, when the composition root gives no settings. */
const NO_QUOTAS: CostSettings = {
  userDailyImages: 0,
  teamDailyImages: 0,
  timeZone: "UTC",
  pricePerImage: undefined,
  adminUserIds: [],
};

/** A run without limits of its own: the shared queue enforces them across processes. */
const UNLIMITED = {
  maxConcurrentRuns: Number.POSITIVE_INFINITY,
  maxConcurrentRunsPerUser: Number.POSITIVE_INFINITY,
  maxQueueLength: Number.POSITIVE_INFINITY,
  maxQueuedPerUser: Number.POSITIVE_INFINITY,
} as const;

function ownerOf(record: RunRecord): Requester {
  const who: Requester = { platform: record.platform, userId: record.userId };
  if (record.teamId !== undefined) who.teamId = record.teamId;
  return who;
}

function requester(request: IncomingRequest): Requester {
  const who: Requester = { platform: request.platform, userId: request.user.id };
  if (request.teamId !== undefined) who.teamId = request.teamId;
  return who;
}
