import { BotError } from "../errors.js";
import { BadCommandError } from "./errors.js";
import { type GenerationParams, parseCommand } from "./grammar.js";
import { EDIT_NEEDS_PROMPT, FOLLOW_UP_TOO_OLD, REFERENCES_GONE } from "./messages.js";
import type { Attachment, FollowUp, IncomingRequest } from "./ports.js";
import type { ReferenceDescriptor } from "./run-record.js";
import type { CoreSettings } from "./settings.js";
import type { BotStore, ImageRecord, RunRecord } from "./store.js";

/**
 * Again, Vary and Edit… as a command and its references, read from the pressed image's run
 * record (so the buttons work after a restart, for the store's TTL). The request's own text only
 * counts for Edit…; the presser is the request's user, so their limits apply as usual.
 */

/** The pressed image's run is gone, or its references are: said privately, nothing runs. */
export class FollowUpUnavailableError extends BotError {
  override name = "FollowUpUnavailableError";

  constructor(code: "follow_up_too_old" | "follow_up_references_gone", message: string) {
    super(code, message, { userMessage: message });
  }
}

export interface FollowUpCommand {
  params: GenerationParams;
  sources: Attachment[];
  /** The run the pressed image belongs to. */
  run: RunRecord;
}

export async function readFollowUp(
  request: IncomingRequest,
  followUp: FollowUp,
  store: BotStore,
  settings: CoreSettings,
): Promise<FollowUpCommand> {
  const run = await store.getRun(followUp.image.runId);
  const image = run?.images.find((candidate) => candidate.index === followUp.image.index);
  if (!run || !image || run.platform !== request.platform) {
    throw new FollowUpUnavailableError("follow_up_too_old", FOLLOW_UP_TOO_OLD);
  }
  const pressed = storedSource(request, image);
  switch (followUp.verb) {
    case "again":
      return { run, params: runParams(run), sources: await runReferences(request, run, store) };
    case "vary":
      return { run, params: runParams(run), sources: [pressed] };
    case "edit": {
      const command = parseCommand(request.text, { defaults: settings.defaults, allowPicks: false });
      if (command.kind !== "generate") throw new BadCommandError(EDIT_NEEDS_PROMPT);
      const others = followUp.keepReferences ? await runReferences(request, run, store) : [];
      return { run, params: command.params, sources: [pressed, ...others] };
    }
  }
}

/** The run's command as it was accepted (the model as resolved then). */
function runParams(run: RunRecord): GenerationParams {
  const { params } = run;
  const out: GenerationParams = {
    prompt: run.prompt,
    n: params.n,
    watermark: params.watermark,
    fast: params.fast === true,
    web: params.web === true,
    picks: [],
  };
  if (params.format !== undefined) out.format = params.format;
  if (params.size !== undefined) out.size = params.size;
  if (params.model !== undefined) out.model = params.model;
  if (params.seed !== undefined) out.seed = params.seed;
  return out;
}

function storedSource(request: IncomingRequest, image: ImageRecord): Attachment {
  if (!request.resolveStoredImage) throw new FollowUpUnavailableError("follow_up_too_old", FOLLOW_UP_TOO_OLD);
  return withDescriptor(request.resolveStoredImage(image), {
    kind: "stored",
    platform: image.platform,
    messageId: image.messageId,
  });
}

/** The run's references, fetched again from where they were: earlier images by store key, files by locator. */
async function runReferences(
  request: IncomingRequest,
  run: RunRecord,
  store: BotStore,
): Promise<Attachment[]> {
  const gone = () => new FollowUpUnavailableError("follow_up_references_gone", REFERENCES_GONE);
  return Promise.all(
    run.references.map(async (descriptor) => {
      if (descriptor.kind === "stored") {
        const image = await store.findImage(descriptor.platform, descriptor.messageId);
        if (!image || !request.resolveStoredImage) throw gone();
        return storedSource(request, image);
      }
      // An empty locator marks a file the platform offers no way back to (a slash command option).
      const reachable =
        Object.keys(descriptor.locator).length > 0 && descriptor.platform === request.platform;
      if (!request.resolveFile || !reachable) throw gone();
      return withDescriptor(request.resolveFile(descriptor), descriptor);
    }),
  );
}

function withDescriptor(attachment: Attachment, descriptor: ReferenceDescriptor): Attachment {
  if (attachment.descriptor === undefined) attachment.descriptor = descriptor;
  return attachment;
}
