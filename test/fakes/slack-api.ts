/**
 * A fake Slack on 127.0.0.1 speaking the wire protocol the real `@slack/web-api` WebClient uses
 * (point Bolt's `clientOptions.slackApiUrl` at `apiUrl`): Web API methods under `/api/`, the
 * external upload URLs, private file downloads under `/files-pri/`, and slash command
 * `response_url`s. It records what the app made visible and lets tests inject Slack errors,
 * rate limits and held responses.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type AddFileOptions, type EventFile, FileHost } from "./slack-files.js";
import {
  type ChannelInfo,
  type Identity,
  SlackApiError,
  SlackWorkspace,
  type StoredMessage,
} from "./slack-methods.js";
import { type ApiCall, type PostedMessage, type RecordedUpload, SlackRecorder } from "./slack-recorder.js";
import {
  bearerToken,
  type Params,
  parseBody,
  queryParams,
  randomId,
  sendJson,
  sendText,
  TsClock,
} from "./slack-wire.js";

export const DEFAULT_SCOPES = [
  "app_mentions:read",
  "channels:history",
  "groups:history",
  "chat:write",
  "commands",
  "files:read",
  "files:write",
];

export interface FakeSlackApiOptions {
  botToken?: string;
  teamId?: string;
  teamDomain?: string;
  botUserId?: string;
  botId?: string;
  appId?: string;
  /** The human who sends events by default. */
  userId?: string;
  userName?: string;
  /** Scopes the bot token has; methods and downloads needing others fail like Slack does. */
  scopes?: string[];
}

/**
 * A scripted failure for the next call(s) of a method. `method` is a Web API method name, or
 * `"upload"` (the upload URL) or `"response_url"`.
 */
export interface Fault {
  /** Slack error code answered as `{ok:false, error}`; "ratelimited" defaults to HTTP 429. */
  error?: string;
  /** HTTP status (default 200, or 429 for "ratelimited"). */
  status?: number;
  /** Seconds for the Retry-After header (default 1 with status 429). */
  retryAfter?: number;
  /** A raw body instead of Slack's JSON (e.g. an HTML 503 page from a proxy). */
  rawBody?: string;
  /** Extra fields in the error JSON, e.g. `{ needed: "files:write" }`. */
  extra?: Params;
  /** How many calls it applies to (default 1). */
  times?: number;
}

export interface Hold {
  /** Resolves when a call to the held method arrives (it then waits for `release`). */
  reached: Promise<void>;
  release(): void;
}

export interface ForeignHit {
  seq: number;
  path: string;
  /** The Authorization header the foreign host received, if any (it must never be the bot token). */
  authorization?: string;
}

interface PendingHold {
  arrived: () => void;
  release: () => void;
  released: Promise<void>;
}

export class FakeSlackApi {
  readonly botToken: string;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;
  readonly userId: string;
  readonly userName: string;
  readonly recorder = new SlackRecorder();
  readonly clock = new TsClock();
  readonly foreignHits: ForeignHit[] = [];
  /** Every POST of bytes to an upload URL (the middle step of files.uploadV2), in order. */
  readonly byteUploads: { seq: number; key: string; length: number }[] = [];
  readonly fileHost: FileHost;
  readonly workspace: SlackWorkspace;
  private seq = 0;
  private port = 0;
  private server: Server | undefined;
  private readonly faults = new Map<string, Fault[]>();
  private readonly holds = new Map<string, PendingHold[]>();
  private readonly responseUrls = new Set<string>();

  private constructor(options: FakeSlackApiOptions) {
    this.botToken = options.botToken ?? "xoxb-1111-2222-fakebottoken";
    this.teamId = options.teamId ?? "T0FAKE0001";
    this.teamDomain = options.teamDomain ?? "fake-workspace";
    this.botUserId = options.botUserId ?? "U0BOT00001";
    this.botId = options.botId ?? "B0BOT00001";
    this.appId = options.appId ?? "A0APP00001";
    this.userId = options.userId ?? "U0HUMAN001";
    this.userName = options.userName ?? "alice";
    const nextSeq = () => ++this.seq;
    const baseUrl = () => this.url;
    this.fileHost = new FileHost({
      baseUrl,
      teamId: this.teamId,
      teamDomain: this.teamDomain,
      botToken: this.botToken,
      defaultUser: this.userId,
      nowSeconds: () => this.clock.nowSeconds(),
      nextSeq,
      canRead: () => this.workspace.scopes.has("files:read"),
    });
    const identity: Identity = {
      teamId: this.teamId,
      teamDomain: this.teamDomain,
      botUserId: this.botUserId,
      botId: this.botId,
      appId: this.appId,
    };
    const scopes = new Set(options.scopes ?? DEFAULT_SCOPES);
    this.workspace = new SlackWorkspace(
      identity,
      this.fileHost,
      this.recorder,
      this.clock,
      nextSeq,
      scopes,
      baseUrl,
    );
  }

