import { cancelRefused, FOLLOW_UP_TOO_OLD, RUN_ALREADY_OVER } from "../../src/core/messages.js";
import type { FollowUp, ImageKey, IncomingRequest } from "../../src/core/ports.js";
import {
  decodeCancelValue,
  decodeEditMetadata,
  decodeImageValue,
  editView,
  readEditState,
} from "./slack-buttons.js";
import { describedAttachment, storedImageAttachment } from "./slack-files.js";
import { type GestureDeps, PLATFORM } from "./slack-gestures.js";
import { escapeSlackText } from "./slack-text.js";
import { SlackThread } from "./slack-thread.js";
import type { BlockAction, ViewSubmission } from "./slack-wire.js";

/**
 * The follow-up buttons and the Edit… form → core verbs. Each listener has acked already (Slack
 * wants that within 3 s); what happens here is the work after the ack. The presser is the
 * requester; results go into the thread the pressed message is in; private answers go to the
 * presser only. Nothing here throws.
 */

/** Where a press happened: the pressed message's channel and thread. */
function placeOf(body: BlockAction): { channel: string; threadTs: string } {
  const threadTs = body.container.thread_ts ?? body.message?.thread_ts ?? body.container.message_ts;
  return { channel: body.container.channel_id, threadTs };
}

function followUpRequest(
  deps: GestureDeps,
  user: { id: string; name?: string | undefined },
  place: { channel: string; threadTs: string },
  followUp: FollowUp,
  text = "",
): IncomingRequest {
  return {
    platform: PLATFORM,
    conversationId: `${place.channel}:${place.threadTs}`,
    user: { id: user.id, displayName: user.name ?? user.id },
    text,
    attachments: [],
    followUp,
    resolveStoredImage: (image) => storedImageAttachment(image, deps.files),
    resolveFile: (descriptor) => describedAttachment(descriptor, deps.files),
  };
}

async function tellPresser(deps: GestureDeps, body: BlockAction, text: string): Promise<void> {
  const { channel, threadTs } = placeOf(body);
  await deps.thread.web
    .postEphemeral(channel, body.user.id, text, threadTs)
    .catch((error: unknown) => deps.logger.warn("could not answer a button press privately", { error }));
}

/** Again or Vary: a new run in the pressed image's thread. */
export async function onImageButton(
  deps: GestureDeps,
  body: BlockAction,
  verb: "again" | "vary",
): Promise<void> {
  const value = decodeImageValue(body.actions[0]?.value);
  if (!value) {
    deps.logger.warn("ignored a follow-up button with an unreadable value", { verb });
    return;
  }
  const place = placeOf(body);
  const thread = new SlackThread(deps.thread, { ...place, userId: body.user.id });
  const request = followUpRequest(deps, body.user, place, { verb, image: value.key });
  await deps.handler.submit(request, thread, { deliveryKey: `slack:press:${body.trigger_id}` });
}

/** Edit…: the form, opened with the press's trigger_id (valid 3 s, so before anything slow). */
export async function onEditButton(deps: GestureDeps, body: BlockAction): Promise<void> {
  const value = decodeImageValue(body.actions[0]?.value);
  if (!value) return;
  const run = await deps.store.getRun(value.key.runId);
  if (!run?.images.some((image) => image.index === value.key.index)) {
    await tellPresser(deps, body, escapeSlackText(FOLLOW_UP_TOO_OLD));
    return;
  }
  const { channel, threadTs } = placeOf(body);
  const view = editView(
    { key: value.key, fileId: value.fileId, channel, threadTs },
    run.references.length > 0,
  );
  try {
    await deps.thread.web.openView(body.trigger_id, view);
  } catch (error) {
    deps.logger.warn("could not open the Edit… form", { error });
  }
}

/** The Edit… form was sent: the edit runs in the image's thread. */
export async function onEditSubmitted(deps: GestureDeps, body: ViewSubmission): Promise<void> {
  const metadata = decodeEditMetadata(body.view.private_metadata);
  if (!metadata) {
    deps.logger.warn("ignored an Edit… form with unreadable metadata");
    return;
  }
  const { prompt, keepReferences } = readEditState(body.view.state);
  const place = { channel: metadata.channel, threadTs: metadata.threadTs };
  const thread = new SlackThread(deps.thread, { ...place, userId: body.user.id });
  const key: ImageKey = metadata.key;
  const request = followUpRequest(
    deps,
    body.user,
    place,
    { verb: "edit", image: key, keepReferences },
    prompt,
  );
  await deps.handler.submit(request, thread);
}

/** Cancel on a running status: the requester, or a workspace admin or owner, stops that run. */
export async function onCancelButton(deps: GestureDeps, body: BlockAction): Promise<void> {
  const runId = decodeCancelValue(body.actions[0]?.value);
  if (!runId) return;
  const web = deps.thread.web;
  const result = await deps.handler.cancelRun(PLATFORM, runId, {
    userId: body.user.id,
    isAdmin: () => web.isAdmin(body.user.id),
  });
  if (result.kind === "refused") {
    // The sentence is plain words around the mention; an ephemeral mention shows the name, pings nobody.
    await tellPresser(deps, body, cancelRefused(`<@${result.requesterId}>`));
  } else if (result.kind === "over") {
    await tellPresser(deps, body, escapeSlackText(RUN_ALREADY_OVER));
  }
}
