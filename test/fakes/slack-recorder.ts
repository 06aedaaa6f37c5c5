/**
 * Everything the app made visible in the fake Slack, in order, plus promise-based waiters so tests
 * await "the 3rd upload" or "a message matching /done/" instead of polling or sleeping.
 */
import type { ViewInput } from "./slack-blocks.js";
import type { Params } from "./slack-wire.js";

export interface PostedMessage {
  kind: "message";
  seq: number;
  channel: string;
  ts: string;
  threadTs?: string;
  text?: string;
  blocks?: unknown[];
  args: Params;
}

export interface MessageUpdate {
  kind: "update";
  seq: number;
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  args: Params;
}

export interface EphemeralMessage {
  kind: "ephemeral";
  seq: number;
  channel: string;
  user: string;
  threadTs?: string;
  text?: string;
  blocks?: unknown[];
  messageTs: string;
  args: Params;
}

/** One file shared by files.completeUploadExternal, with the bytes POSTed to its upload URL. */
export interface RecordedUpload {
  kind: "upload";
  seq: number;
  fileId: string;
  /** Undefined when completed without channel_id (a private file). */
  channel?: string;
  threadTs?: string;
  filename: string;
  title?: string;
  altText?: string;
  /** Which parameter carried the alt text to files.getUploadURLExternal (Slack documents `alt_txt`). */
  altTextField?: "alt_txt" | "alt_text";
  initialComment?: string;
  bytes: Buffer;
  /** `length` declared to files.getUploadURLExternal. */
  declaredLength: number;
  /** Content type of the POST to the upload URL (multipart from the WebClient). */
  uploadContentType: string;
}

/** A POST to a slash command's response_url (Bolt's `respond()`). */
export interface ResponseUrlPost {
  kind: "response_url";
  seq: number;
  url: string;
  body: Params;
  text?: string;
  responseType?: string;
}

/** A modal opened with views.open (what Slack answered, plus the inputs a user can fill in). */
export interface OpenedView {
  kind: "view";
  seq: number;
  viewId: string;
  triggerId: string;
  view: Params;
  inputs: ViewInput[];
}

export type SlackRecord =
  | PostedMessage
  | MessageUpdate
  | EphemeralMessage
  | RecordedUpload
  | ResponseUrlPost
  | OpenedView;
export type SlackRecordKind = SlackRecord["kind"];
type OfKind<K extends SlackRecordKind> = Extract<SlackRecord, { kind: K }>;

/** Every Web API call, successful or not (faults included). */
export interface ApiCall {
  seq: number;
  method: string;
  args: Params;
  /** Whether the token came as `Authorization: Bearer` (vs a `token` body field or none). */
  tokenVia: "header" | "body" | "none";
  contentType: string;
  ok: boolean;
  error?: string;
  httpStatus: number;
}

/** A predicate, or fields that must all match (`text` may be a RegExp). */
export type RecordMatch<T> =
  | ((record: T) => boolean)
  | { channel?: string; threadTs?: string; ts?: string; text?: string | RegExp };

export function matches<T extends SlackRecord>(record: T, match: RecordMatch<T> | undefined): boolean {
  if (match === undefined) return true;
  if (typeof match === "function") return match(record);
  const r = record as { channel?: string; threadTs?: string; ts?: string; text?: string };
  if (match.channel !== undefined && r.channel !== match.channel) return false;
  if (match.threadTs !== undefined && r.threadTs !== match.threadTs) return false;
  if (match.ts !== undefined && r.ts !== match.ts) return false;
  if (match.text !== undefined) {
    const text = r.text ?? "";
    if (typeof match.text === "string" ? text !== match.text : !match.text.test(text)) return false;
  }
  return true;
}

interface Waiter {
  kind: SlackRecordKind;
  test: (record: SlackRecord) => boolean;
  count: number;
  found: SlackRecord[];
  resolve: (records: SlackRecord[]) => void;
}

export interface WaitOptions {
  /** Rejects with a summary of what was recorded instead of hanging until the test timeout. */
  timeoutMs?: number;
}

export const DEFAULT_WAIT_MS = 10_000;

export class SlackRecorder {
  readonly records: SlackRecord[] = [];
  readonly calls: ApiCall[] = [];
  private waiters = new Set<Waiter>();
  private callWaiters = new Set<{ test: (c: ApiCall) => boolean; resolve: (c: ApiCall) => void }>();

