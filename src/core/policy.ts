import { BotError } from "../errors.js";
import { blockedTermMatcher } from "./blocked-terms.js";
import { blockedTermSentence, channelNotAllowed } from "./cost-messages.js";
import type { IncomingRequest } from "./ports.js";

/**
 * Where and what may be generated (ALLOWED_CHANNELS, BLOCKED_TERMS), checked when a command is
 * read: before any download, quota reservation, public post or Seedream call.
 */

export interface PolicySettings {
  /** Channel ids where images may be generated; empty = everywhere. */
  allowedChannels: readonly string[];
  blockedTerms: readonly string[];
}

/** A request the workspace's policy refuses; `term` is the blocked term that matched, if that was why. */
export class PolicyError extends BotError {
  override name = "PolicyError";
  readonly term: string | undefined;

  constructor(code: "channel_not_allowed" | "blocked_term", userMessage: string, term?: string) {
    // The log line names the term, never the rest of the prompt.
    super(code, term === undefined ? "channel not in ALLOWED_CHANNELS" : `blocked term "${term}"`, {
      userMessage,
    });
    this.term = term;
  }
}

export type PolicyCheck = (request: IncomingRequest, prompt: string) => PolicyError | undefined;

export function createPolicy(settings: PolicySettings | undefined): PolicyCheck {
  const allowed = new Set(settings?.allowedChannels ?? []);
  const blocked = blockedTermMatcher(settings?.blockedTerms ?? []);
  return (request, prompt) => {
    // A request without channel ids (the console) is the operator's own.
    const channels = request.channelIds;
    if (allowed.size > 0 && channels !== undefined && !channels.some((id) => allowed.has(id))) {
      return new PolicyError("channel_not_allowed", channelNotAllowed([...allowed]));
    }
    const term = blocked(prompt);
    return term === undefined ? undefined : new PolicyError("blocked_term", blockedTermSentence(term), term);
  };
}
