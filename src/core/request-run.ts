import { SeedreamValidationError } from "../seedream/errors.js";
import { modelCapabilities } from "../seedream/models.js";
import type { GenerateRequest, ImageGenerator } from "../seedream/types.js";
import {
  BadCommandError,
  CancelledError,
  InterruptedError,
  QueueFullError,
  ReferenceImageError,
  UserQueueFullError,
} from "./errors.js";
import type { GenerationParams } from "./grammar.js";
import type { ImageBudget } from "./image-budget.js";
import type { RunLimiter } from "./limits.js";
import {
  CAPACITY_STATUS,
  errorSentence,
  pausedStatus,
  preparingStatus,
  RESTARTING_QUEUED_STATUS,
  STOPPED_STATUS,
  waitingStatus,
} from "./messages.js";
import type { ImageOutcome, RunObserver, RunOutcome } from "./observer.js";
import type { Attachment, IncomingRequest, OutputThread } from "./ports.js";
import type { Reservation } from "./quotas.js";
import { prepareReferences, referenceRulesFor, selectReferenceSources } from "./references.js";
import { type RunResult, runGeneration } from "./run.js";
import { missingIndexes, type ReferenceDescriptor, type RunState } from "./run-record.js";
import type { Clock, Logger, Sleep } from "./runtime.js";
import type { CoreSettings } from "./settings.js";
import type { BotStore, RunParams, RunRecord } from "./store.js";

/**
 * One generation request from command to record: check what the command asks for (before any
 * download, wait or public post), wait for a slot, download the references, run, record.
 */

export type HandleOutcome =
  | "help"
  | "cancel"
  | "rejected"
  | "completed"
  | "failed"
  | "cancelled"
  /** A delivery seen before (`deliveryKey`). */
  | "duplicate"
  /** Nothing to answer: the request builder declined, or the platform is shutting down. */
  | "ignored"
  /** Recorded while the bot drains for a restart: the next process runs it. */
  | "queued"
  /** Stopped at the end of the shutdown grace: the next process continues it. */
  | "interrupted"
  | "usage"
  | "settings";

export interface HandleResult {
  outcome: HandleOutcome;
  runId?: string;
  run?: RunResult;
  /** The model id the run used (what its images are priced as). */
  model?: string;
}

export interface GenerateDeps {
  generator: ImageGenerator;
  store: BotStore;
  settings: CoreSettings;
  limiter: RunLimiter;
  clock: Clock;
  sleep: Sleep;
  newRunId: () => string;
  /** True once the platform is shutting down: a request that only now gets a slot stops. */
  stopping(platform: string): boolean;
  /** True while the bot drains for a restart: new runs are recorded and left for the next process. */
  draining(): boolean;
  /** Resolves once start-up recovery lined up the runs recorded earlier (new ones queue behind). */
  recovered: Promise<void>;
  /** This process (`ProcessInfo.id`), stamped on the runs it executes. */
  owner: string;
  /** Ids of the runs executing in this process (cancel reaches them through the limiter). */
  local: Set<string>;
  /** The runs executing in this process, by id: the Cancel button stops one of them. */
  active: Map<string, ActiveRun>;
  /** SEEDREAM_IMAGES_PER_MINUTE, when set: taken just before the run calls Seedream. */
  imageBudget?: ImageBudget;
  /** Metrics and the audit line. */
  observer: RunObserver;
  /**
   * With a shared run queue (STORE_URL=redis://): hands a recorded run to it instead of running
   * it here; any worker then takes it. Absent in the embedded bot.
   */
  handOff?(record: RunRecord, thread: OutputThread, log: Logger, tracker: RunTracker): Promise<HandleResult>;
  /**
   * How often a running run reads its own record, to stop soon after it is cancelled from
   * another process (it also looks after each image). Absent: after each image only.
   */
  watchRecordMs?: number;
}

export interface ActiveRun {
  platform: string;
  userId: string;
  /** Stops this run only (the user's other requests go on). */
  abort(): void;
}

/** Filled in as a request becomes a run (the handler keeps the run's address up to date). */
export interface RunTracker {
  runId?: string;
  /** The request's quota reservation, when it has one (a hand-off carries it in the record). */
  reservation?: Reservation;
  /** Shows the latest status now and records where it is (a hand-off's worker edits it next). */
  flushStatus?(): Promise<void>;
}

/** The API request a command asks for, before its references are known. */
export interface Plan {
  /** As typed: a model alias, `aspectRatio` not yet a size. */
  request: GenerateRequest;
  /** The request as it will be sent, once checked against its model (`checkRequest`). */
  checked?: CheckedRequest;
}

