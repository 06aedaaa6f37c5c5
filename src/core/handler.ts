import { randomUUID } from "node:crypto";
import type { Config } from "../config.js";
import { SeedreamValidationError } from "../seedream/errors.js";
import type { GenerateRequest, ImageGenerator } from "../seedream/types.js";
import { BadCommandError, CancelledError, QueueFullError, ReferenceImageError } from "./errors.js";
import { type GenerationParams, parseCommand } from "./grammar.js";
import { RunLimiter } from "./limits.js";
import { cancelReply, errorSentence, preparingStatus, STOPPED_STATUS, waitingStatus } from "./messages.js";
import { chooseModel } from "./model-choice.js";
import type { IncomingRequest, OutputThread } from "./ports.js";
import {
  checkReferenceCount,
  prepareReferences,
  referenceRulesFor,
  selectReferenceSources,
} from "./references.js";
import { type RunResult, runGeneration } from "./run.js";
import { type Clock, type Logger, realSleep, type Sleep, silentLogger, systemClock } from "./runtime.js";
import type { BotStore } from "./store.js";
import { HELP_TEXT } from "./usage.js";

/**
 * The one entry every platform feeds: parse → pick references → check limits → wait for a slot
 * → download references → run → record. `handle` never throws: whatever goes wrong becomes one
 * sentence in the thread.
 */

export interface HandlerDeps {
  generator: ImageGenerator;
  store: BotStore;
  config: Pick<Config, "seedream" | "defaults" | "limits">;
  clock?: Clock;
  sleep?: Sleep;
  logger?: Logger;
  /** Run ids (default: random UUIDs). */
  newRunId?: () => string;
}

export type HandleOutcome = "help" | "cancel" | "rejected" | "completed" | "failed" | "cancelled";

export interface HandleResult {
  outcome: HandleOutcome;
  runId?: string;
  run?: RunResult;
}

export interface Handler {
  handle(request: IncomingRequest, thread: OutputThread): Promise<HandleResult>;
  /** Cancels the user's running and waiting requests (for a platform button); returns how many. */
  cancel(platform: string, userId: string): number;
}

export function createHandler(deps: HandlerDeps): Handler {
  const { generator, store, config } = deps;
  const clock = deps.clock ?? systemClock;
  const sleep = deps.sleep ?? realSleep;
  const logger = deps.logger ?? silentLogger;
  const newRunId = deps.newRunId ?? randomUUID;
  const limiter = new RunLimiter(config.limits);
  const userKey = (platform: string, userId: string) => `${platform}:${userId}`;

  const privately = async (thread: OutputThread, text: string): Promise<void> => {
    await (thread.postEphemeral ? thread.postEphemeral(text) : thread.postText(text));
  };

  async function generate(request: IncomingRequest, thread: OutputThread, params: GenerationParams) {
    const { requestModel, caps } = chooseModel(params.model, config.seedream);
    const sources = await selectReferenceSources(request, params.picks, store);
    checkReferenceCount(sources.length, params.n, caps);
    const generateRequest: GenerateRequest = {
      prompt: params.prompt,
      maxImages: params.n,
      watermark: params.watermark,
    };
    if (requestModel !== undefined) generateRequest.model = requestModel;
    if (params.size !== undefined) generateRequest.size = params.size;
    if (params.seed !== undefined) generateRequest.seed = params.seed;
    if (params.fast) generateRequest.fast = true;
    // Checked with placeholders first so a bad size or flag is reported before any download or wait.
    generator.validate({ ...generateRequest, references: sources.map(() => "data:image/png;base64,") });

    let statusShown = false;
    const status = (text: string) => {
      statusShown = true;
      return thread.updateStatus(text).catch(() => {});
    };
    const ticket = await limiter.acquire(userKey(request.platform, request.user.id), {
      onQueued: (position) => void status(waitingStatus(position)),
    });
    const runId = newRunId();
    try {
      if (sources.length > 0) {
        await status(preparingStatus(sources.length));
        try {
          const references = await prepareReferences(sources, referenceRulesFor(caps), {
            maxBytes: config.limits.maxReferenceBytes,
            timeoutMs: config.limits.referenceFetchTimeoutMs,
            signal: ticket.signal,
          });
          generateRequest.references = references.map((reference) => reference.dataUri);
          generator.validate(generateRequest);
        } catch (error) {
          if (statusShown && !(error instanceof CancelledError)) await status(STOPPED_STATUS);
          throw error;
        }
      }
      const runParams = {
        n: params.n,
        watermark: params.watermark,
        ...(generateRequest.model === undefined ? {} : { model: generateRequest.model }),
        ...(params.size === undefined ? {} : { size: params.size }),
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
      logger.info("run started", { runId, platform: request.platform, user: request.user.id, n: params.n });
      const run = await runGeneration({
        runId,
        generator,
        request: generateRequest,
        total: params.n,
        modelName: generator.describeModel(generateRequest.model),
        thread,
        signal: ticket.signal,
        clock,
        sleep,
        logger,
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
      logger.info("run finished", {
        runId,
        delivered: run.delivered,
        blocked: run.blocked,
        failed: run.failed,
      });
      const outcome: HandleOutcome = run.cancelled
        ? "cancelled"
        : run.error === undefined
          ? "completed"
          : "failed";
      return { outcome, runId, run };
    } finally {
      ticket.release();
    }
  }

  async function handle(request: IncomingRequest, thread: OutputThread): Promise<HandleResult> {
    try {
      const command = parseCommand(request.text, {
        defaults: config.defaults,
        allowPicks: request.replyTo !== undefined || request.continuesThread === true,
      });
      if (command.kind === "help") {
        await privately(thread, HELP_TEXT);
        return { outcome: "help" };
      }
      if (command.kind === "cancel") {
        await privately(thread, cancelReply(limiter.cancel(userKey(request.platform, request.user.id))));
        return { outcome: "cancel" };
      }
      return await generate(request, thread, command.params);
    } catch (error) {
      if (error instanceof CancelledError) {
        await thread.updateStatus("Cancelled.").catch(() => {});
        return { outcome: "cancelled" };
      }
      // A user's own mistake is routine (info); anything else is worth an operator's look (warn).
      const level = isUserMistake(error) ? "info" : "warn";
      logger[level]("request rejected", {
        platform: request.platform,
        code: (error as { code?: unknown }).code,
        error,
      });
      const text = errorSentence(error);
      try {
        await (error instanceof BadCommandError ? privately(thread, text) : thread.postText(text));
      } catch (postError) {
        logger.error("could not tell the user about an error", { error: postError });
      }
      return { outcome: "rejected" };
    }
  }

  return {
    handle,
    cancel: (platform, userId) => limiter.cancel(userKey(platform, userId)),
  };
}

function isUserMistake(error: unknown): boolean {
  return (
    error instanceof BadCommandError ||
    error instanceof ReferenceImageError ||
    error instanceof QueueFullError ||
    error instanceof SeedreamValidationError
  );
}