  static async start(options: FakeSlackApiOptions = {}): Promise<FakeSlackApi> {
    const api = new FakeSlackApi(options);
    const server = createServer((req, res) => {
      api.route(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendText(res, 500, `fake slack crashed: ${String(error)}`);
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    api.server = server;
    api.port = (server.address() as AddressInfo).port;
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What to pass as Bolt `clientOptions.slackApiUrl` / `SLACK_API_URL`. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const holds of this.holds.values()) for (const h of holds) h.release();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- control API ----

  /** Hosts a file a user shared; returns the object as it appears in an event's `files`. */
  addFile(options: AddFileOptions): EventFile {
    return this.fileHost.eventShape(this.fileHost.add(options));
  }

  /** The next `fault.times` calls of `method` fail as described (queued after earlier faults). */
  failNext(method: string, fault: Fault): void {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < (fault.times ?? 1); i += 1) queue.push(fault);
    this.faults.set(method, queue);
  }

  /** The next call of `method` waits until `release()`; proves ordering without sleeps. */
  hold(method: string): Hold {
    let arrived!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const queue = this.holds.get(method) ?? [];
    queue.push({ arrived, release, released });
    this.holds.set(method, queue);
    return { reached, release };
  }

  setChannel(id: string, info: Partial<Omit<ChannelInfo, "id">>): void {
    Object.assign(this.workspace.channel(id), info);
  }

  /** The next `times` messages carrying an image block are refused (`invalid_blocks`, "invalid slack file"). */
  refuseImageBlocks(times = 1): void {
    this.workspace.imageBlockRefusals += times;
  }

  /** A workspace member as users.info shows them (admins and owners may cancel anyone's run). */
  setUser(id: string, info: { name?: string; isAdmin?: boolean; isOwner?: boolean } = {}): void {
    this.workspace.users.set(id, {
      id,
      name: info.name ?? id.toLowerCase(),
      isAdmin: info.isAdmin ?? false,
      isOwner: info.isOwner ?? false,
    });
  }

  setScopes(scopes: string[]): void {
    this.workspace.scopes.clear();
    for (const s of scopes) this.workspace.scopes.add(s);
  }

  /** A fresh response_url for a slash command; POSTs to it are recorded as `response_url`. */
  newResponseUrl(): string {
    const url = `${this.url}/commands/${this.teamId}/${++this.seq}/${randomId("", 24)}`;
    this.responseUrls.add(url);
    return url;
  }

  /** A URL on a host other than this fake's (same server, `localhost` instead of 127.0.0.1). */
  foreignUrl(path: string): string {
    return `http://localhost:${this.port}/foreign/${path.replace(/^\//, "")}`;
  }

  /** A message as it stands now (after chat.update calls). */
  message(channel: string, ts: string): StoredMessage | undefined {
    return this.workspace.message(channel, ts);
  }

  /** Stores a message a human sent (events reference it; chat.update on it is refused). */
  storeUserMessage(message: Omit<StoredMessage, "edits">): StoredMessage {
    return this.workspace.storeMessage(message);
  }

  /** Bot messages and uploads in one thread, in the order they reached Slack. */
  thread(channel: string, threadTs: string): Array<PostedMessage | RecordedUpload> {
    return this.recorder.records.filter(
      (r): r is PostedMessage | RecordedUpload =>
        (r.kind === "message" || r.kind === "upload") && r.channel === channel && r.threadTs === threadTs,
    );
  }

  get calls(): ApiCall[] {
    return this.recorder.calls;
  }

  // ---- HTTP ----

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const path = url.pathname;
    if (path.startsWith("/api/")) return this.handleMethod(req, res, path.slice(5), url);
    if (path.startsWith("/upload/v1/") && req.method === "POST")
      return this.handleUpload(req, res, path.slice(11));
    if (req.method === "GET" && this.fileHost.serve(req, res, path)) return;
    if (path.startsWith("/commands/") && req.method === "POST") return this.handleResponseUrl(req, res, url);
    if (path.startsWith("/foreign/")) {
      const authorization = req.headers.authorization;
      this.foreignHits.push({ seq: ++this.seq, path, ...(authorization ? { authorization } : {}) });
      return sendText(res, 200, "foreign host content");
    }
    sendText(res, 404, "Not Found");
  }

  /** Applies a pending hold, then a pending fault; returns the fault when it already answered. */
  private async intercept(method: string, res: ServerResponse): Promise<Fault | undefined> {
    const hold = this.holds.get(method)?.shift();
    if (hold) {
      hold.arrived();
      await hold.released;
    }
    const fault = this.faults.get(method)?.shift();
    if (!fault) return undefined;
    const status = fault.status ?? (fault.error === "ratelimited" ? 429 : 200);
    const headers: Record<string, string> = {};
    if (status === 429 || fault.retryAfter !== undefined)
      headers["retry-after"] = String(fault.retryAfter ?? 1);
    if (fault.rawBody !== undefined)
      sendText(res, status, fault.rawBody, "text/html; charset=utf-8", headers);
    else sendJson(res, status, { ok: false, error: fault.error ?? "fatal_error", ...fault.extra }, headers);
    return fault;
  }

  private async handleMethod(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
  ): Promise<void> {
    const body = await parseBody(req);
    const args: Params = { ...queryParams(url), ...body.params };
    const headerToken = bearerToken(req);
    const token = headerToken ?? (typeof args.token === "string" ? args.token : undefined);
    const tokenVia = headerToken ? "header" : token ? "body" : "none";
    const record = (httpStatus: number, error?: string) =>
      this.recorder.addCall({
        seq: ++this.seq,
        method,
        args,
        tokenVia,
        contentType: body.contentType,
        ok: error === undefined,
        httpStatus,
        ...(error !== undefined ? { error } : {}),
      });
    const fault = await this.intercept(method, res);
    if (fault)
      return record(fault.status ?? (fault.error === "ratelimited" ? 429 : 200), fault.error ?? "fault");
    const scopes = { "x-oauth-scopes": [...this.workspace.scopes].join(","), "x-accepted-oauth-scopes": "" };
    try {
      if (!token) throw new SlackApiError("not_authed");
      if (token !== this.botToken) throw new SlackApiError("invalid_auth");
      this.workspace.checkScope(method, args);
      const result = this.workspace.call(method, args);
      record(200);
      sendJson(res, 200, { ok: true, ...result }, scopes);
    } catch (error) {
      if (!(error instanceof SlackApiError)) throw error;
      record(200, error.code);
      sendJson(res, 200, { ok: false, error: error.code, ...error.extra }, scopes);
    }
  }

  private async handleUpload(req: IncomingMessage, res: ServerResponse, key: string): Promise<void> {
    const body = await parseBody(req);
    if (await this.intercept("upload", res)) return;
    // Slack takes raw bytes or a multipart form; the WebClient sends the bytes in a `body` part.
    const part = body.files.get("body") ?? body.files.get("file") ?? [...body.files.values()][0];
    const bytes = part?.bytes ?? body.raw;
    this.byteUploads.push({ seq: ++this.seq, key, length: bytes.length });
    if (!this.workspace.receiveUpload(key, bytes, body.contentType)) return sendText(res, 404, "Not Found");
    sendText(res, 200, `OK - ${bytes.length}`);
  }

  private async handleResponseUrl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const full = `${this.url}${url.pathname}`;
    const body = await parseBody(req);
    if (await this.intercept("response_url", res)) return;
    if (!this.responseUrls.has(full)) return sendJson(res, 404, { ok: false, error: "expired_url" });
    const params = body.params;
    this.recorder.add({
      kind: "response_url",
      seq: ++this.seq,
      url: full,
      body: params,
      ...(typeof params.text === "string" ? { text: params.text } : {}),
      ...(typeof params.response_type === "string" ? { responseType: params.response_type } : {}),
    });
    sendJson(res, 200, { ok: true });
  }
}