export type CheckedRequest = ReturnType<ImageGenerator["validate"]>;

export function planFor(params: GenerationParams): Plan {
  const request: GenerateRequest = {
    prompt: params.prompt,
    maxImages: params.n,
    watermark: params.watermark,
  };
  if (params.model !== undefined) request.model = params.model;
  if (params.size !== undefined) request.size = params.size;
  if (params.ar !== undefined) request.aspectRatio = params.ar;
  if (params.seed !== undefined) request.seed = params.seed;
  if (params.fast) request.fast = true;
  if (params.format !== undefined) request.outputFormat = params.format;
  if (params.web) request.webSearch = true;
  return { request };
}

/**
 * The one check of a request, without I/O, against the model it names, with the number of
 * references it really has: reference count, size, seed, flags the model lacks. The model
 * table's rules (src/seedream/models.ts) decide; the references' bytes are the core's to check.
 */
export function checkRequest(plan: Plan, references: number, generator: ImageGenerator): CheckedRequest {
  return generator.validate(plan.request, references);
}

export async function generate(
  deps: GenerateDeps,
  request: IncomingRequest,
  thread: OutputThread,
  params: GenerationParams,
  plan: Plan,
  log: Logger,
  tracker: RunTracker = {},
  /** References chosen already (a follow-up's); else picked from the request. */
  chosen?: Attachment[],
): Promise<HandleResult> {
  const { generator, store, clock } = deps;
  let sources: Attachment[];
  let checked: CheckedRequest;
  try {
    sources = chosen ?? (await selectReferenceSources(request, params.picks, store));
    // `read` checked requests whose references are their attachments; replies are checked here.
    checked = plan.checked ?? checkRequest(plan, sources.length, generator);
  } catch (error) {
    // A pick that doesn't exist, too many references, a size the model lacks: the command's mistake.
    return rejectRequest(error, thread, log, {
      privately: isCommandMistake(error) || error instanceof ReferenceImageError,
    });
  }

  // Recorded before it waits for anything: from here on a restart does not lose it.
  const address = thread.address?.();
  const references = sources.map((source) => source.descriptor);
  const resumable = address !== undefined && references.every((reference) => reference !== undefined);
  const runId = deps.newRunId();
  let record: RunRecord;
  try {
    record = await store.enqueueRun({
      runId,
      platform: request.platform,
      conversationId: request.conversationId,
      userId: request.user.id,
      userName: request.user.displayName,
      ...(request.teamId === undefined ? {} : { teamId: request.teamId }),
      prompt: params.prompt,
      params: runParamsOf(checked, params),
      createdAt: clock.now(),
      // Whoever finishes a handed-off run settles its quota reservation.
      ...(deps.handOff && resumable && tracker.reservation
        ? { reserved: tracker.reservation.handOver() }
        : {}),
      ...(resumable
        ? { address, references: references as ReferenceDescriptor[] }
        : // Not resumable, but Again still reuses what it can (an empty locator: no way back).
          { references: sources.map((s) => s.descriptor ?? unreachable(s, request.platform)) }),
    });
  } catch (error) {
    return rejectRequest(error, thread, log, { privately: false });
  }
  tracker.runId = runId;
  if (deps.handOff && resumable) return deps.handOff(record, thread, log, tracker);
  if (deps.draining()) {
    // The next process starts it; one that cannot be picked up again is refused instead.
    if (resumable) {
      await thread.updateStatus(RESTARTING_QUEUED_STATUS).catch(() => {});
      return { outcome: "queued", runId };
    }
    await store.moveRun(runId, "cancelled", { reason: "the bot was restarting" }).catch(() => {});
    return rejectRequest(new InterruptedError(), thread, log, { privately: false });
  }
  // Runs recorded before a restart keep their places in line ahead of this one.
  await deps.recovered;
  return execute(deps, record, sources, thread, log);
}

/**
 * A recorded run, from waiting for a slot to its final state: a new request, a request that
 * waited across a restart, or the continuation of a run a restart interrupted (only the images
 * it lacks are asked for). Waits for its slot before any await, so runs queue in call order.
 */
