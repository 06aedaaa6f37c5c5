/**
 * What a chat platform adapter gives the core and what it implements for it. Kept deliberately
 * small: everything platform-specific (tokens, hosts, throttling, mention escaping) stays in the
 * adapter; the core only sees requests, byte streams and an output thread.
 */

import type { FileDescriptor, ReferenceDescriptor, ThreadAddress } from "./run-record.js";

export type { FileDescriptor, ReferenceDescriptor, ThreadAddress } from "./run-record.js";

/** Bytes of a file as the platform serves them; `contentType`/`contentLength` are only declared. */
export interface ByteStream {
  body: AsyncIterable<Uint8Array>;
  contentType?: string;
  contentLength?: number;
}

/**
 * A file the user attached (or the bot posted earlier). Declared fields are hints only: the core
 * enforces the size cap while streaming and detects the format from the bytes.
 */
export interface Attachment {
  name: string;
  contentType?: string;
  size?: number;
  width?: number;
  height?: number;
  /**
   * Opens the download. Honour `signal` (the core aborts past the size cap, on timeout and on
   * cancel). May throw a `BotError` whose `userMessage` names the cause (e.g. a missing scope).
   */
  fetch(signal: AbortSignal): Promise<ByteStream>;
  /**
   * Where to fetch this file again later (a restart, another process): ids, never bytes. The
   * core sets it itself for images the bot posted; absent, the request cannot be resumed.
   */
  descriptor?: ReferenceDescriptor;
}

/** The message a request replies to. */
export interface ReplyTo {
  /** The platform's id of that message (the key images are recorded under). */
  messageId: string;
  attachments: Attachment[];
  /** Whether the bot itself posted that message. */
  fromBot: boolean;
}

export interface ChatUser {
  id: string;
  displayName: string;
  /** The platform says this user manages the team (Discord: Manage Server): `usage` shows team totals. */
  manager?: boolean;
}

/** An image the bot posted earlier, as recorded in the store (what `resolveStoredImage` receives). */
export interface StoredImageRef {
  platform: string;
  conversationId: string;
  /** The platform message id returned by `OutputThread.postImage`. */
  messageId: string;
  /** The adapter's own reference returned with it (Slack file id, Discord channel/message), if any. */
  ref?: string;
  fileName: string;
  mimeType: string;
}

export interface IncomingRequest {
  /** `slack`, `discord`, `console`…: namespaces ids in the store and the per-user limits. */
  platform: string;
  /** Opaque id of the thread/channel the results go to. */
  conversationId: string;
  user: ChatUser;
  /** Slack workspace / Discord server id: the team whose quota and totals the request counts in (none in a DM). */
  teamId?: string;
  /**
   * The channel the request was made in, and for a thread its parent channel: ALLOWED_CHANNELS
   * allows the request when one of them is listed. Absent (the console): allowed.
   */
  channelIds?: string[];
  /** The command text with the bot mention already removed. */
  text: string;
  attachments: Attachment[];
  replyTo?: ReplyTo;
  /**
   * True when the message is a follow-up inside a thread where the bot may have run before
   * (Slack thread replies): without `replyTo`, it then edits the latest image of that thread,
   * or image `#N` of the thread's latest group.
   */
  continuesThread?: boolean;
  /**
   * Turns an image the bot posted earlier back into a fetchable attachment. Needed for
   * `continuesThread` and for `#N` in a reply to one image of a group; without it only the
   * replied message's own attachments can be used.
   */
  resolveStoredImage?(image: StoredImageRef): Attachment;
  /** Turns a user's file recorded with an earlier run back into an attachment (Again, Edit…). */
  resolveFile?(descriptor: FileDescriptor): Attachment;
  /** A press of a follow-up button (Again, Vary) or a submitted Edit… form, on one image of a run. */
  followUp?: FollowUp;
}

/** One image of a run: what a follow-up button names. */
export interface ImageKey {
  runId: string;
  /** 0-based `image_index` ("2/4" is index 1). */
  index: number;
}

/**
 * The one-click follow-ups, core verbs that every adapter draws natively:
 * - `again`: the run's prompt, parameters and references, a new run;
 * - `vary`: this image as the only reference, the run's prompt and `n`;
 * - `edit`: the request's text (flags allowed) on this image, then the run's other references
 *   when `keepReferences`.
 * The request's user is whoever pressed: their limits apply.
 */
export type FollowUp =
  | { verb: "again" | "vary"; image: ImageKey }
  | { verb: "edit"; image: ImageKey; keepReferences?: boolean };

export interface ImagePost {
  /** The run and `image_index` of this image: adapters draw its follow-up buttons from it. */
  key: ImageKey;
  bytes: Buffer;
  fileName: string;
  mimeType: string;
  /** Short visible label, e.g. "2/4". */
  caption: string;
  /** Accessible description (the prompt, truncated). */
  altText: string;
}

export interface PostedImage {
  /** The platform id of the message now showing the image (what a later reply will point at). */
  messageId: string;
  /** Anything the adapter needs to fetch this image again later (file id, URL, message link). */
  ref?: string;
}

/**
 * Where results go. `updateStatus` shows ONE status line per request (posting it on the first
 * call, editing it afterwards); the core throttles the calls ("latest value wins", at most one per
 * `statusIntervalMs`), so an adapter only states its platform's interval.
 */
export interface OutputThread {
  postText(text: string): Promise<void>;
  postImage(image: ImagePost): Promise<PostedImage>;
  updateStatus(text: string): Promise<void>;
  /** Least time between two status edits on this platform (default 0: one edit at a time). */
  statusIntervalMs?: number;
  /** Called once when the request is answered (after the last status is shown): tidy up. */
  finish?(): Promise<void>;
  /** Shows that the bot is working (Discord typing indicator); called now and then during a run. */
  typing?(): Promise<void>;
  /** Text only the requesting user sees (Slack ephemeral); help uses it when present. */
  postEphemeral?(text: string): Promise<void>;
  /** Largest file the platform accepts; larger images are re-encoded to fit. */
  maxUploadBytes?: number;
  /**
   * Where this thread is (its status message included once posted), so the run can be picked
   * up from its record after a restart; undefined where it cannot be (console, private answers).
   */
  address?(): ThreadAddress | undefined;
  /**
   * The run whose status this is, once it is executing (draw a Cancel button with the status),
   * and undefined when it is over (the button goes, at the latest when the answer finishes).
   */
  cancellable?(runId: string | undefined): void;
}

/** What an adapter gives the core to pick runs up again from their records alone (after a restart). */
export interface PlatformRestorer {
  platform: string;
  /** The output thread at `address`: its status message is edited, not posted again. */
  thread(address: ThreadAddress): OutputThread;
  /** A user's file again, from its descriptor. */
  attachment(descriptor: FileDescriptor): Attachment;
  /** An image the bot posted earlier (as `IncomingRequest.resolveStoredImage`). */
  storedImage(image: StoredImageRef): Attachment;
}

/** A running platform connection; `healthy` feeds `GET /healthz`. */
export interface PlatformHandle {
  name: string;
  /** How the core rebuilds this platform's threads and references for runs recorded earlier. */
  restorer?: PlatformRestorer;
  healthy(): boolean;
  stop(): Promise<void>;
}
