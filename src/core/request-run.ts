import { SeedreamValidationError } from "../seedream/errors.js";
import { modelCapabilities } from "../seedream/models.js";
import type { GenerateRequest, ImageGenerator } from "../seedream/types.js";
import { BadCommandError, CancelledError, QueueFullError, ReferenceImageError } from "./errors.js";
import type { GenerationParams } from "./grammar.js";
import type { RunLimiter } from "./limits.js";
import { errorSentence, preparingStatus, STOPPED_STATUS, waitingStatus } from "./messages.js";
import type { IncomingRequest, OutputThread } from "./ports.js";
import { prepareReferences, referenceRulesFor, selectReferenceSources } from "./references.js";
import { type RunResult, runGeneration } from "./run.js";
import type { Clock, Logger, Sleep } from "./runtime.js";
import type { CoreSettings } from "./settings.js";
import type { BotStore } from "./store.js";

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
  | "ignored";

export interface HandleResult {
  outcome: HandleOutcome;
  runId?: string;
  run?: RunResult;
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
): Promise<HandleResult> {
  const { generator, store, settings, clock } = deps;
  let sources: Awaited<ReturnType<typeof selectReferenceSources>>;
  let generateRequest: CheckedRequest;
  try {
    sources = await selectReferenceSources(request, params.picks, store);
    // `read` checked requests whose references are their attachments; replies are checked here.
    generateRequest = { ...(plan.checked ?? checkRequest(plan, sources.length, generator)) };
  } catch (error) {
    // A pick that doesn't exist, too many references, a size the model lacks: the command's mistake.
    return rejectRequest(error, thread, log, {
      privately: isCommandMistake(error) || error instanceof ReferenceImageError,
    });
  }

  let statusShown = false;
  const status = (text: string) => {
    statusShown = true;
    return thread.updateStatus(text).catch(() => {});
  };
  try {
    const ticket = await deps.limiter.acquire(`${request.platform}:${request.user.id}`, {
      onQueued: (position) => void status(waitingStatus(position)),
    });
    const runId = deps.newRunId();
    const runLog = log.child({ runId });
    try {
      if (deps.stopping(request.platform)) throw new CancelledError();
      if (sources.length > 0) {
        await status(preparingStatus(sources.length));
        try {
          const caps = modelCapabilities(generateRequest.model);
          const references = await prepareReferences(sources, referenceRulesFor(caps), {
            maxBytes: settings.limits.maxReferenceBytes,
            timeoutMs: settings.limits.referenceFetchTimeoutMs,
            signal: ticket.signal,
          });
          generateRequest.references = references.map((reference) => reference.dataUri);
        } catch (error) {
          if (statusShown && !(error instanceof CancelledError)) await status(STOPPED_STATUS);
          throw error;
        }
      }
      const runParams = {
        n: params.n,
        watermark: params.watermark,
        ...(params.model === undefined ? {} : { model: generateRequest.model }),
        ...(generateRequest.size === undefined ? {} : { size: generateRequest.size }),
        ...(params.seed === undefined ? {} : { seed: params.seed }),
      };
      const base = { platform: request.platform, conversationId: request.conversationId };
      await store.recordRun({
        ...base,
        runId,
        userId: request.user.id,
        prompt: params.prompt,
        params: runParams,
        createdAt: clock.now(),
      });
      runLog.info("run started", { n: params.n });
      const run = await runGeneration({
        runId,
        generator,
        request: generateRequest,
        total: params.n,
        modelName: generator.describeModel(generateRequest.model),
        thread,
        signal: ticket.signal,
        clock,
        sleep: deps.sleep,
        logger: runLog,
        onImagePosted: (posted, index, post) =>
          store.recordImage({
            ...base,
            messageId: posted.messageId,
            ...(posted.ref === undefined ? {} : { ref: posted.ref }),
            fileName: post.fileName,
            mimeType: post.mimeType,
            runId,
            index,
            prompt: params.prompt,
            params: runParams,
            postedAt: clock.now(),
          }),
      });
      runLog.info("run finished", { delivered: run.delivered, blocked: run.blocked, failed: run.failed });
      const outcome: HandleOutcome = run.cancelled
        ? "cancelled"
        : run.error === undefined
          ? "completed"
          : "failed";
      return { outcome, runId, run };
    } finally {
      ticket.release();
    }
  } catch (error) {
    return rejectRequest(error, thread, log, { privately: isCommandMistake(error) });
  }
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
  return isCommandMistake(error) || error instanceof ReferenceImageError || error instanceof QueueFullError;
}