export async function execute(
  deps: GenerateDeps,
  record: RunRecord,
  sources: readonly Attachment[],
  thread: OutputThread,
  log: Logger,
  options: { resumed?: boolean } = {},
): Promise<HandleResult> {
  const { generator, store, settings, clock } = deps;
  const { runId, params } = record;
  const runLog = log.child({ runId });
  const missing = missingIndexes(
    params.n,
    record.images.map((image) => image.index),
  );
  let statusShown = false;
  const status = (text: string) => {
    statusShown = true;
    return thread.updateStatus(text).catch(() => {});
  };
  const started = clock.now();
  let model = params.model ?? settings.seedream.model ?? "";
  const ended = (outcome: RunOutcome, run?: RunResult, error?: unknown) =>
    deps.observer.runEnded({
      runId,
      platform: record.platform,
      userId: record.userId,
      ...(record.teamId === undefined ? {} : { teamId: record.teamId }),
      model,
      asked: params.n,
      delivered: run?.delivered ?? record.images.length,
      blocked: run?.blocked ?? 0,
      failed: run?.failed ?? 0,
      outcome,
      durationMs: clock.now() - started,
      ...(error === undefined ? {} : { error }),
    });
  let firstShown = options.resumed === true; // a continuation's first image is not a first image
  const onImageEnd = (outcome: ImageOutcome, deliveryMs?: number) => {
    deps.observer.imageEnded(record.platform, model, outcome, deliveryMs);
    if (outcome !== "delivered" || firstShown) return;
    firstShown = true;
    deps.observer.firstImage(record.platform, clock.now() - record.createdAt);
  };
  const settle = async (state: RunState, reason?: string) => {
    try {
      await store.moveRun(runId, state, reason === undefined ? {} : { reason });
    } catch (error) {
      runLog.error("could not record the run's end", { state, error });
    }
  };
  try {
    // Checked again: the same request, or (a continuation) only the images it lacks.
    const generateRequest: CheckedRequest = {
      ...generator.validate(requestOf(record, missing.length), sources.length),
    };
    model = generateRequest.model;
    const caps = modelCapabilities(generateRequest.model);
    const ticket = await deps.limiter.acquire(`${record.platform}:${record.userId}`, {
      onQueued: (position) => void status(waitingStatus(position)),
      ...(options.resumed ? { resumed: true } : {}),
    });
    deps.local.add(runId);
    const own = new AbortController();
    const signal = AbortSignal.any([ticket.signal, own.signal]);
    deps.active.set(runId, {
      platform: record.platform,
      userId: record.userId,
      abort: () => own.abort(new CancelledError()),
    });
    thread.cancellable?.(runId);
    let watch: NodeJS.Timeout | undefined;
    try {
      if (deps.stopping(record.platform)) throw new CancelledError();
      const running = await store.moveRun(runId, "running", { owner: deps.owner });
      if (running === undefined) throw new CancelledError(); // cancelled through the store meanwhile
      if (deps.watchRecordMs !== undefined) {
        watch = setInterval(() => {
          store.getRun(runId).then(
            (now) => {
              if (now?.state === "cancelled") own.abort(new CancelledError());
            },
            () => {},
          );
        }, deps.watchRecordMs);
        watch.unref();
      }
      if (sources.length > 0) {
        await status(preparingStatus(sources.length));
        try {
          const references = await prepareReferences(sources, referenceRulesFor(caps), {
            maxBytes: settings.limits.maxReferenceBytes,
            timeoutMs: settings.limits.referenceFetchTimeoutMs,
            signal,
          });
          generateRequest.references = references.map((reference) => reference.dataUri);
        } catch (error) {
          if (ticket.signal.reason instanceof InterruptedError) throw ticket.signal.reason;
          if (statusShown && !(error instanceof CancelledError)) await status(STOPPED_STATUS);
          throw error;
        }
      }
      await deps.imageBudget?.take(missing.length, {
        signal,
        onWait: () => void status(CAPACITY_STATUS),
      });
      runLog.info("run started", { n: params.n, missing: missing.length, attempt: running.attempts });
      const base = { platform: record.platform, conversationId: record.conversationId };
      const run = await runGeneration({
        runId,
        generator,
        request: generateRequest,
        total: params.n,
        modelName: generator.describeModel(generateRequest.model),
        thread,
        signal,
        clock,
        sleep: deps.sleep,
        logger: runLog,
        ...(missing.length < params.n ? { indexes: missing, delivered: params.n - missing.length } : {}),
        onImageEnd,
        onImagePosted: async (posted, index, post) => {
          await store.recordImage({
            ...base,
            messageId: posted.messageId,
            ...(posted.ref === undefined ? {} : { ref: posted.ref }),
            fileName: post.fileName,
            mimeType: post.mimeType,
            runId,
            index,
            prompt: record.prompt,
            params,
            postedAt: clock.now(),
          });
          // Cancelled through the store (by another process, or one started later): stop here.
          if ((await store.getRun(runId))?.state === "cancelled") own.abort(new CancelledError());
        },
      });
      if (run.interrupted) {
        await settle("interrupted", "the bot shut down");
        await status(pausedStatus(run.delivered, params.n));
        ended("interrupted", run);
        return { outcome: "interrupted", runId, run };
      }
      const outcome: HandleOutcome = run.cancelled
        ? "cancelled"
        : run.error === undefined
          ? "completed"
          : "failed";
      await settle(outcome === "completed" ? "done" : outcome, errorCode(run.error));
      ended(outcome, run, run.error);
      return { outcome, runId, run, model: generateRequest.model };
    } catch (error) {
      if (error instanceof InterruptedError) {
        await settle("interrupted", "the bot shut down");
        await status(pausedStatus(record.images.length, params.n));
        ended("interrupted");
        return { outcome: "interrupted", runId };
      }
      await settle(error instanceof CancelledError ? "cancelled" : "failed", errorCode(error));
      throw error;
    } finally {
      clearInterval(watch);
      deps.local.delete(runId);
      deps.active.delete(runId);
      thread.cancellable?.(undefined);
      ticket.release();
    }
  } catch (error) {
    if (error instanceof InterruptedError) {
      // Still waiting when the bot began to drain: it stays waiting for the next process.
      await status(RESTARTING_QUEUED_STATUS);
      return { outcome: "queued", runId };
    }
    // Never started (cancelled while waiting, the line full): a no-op if it already ended.
    await settle(error instanceof CancelledError ? "cancelled" : "failed", errorCode(error));
    // The user's own excess request is their business alone; a full line is everyone's news.
    const result = await rejectRequest(error, thread, log, {
      privately: isCommandMistake(error) || error instanceof UserQueueFullError,
    });
    ended(result.outcome === "cancelled" ? "cancelled" : "rejected", undefined, error);
    return { ...result, runId };
  }
}

