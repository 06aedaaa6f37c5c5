import { type GrammarDefaults, startsGeneration } from "../../src/core/grammar.js";
import type { Handler } from "../../src/core/handler.js";
import { errorSentence } from "../../src/core/messages.js";
import type { IncomingRequest } from "../../src/core/ports.js";
import type { BotStore } from "../../src/core/store.js";
import type { Logger } from "../../src/logger.js";
import { isNotInChannel, slackErrorCode } from "./slack-errors.js";
import { eventAttachments, type FileDeps, storedImageAttachment } from "./slack-files.js";
import { commandTextToPlain, escapeSlackText, mentionsUser, messageTextToPlain } from "./slack-text.js";
import { EphemeralThread, SlackThread, type ThreadDeps } from "./slack-thread.js";
import type { MessageEvent, SlashCommand } from "./slack-wire.js";

/**
 * Slack gestures → core requests. A slash command gets a parent message the bot posts (slash
 * commands have no thread of their own); a mention answers in its thread; a mention inside a
 * thread the bot worked in continues it (edits its latest image). Nothing here throws: each
 * gesture ends with the user told what happened, and the log saying why.
 */

export const PLATFORM = "slack";

export interface GestureDeps {
  handler: Handler;
  store: BotStore;
  logger: Logger;
  botUserId: string;
  defaults: GrammarDefaults;
  files: FileDeps;
  thread: ThreadDeps;
}

/** Message subtypes that are a person writing (others are edits, joins, bot posts…). */
const HUMAN_SUBTYPES = new Set([undefined, "file_share", "thread_broadcast"]);

export async function onSlashCommand(
  deps: GestureDeps,
  command: SlashCommand,
  respond: (text: string) => Promise<void>,
): Promise<void> {
  const { web } = deps.thread;
  const channel = command.channel_id;
  const userId = command.user_id;
  // Private answers: response_url works even where the bot isn't a member; ephemeral otherwise.
  const privately = async (text: string) => {
    try {
      await respond(text);
    } catch (error) {
      deps.logger.warn("response_url failed; using chat.postEphemeral", { error });
      await web.postEphemeral(channel, userId, text);
    }
  };
  const text = commandTextToPlain(command.text);
  const request: IncomingRequest = {
    platform: PLATFORM,
    conversationId: channel,
    user: { id: userId, displayName: command.user_name ?? userId },
    text,
    attachments: [],
  };
  try {
    if (!startsGeneration(text, { defaults: deps.defaults })) {
      // help, cancel or a command that doesn't parse: the core answers privately.
      await deps.handler.handle(request, new EphemeralThread(privately));
      return;
    }
    const prefix = `<@${userId}> asked: ${escapeSlackText(text)}`;
    let parentTs: string;
    try {
      parentTs = await web.postMessage(channel, prefix);
    } catch (error) {
      deps.logger.warn("could not post the slash command's parent message", { channel, error });
      await privately(
        isNotInChannel(error)
          ? `I'm not a member of this conversation, so I can't post images here. Add me with \`/invite <@${deps.botUserId}>\` (or the channel's details → Integrations → Add apps) and run the command again.`
          : `Slack didn't let me post here (${slackErrorCode(error) ?? "unknown error"}); please try again.`,
      );
      return;
    }
    request.conversationId = `${channel}:${parentTs}`;
    const thread = new SlackThread(deps.thread, {
      channel,
      threadTs: parentTs,
      userId,
      parent: { ts: parentTs, prefix },
      respond: privately,
    });
    await run(deps, request, thread);
  } catch (error) {
    deps.logger.error("slash command failed", { channel, error });
    await privately(errorSentence(error)).catch(() => {});
  }
}

/**
 * An `app_mention` or `message` event. Slack delivers a mention as both, and retries events it
 * thinks were lost, so each message is handled once: keyed by channel+ts and by event id.
 */
export async function onMessageEvent(
  deps: GestureDeps,
  event: MessageEvent,
  eventId?: string,
): Promise<void> {
  const text = event.text ?? "";
  if (event.type === "message" && (!HUMAN_SUBTYPES.has(event.subtype) || !mentionsUser(text, deps.botUserId)))
    return;
  if (event.bot_id !== undefined || event.user === undefined || event.user === deps.botUserId) return;
  const { channel, ts } = event;
  const threadTs = event.thread_ts ?? ts;
  try {
    const duplicate =
      (await deps.store.seen(`slack:message:${channel}:${ts}`)) ||
      (eventId !== undefined && (await deps.store.seen(`slack:event:${eventId}`)));
    if (duplicate) {
      deps.logger.debug("duplicate slack delivery ignored", { type: event.type, channel, ts, eventId });
      return;
    }

    const conversationId = `${channel}:${threadTs}`;
    const inThread = event.thread_ts !== undefined && event.thread_ts !== ts;
    const continuesThread =
      inThread &&
      (event.parent_user_id === deps.botUserId ||
        (await deps.store.latestRun(PLATFORM, conversationId)) !== undefined);
    const request: IncomingRequest = {
      platform: PLATFORM,
      conversationId,
      user: { id: event.user, displayName: event.user },
      text: messageTextToPlain(text, deps.botUserId),
      attachments: await eventAttachments(event.files ?? [], deps.files),
      resolveStoredImage: (image) => storedImageAttachment(image, deps.files),
    };
    if (continuesThread) request.continuesThread = true;
    const thread = new SlackThread(deps.thread, { channel, threadTs, userId: event.user });
    await run(deps, request, thread);
  } catch (error) {
    deps.logger.error("mention failed", { channel, ts, error });
    await deps.thread.web
      .postMessage(channel, escapeSlackText(errorSentence(error)), threadTs)
      .catch(() => {});
  }
}

async function run(deps: GestureDeps, request: IncomingRequest, thread: SlackThread): Promise<void> {
  try {
    const result = await deps.handler.handle(request, thread);
    deps.logger.debug("slack request handled", { outcome: result.outcome, runId: result.runId });
  } finally {
    await thread.finish();
  }
}
