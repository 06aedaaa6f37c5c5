import type { ModelCapabilities } from "../seedream/models.js";
import { type DownloadLimits, downloadAttachment } from "./download.js";
import { ReferenceImageError } from "./errors.js";
import {
  DEFAULT_REFERENCE_RULES,
  type NormalisedImage,
  normaliseImage,
  type ReferenceRules,
} from "./image-normalise.js";
import type { Attachment, IncomingRequest } from "./ports.js";
import type { BotStore, ImageRecord } from "./store.js";
import { plural } from "./text.js";

/**
 * Which images a request uses as references, in the order the prompt can refer to them
 * ("image 1, image 2"): first the replied-to message's images (or `#N` of the replied-to
 * group), then the message's own attachments.
 */
export async function selectReferenceSources(
  request: IncomingRequest,
  picks: readonly number[],
  store: BotStore,
): Promise<Attachment[]> {
  return [...(await repliedSources(request, picks, store)), ...request.attachments];
}

async function repliedSources(
  request: IncomingRequest,
  picks: readonly number[],
  store: BotStore,
): Promise<Attachment[]> {
  const open = request.resolveStoredImage?.bind(request);
  // An image the bot posted is found again by its store key (what a resumed run keeps).
  const resolve =
    open &&
    ((image: ImageRecord): Attachment =>
      Object.assign(open(image), {
        descriptor: { kind: "stored", platform: image.platform, messageId: image.messageId } as const,
      }));
  const { replyTo } = request;
  if (replyTo) {
    const record = await store.findImage(request.platform, replyTo.messageId);
    if (record && resolve) {
      if (picks.length === 0) return replyTo.attachments.length > 0 ? replyTo.attachments : [resolve(record)];
      const run = await store.getRun(record.runId);
      return pickFromGroup(run?.images ?? [record], picks, record.params.n).map((image) => resolve(image));
    }
    const images = replyTo.attachments.filter(mayBeImage);
    if (picks.length === 0) return images;
    return picks.map((pick) => {
      const image = images[pick - 1];
      if (!image) throw new ReferenceImageError(noSuchImage(pick, images.length));
      return image;
    });
  }
  if (request.continuesThread && resolve) {
    const run = await store.latestRun(request.platform, request.conversationId);
    if (!run) {
      if (picks.length > 0)
        throw new ReferenceImageError(`There is no earlier image in this thread to pick #${picks[0]} from.`);
      return [];
    }
    if (picks.length === 0) {
      const latest = run.images.at(-1);
      return latest ? [resolve(latest)] : [];
    }
    return pickFromGroup(run.images, picks, run.params.n).map((image) => resolve(image));
  }
  return [];
}

/** `#N` is the image labelled "N/…", i.e. `image_index` N-1, whatever order it was posted in. */
function pickFromGroup(
  images: readonly ImageRecord[],
  picks: readonly number[],
  asked: number,
): ImageRecord[] {
  return picks.map((pick) => {
    const image = images.find((candidate) => candidate.index === pick - 1);
    if (image) return image;
    if (pick <= asked)
      throw new ReferenceImageError(`Image #${pick} of that group was not delivered, so it can't be edited.`);
    throw new ReferenceImageError(noSuchImage(pick, Math.max(asked, images.length)));
  });
}

const noSuchImage = (pick: number, count: number): string =>
  count === 0
    ? `There is no image to pick #${pick} from.`
    : `There is no image #${pick}: that message has ${plural(count, "image")}.`;

/** Replied-to messages may carry other files; skip those declared as non-images. */
function mayBeImage(attachment: Attachment): boolean {
  return attachment.contentType === undefined || attachment.contentType.toLowerCase().startsWith("image/");
}

/** Reference rules for a model (its limits are the model table's). */
export function referenceRulesFor(caps: ModelCapabilities): ReferenceRules {
  return { ...DEFAULT_REFERENCE_RULES, maxAspect: caps.referenceMaxAspect, modelName: caps.name };
}

/**
 * Downloads and normalises every source, keeping order. Two at a time: enough to overlap
 * network and sharp without flooding a two-core machine.
 */
export async function prepareReferences(
  sources: readonly Attachment[],
  rules: ReferenceRules,
  limits: DownloadLimits,
): Promise<NormalisedImage[]> {
  const results = new Array<NormalisedImage>(sources.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < sources.length) {
      const position = next++;
      const source = sources[position] as Attachment;
      try {
        const bytes = await downloadAttachment(source, limits);
        results[position] = await normaliseImage(bytes, source.name, rules);
      } catch (error) {
        next = sources.length; // the request fails anyway: don't start further downloads
        throw error;
      }
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}
