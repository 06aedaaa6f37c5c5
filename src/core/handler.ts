import { randomUUID } from "node:crypto";
import type { ImageGenerator } from "../seedream/types.js";
import { type GenerationParams, parseCommand } from "./grammar.js";
import { RunLimiter } from "./limits.js";
import { cancelReply, errorSentence } from "./messages.js";
import type { IncomingRequest, OutputThread } from "./ports.js";
import {
  checkRequest,
  type GenerateDeps,
  generate,
  type HandleResult,
  type Plan,
  planFor,
  rejectRequest,
} from "./request-run.js";
import { type Clock, type Logger, realSleep, type Sleep, silentLogger, systemClock } from "./runtime.js";
import type { CoreSettings } from "./settings.js";
import { StatusThrottle, type StatusTimers, systemStatusTimers } from "./status-throttle.js";
import type { BotStore } from "./store.js";
import { HELP_TEXT } from "./usage.js";

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
  clock?: Clock;
  sleep?: Sleep;
  logger?: Logger;
  /** Timers of the status throttle (tests pass a manual one). */
  statusTimers?: StatusTimers;
  /** Run ids (default: random UUIDs). */
  newRunId?: () => string;
}

export type { HandleOutcome, HandleResult } from "./request-run.js";

/**
 * The command of a request, read once. An adapter that must decide before answering whether
 * the answer is public (a slash command's parent message, a deferred interaction) reads
 * `kind === "generate"`: help, cancel and every mistake in the command are answered privately.
 */
export type Reading =
  | { kind: "help" }
  | { kind: "cancel" }
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
}

export interface Handler {
  /** Reads the command of a request without I/O: parse, model choice, every check it allows. */
  read(request: IncomingRequest): Reading;
  /** Answers a request in `thread`; resolves when it is answered (the run included). */
  submit(
    request: IncomingRequest | PendingRequest,
    thread: OutputThread,
    options?: SubmitOptions,
  ): Promise<HandleResult>;
  /** Cancels the user's running and waiting requests (for a platform button); returns how many. */
  cancel(platform: string, userId: string): number;
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
  const limiter = new RunLimiter(settings.limits);
  const userKey = (platform: string, userId: string) => `${platform}:${userId}`;
  const tasks = new Set<Task>();
  const closed = new Set<string>();
  let closedAll = false;
  const runDeps: GenerateDeps = {
    generator,
    store,
    settings,
    limiter,
    clock: deps.clock ?? systemClock,
    sleep: deps.sleep ?? realSleep,
    newRunId: deps.newRunId ?? randomUUID,
    stopping: (platform) => closedAll || closed.has(platform),
  };

  function read(request: IncomingRequest): Reading {
    try {
      const command = parseCommand(request.text, {
        defaults: settings.defaults,
        allowPicks: request.replyTo !== undefined || request.continuesThread === true,
      });
      if (command.kind !== "generate") return command;
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

  async function answer(
    request: IncomingRequest,
    thread: OutputThread,
    reading: Reading,
    log: Logger,
  ): Promise<HandleResult> {
    const privately = (text: string) =>
      thread.postEphemeral ? thread.postEphemeral(text) : thread.postText(text);
    switch (reading.kind) {
      case "help":
        await privately(HELP_TEXT);
        return { outcome: "help" };
      case "cancel":
        await privately(cancelReply(limiter.cancel(userKey(request.platform, request.user.id))));
        return { outcome: "cancel" };
      case "mistake":
        return rejectRequest(reading.error, thread, log, { privately: true });
      case "generate":
        return generate(runDeps, request, thread, reading.params, reading.plan, log);
    }
  }

  async function run(
    task: Task,
    source: IncomingRequest | PendingRequest,
    firstThread: OutputThread,
    options: SubmitOptions,
  ): Promise<HandleResult> {
    const log = logger.child({ platform: task.platform });
    let built: { request: IncomingRequest; thread?: OutputThread } | undefined;
    try {
      const keys =
        typeof options.deliveryKey === "string" ? [options.deliveryKey] : (options.deliveryKey ?? []);
      for (const key of keys) {
        if (await store.seen(key)) {
          log.debug(`duplicate ${task.platform} delivery ignored`, { key });
          return { outcome: "duplicate" };
        }
      }
      built = "build" in source ? await source.build() : { request: source };
    } catch (error) {
      log.error("request failed", { error });
      await firstThread.postText(errorSentence(error)).catch(() => {});
      return { outcome: "failed" };
    }
    if (built === undefined || runDeps.stopping(task.platform)) return { outcome: "ignored" };
    const { request } = built;
    task.userKey = userKey(request.platform, request.user.id);
    return answerIn(
      built.thread ?? firstThread,
      request,
      options.reading,
      log.child({ user: request.user.id }),
    );
  }

  /** Answers a built request in `thread`, its status throttled; ends with `thread.finish()`. */
  async function answerIn(
    thread: OutputThread,
    request: IncomingRequest,
    reading: Reading | undefined,
    log: Logger,
  ): Promise<HandleResult> {
    const status = new StatusThrottle(
      (text) => thread.updateStatus(text),
      thread.statusIntervalMs ?? 0,
      statusTimers,
      (error) => log.warn("could not update the status message", { error }),
    );
    const output = throttled(thread, status);
    try {
      const result = await answer(request, output, reading ?? read(request), log);
      log.debug("request answered", { outcome: result.outcome, runId: result.runId });
      return result;
    } catch (error) {
      log.error("request failed", { error });
      await output.postText(errorSentence(error)).catch(() => {});
      return { outcome: "failed" };
    } finally {
      await status.flush();
      await thread.finish?.().catch((error: unknown) => log.warn("could not finish the answer", { error }));
    }
  }

  function submit(
    source: IncomingRequest | PendingRequest,
    thread: OutputThread,
    options: SubmitOptions = {},
  ): Promise<HandleResult> {
    const task: Task = { platform: source.platform };
    if (runDeps.stopping(task.platform)) {
      logger.debug("request ignored: shutting down", { platform: task.platform });
      return Promise.resolve({ outcome: "ignored" });
    }
    const done = run(task, source, thread, options);
    task.done = done;
    tasks.add(task);
    void done.finally(() => tasks.delete(task));
    return done;
  }

  const matching = (platform: string | undefined) =>
    [...tasks].filter((task) => platform === undefined || task.platform === platform);

  async function idle(platform?: string): Promise<void> {
    for (let open = matching(platform); open.length > 0; open = matching(platform)) {
      await Promise.allSettled(open.map((task) => task.done));
    }
  }

  return {
    read,
    submit,
    cancel: (platform, userId) => limiter.cancel(userKey(platform, userId)),
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
  const output: OutputThread = {
    postText: (text) => thread.postText(text),
    postImage: (image) => thread.postImage(image),
    updateStatus: (text) => status.set(text),
  };
  const typing = thread.typing?.bind(thread);
  if (typing) output.typing = typing;
  const ephemeral = thread.postEphemeral?.bind(thread);
  if (ephemeral) output.postEphemeral = ephemeral;
  if (thread.maxUploadBytes !== undefined) output.maxUploadBytes = thread.maxUploadBytes;
  return output;
}