  add(record: SlackRecord): void {
    this.records.push(record);
    for (const waiter of this.waiters) {
      if (waiter.kind !== record.kind || !waiter.test(record)) continue;
      waiter.found.push(record);
      if (waiter.found.length >= waiter.count) {
        this.waiters.delete(waiter);
        waiter.resolve(waiter.found);
      }
    }
  }

  addCall(call: ApiCall): void {
    this.calls.push(call);
    for (const waiter of this.callWaiters) {
      if (!waiter.test(call)) continue;
      this.callWaiters.delete(waiter);
      waiter.resolve(call);
    }
  }

  of<K extends SlackRecordKind>(kind: K): OfKind<K>[] {
    return this.records.filter((r): r is OfKind<K> => r.kind === kind);
  }

  /**
   * Resolves with the first `count` records of `kind` matching `match`, counting ones already
   * recorded; so `waitFor("upload", 3)` means "once three uploads exist".
   */
  waitFor<K extends SlackRecordKind>(
    kind: K,
    count: number,
    match?: RecordMatch<OfKind<K>>,
    options: WaitOptions = {},
  ): Promise<OfKind<K>[]> {
    const test = (r: SlackRecord) => matches(r as OfKind<K>, match);
    const found = this.of(kind).filter(test);
    if (found.length >= count) return Promise.resolve(found.slice(0, count));
    return new Promise<OfKind<K>[]>((resolve, reject) => {
      const waiter: Waiter = {
        kind,
        test,
        count,
        found,
        resolve: (records) => {
          clearTimeout(timer);
          resolve(records as OfKind<K>[]);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `timed out waiting for ${count} ${kind} record(s); have ${found.length}.\n${this.summary()}`,
          ),
        );
      }, options.timeoutMs ?? DEFAULT_WAIT_MS);
      timer.unref();
      this.waiters.add(waiter);
    });
  }

  /** Resolves with the next record of `kind` recorded after this call (ignores earlier ones). */
  next<K extends SlackRecordKind>(
    kind: K,
    match?: RecordMatch<OfKind<K>>,
    options?: WaitOptions,
  ): Promise<OfKind<K>> {
    const already = this.of(kind).length;
    return this.waitFor(
      kind,
      1,
      (r) => this.of(kind).indexOf(r) >= already && matches(r, match),
      options,
    ).then((records) => records[0] as OfKind<K>);
  }

  /** Resolves with the first API call (existing or future) for `method` satisfying `test`. */
  waitForCall(
    method: string,
    test: (call: ApiCall) => boolean = () => true,
    options: WaitOptions = {},
  ): Promise<ApiCall> {
    const full = (c: ApiCall) => c.method === method && test(c);
    const existing = this.calls.find(full);
    if (existing) return Promise.resolve(existing);
    return new Promise<ApiCall>((resolve, reject) => {
      const waiter = {
        test: full,
        resolve: (c: ApiCall) => {
          clearTimeout(timer);
          resolve(c);
        },
      };
      const timer = setTimeout(() => {
        this.callWaiters.delete(waiter);
        reject(new Error(`timed out waiting for a ${method} call.\n${this.summary()}`));
      }, options.timeoutMs ?? DEFAULT_WAIT_MS);
      timer.unref();
      this.callWaiters.add(waiter);
    });
  }

  /** Human-readable log of what happened, for waiter timeouts and failed assertions. */
  summary(): string {
    const lines = this.records.map((r) => {
      switch (r.kind) {
        case "upload":
          return `#${r.seq} upload ${r.fileId} ${r.filename} (${r.bytes.length} B) → ${r.channel}/${r.threadTs ?? "-"}`;
        case "response_url":
          return `#${r.seq} response_url ${JSON.stringify(r.text)}`;
        case "ephemeral":
          return `#${r.seq} ephemeral ${r.channel} to ${r.user}: ${JSON.stringify(r.text)}`;
        case "view":
          return `#${r.seq} view ${r.viewId} ${String(r.view.callback_id)}`;
        default:
          return `#${r.seq} ${r.kind} ${r.channel}/${r.ts}${"threadTs" in r && r.threadTs ? ` in ${r.threadTs}` : ""}: ${JSON.stringify(r.text)}`;
      }
    });
    const failed = this.calls
      .filter((c) => !c.ok)
      .map((c) => `#${c.seq} ${c.method} → ${c.error ?? c.httpStatus}`);
    return [...lines, ...failed].join("\n") || "(nothing recorded)";
  }
}