/** A reference the platform offers no way back to (a slash command option): Again says so. */
function unreachable(source: Attachment, platform: string): ReferenceDescriptor {
  return { kind: "file", platform, name: source.name, locator: {} };
}

/**
 * What a run records as its parameters (and a resumed run asks Seedream for again): the model
 * only when the user chose one (else the configured default), the size as checked.
 */
function runParamsOf(checked: CheckedRequest, params: GenerationParams): RunParams {
  return {
    n: params.n,
    watermark: params.watermark,
    ...(params.model === undefined ? {} : { model: checked.model }),
    ...(checked.size === undefined ? {} : { size: checked.size }),
    ...(params.seed === undefined ? {} : { seed: params.seed }),
    ...(params.fast ? { fast: true } : {}),
    ...(params.format === undefined ? {} : { format: params.format }),
    ...(params.web ? { web: true } : {}),
  };
}

function requestOf(record: RunRecord, images: number): GenerateRequest {
  const { params } = record;
  const request: GenerateRequest = { prompt: record.prompt, maxImages: images, watermark: params.watermark };
  if (params.model !== undefined) request.model = params.model;
  if (params.size !== undefined) request.size = params.size;
  if (params.seed !== undefined) request.seed = params.seed;
  if (params.fast) request.fast = true;
  if (params.format !== undefined) request.outputFormat = params.format;
  if (params.web) request.webSearch = true;
  return request;
}

function errorCode(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : error instanceof Error ? error.name : "error";
}

/** Tells the user why a request stopped before its run (privately when it is their command's fault). */
export async function rejectRequest(
  error: unknown,
  thread: OutputThread,
  log: Logger,
  options: { privately: boolean },
): Promise<HandleResult> {
  if (error instanceof CancelledError) {
    await thread.updateStatus("Cancelled.").catch(() => {});
    return { outcome: "cancelled" };
  }
  // A user's own mistake is routine (info); anything else is worth an operator's look (warn).
  const level = isUserMistake(error) ? "info" : "warn";
  log[level]("request rejected", { code: (error as { code?: unknown }).code, error });
  const text = errorSentence(error);
  try {
    if (options.privately && thread.postEphemeral) await thread.postEphemeral(text);
    else await thread.postText(text);
  } catch (postError) {
    log.error("could not tell the user about an error", { error: postError });
  }
  return { outcome: "rejected" };
}

/** A mistake in the command itself (answered privately). */
function isCommandMistake(error: unknown): boolean {
  return error instanceof BadCommandError || error instanceof SeedreamValidationError;
}

function isUserMistake(error: unknown): boolean {
  return (
    isCommandMistake(error) ||
    error instanceof ReferenceImageError ||
    error instanceof QueueFullError ||
    error instanceof UserQueueFullError
  );
}
