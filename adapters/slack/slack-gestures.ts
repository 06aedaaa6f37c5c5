import type { Handler } from "../../src/core/handler.js";
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
 * thread the bot worked in continues it (edits its latest image). The core dedupes, tracks and
 * answers each request; nothing here throws.
 */

export const PLATFORM = "slack";

export interface GestureDeps {
  handler: Handler;
  store: BotStore;
  logger: Logger;
  botUserId: string;
  /** The workspace (auth.test): the team whose quota the bot's requests count in. */
  teamId: string | undefined;
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
    channelIds: [channel],
    text,
    attachments: [],
  };
  const teamId = command.team_id ?? deps.teamId;
  if (teamId !== undefined) request.teamId = teamId;
  const reading = deps.handler.read(request);
  // Answers until there is a thread; help, cancel and every mistake in the command stay here.
  const privateThread = new EphemeralThread(privately);
  if (reading.kind !== "generate") {
    await deps.handler.submit(request, privateThread, { reading });
    return;
  }
  // Quotas before the public parent message: a refusal stays private. (A store error here is
  // left to the core, which admits the request itself and words the failure.)
  const admission = await deps.handler.admit(request, reading).catch(() => undefined);
  if (admission !== undefined && (!admission.granted || admission.reading.kind !== "generate")) {
    await deps.handler.submit(request, privateThread, { reading, admission });
    return;
  }
  // A run is public: the bot's parent message (posted only now that the command checked out) is its thread.
  const openParent = async () => {
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
      return undefined;
    }
    const thread = new SlackThread(deps.thread, {
      channel,
      threadTs: parentTs,
      userId,
      parent: { ts: parentTs, prefix },
      respond: privately,
    });
    return { request: { ...request, conversationId: `${channel}:${parentTs}` }, thread };
  };
  await deps.handler.submit({ platform: PLATFORM, build: openParent }, privateThread, {
    reading: admission?.granted ? admission.reading : reading,
    ...(admission === undefined ? {} : { admission }),
  });
}

/**
 * An `app_mention` or `message` event. Slack delivers a mention as both, and retries events it
 * thinks were lost, so each message is answered once: keyed by channel+ts and by event id.
 */
export async function onMessageEvent(
  deps: GestureDeps,
  event: MessageEvent,
  eventId?: string,
): Promise<void> {
  const text = event.text ?? "";
  if (event.type === "message" && (!HUMAN_SUBTYPES.has(event.subtype) || !mentionsUser(text, deps.botUserId)))
    return;
  const user = event.user;
  if (event.bot_id !== undefined || user === undefined || user === deps.botUserId) return;
  const { channel, ts } = event;
  const threadTs = event.thread_ts ?? ts;
  const deliveryKey = [`slack:message:${channel}:${ts}`];
  if (eventId !== undefined) deliveryKey.push(`slack:event:${eventId}`);
  const thread = new SlackThread(deps.thread, { channel, threadTs, userId: user });
  const build = async () => ({ request: await mentionRequest(deps, event, user) });
  await deps.handler.submit({ platform: PLATFORM, build }, thread, { deliveryKey });
}

/** The core request of a mention, once it is known not to be a duplicate (this costs API calls). */
async function mentionRequest(
  deps: GestureDeps,
  event: MessageEvent,
  user: string,
): Promise<IncomingRequest> {
  const { channel, ts } = event;
  const conversationId = `${channel}:${event.thread_ts ?? ts}`;
  const inThread = event.thread_ts !== undefined && event.thread_ts !== ts;
  const continuesThread =
    inThread &&
    (event.parent_user_id === deps.botUserId ||
      (await deps.store.latestRun(PLATFORM, conversationId)) !== undefined);
  const request: IncomingRequest = {
    platform: PLATFORM,
    conversationId,
    user: { id: user, displayName: user },
    channelIds: [channel],
    text: messageTextToPlain(event.text ?? "", deps.botUserId),
    attachments: await eventAttachments(event.files ?? [], deps.files),
    resolveStoredImage: (image) => storedImageAttachment(image, deps.files),
  };
  if (continuesThread) request.continuesThread = true;
  if (deps.teamId !== undefined) request.teamId = deps.teamId;
  return request;
}
