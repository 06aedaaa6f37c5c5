/**
 * Files the fake Slack workspace hosts: ones a test attaches to user messages (`addFile`) and ones
 * the bot uploads. Builds the file object exactly where Slack shows it (events, files.info,
 * files.completeUploadExternal) and serves `/files-pri/...` downloads with Slack's quirks: a
 * missing/wrong token still gets HTTP 200 with an HTML login page.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { bearerToken, SLACK_LOGIN_PAGE, sendText } from "./slack-wire.js";

/** The Slack file object as it appears in events and files.info (fields the bot may read). */
export interface SlackFileObject {
  id: string;
  created: number;
  timestamp: number;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  pretty_type: string;
  user: string;
  user_team: string;
  editable: boolean;
  size: number;
  mode: string;
  is_external: boolean;
  external_type: string;
  is_public: boolean;
  public_url_shared: boolean;
  display_as_bot: boolean;
  username: string;
  url_private: string;
  url_private_download: string;
  media_display_type: string;
  original_w?: number;
  original_h?: number;
  alt_txt?: string;
  permalink: string;
  permalink_public: string;
  is_starred: boolean;
  has_rich_preview: boolean;
  file_access: string;
}

/** A Slack Connect stub: all an event carries for a file from another org until files.info. */
export interface SlackFileStub {
  id: string;
  mode: "file_access";
  file_access: "check_file_info";
  created: 0;
  timestamp: 0;
  user: "";
}

export type EventFile = SlackFileObject | SlackFileStub;

export interface AddFileOptions {
  bytes: Uint8Array;
  name: string;
  /** Defaults from the extension of `name`. */
  mimetype?: string;
  filetype?: string;
  title?: string;
  /** Who shared it; defaults to the fake's default human user. */
  user?: string;
  /** Declared size in the file object; defaults to the real byte length (override to make it lie). */
  size?: number;
  /** original_w/h; read from a PNG header when omitted. */
  width?: number;
  height?: number;
  altText?: string;
  /**
   * What a download answers even with the right token: the bytes (default), Slack's HTML login
   * page (what a token without `files:read` gets), or a 302 to another URL.
   */
  serve?: "bytes" | "html" | { redirectTo: string };
  /** Appear in events as a Slack Connect stub (`file_access: "check_file_info"`). */
  connectStub?: boolean;
}

export interface HostedFile {
  object: SlackFileObject;
  bytes: Buffer;
  serve: NonNullable<AddFileOptions["serve"]>;
  connectStub: boolean;
}

export interface FileDownload {
  seq: number;
  fileId: string;
  variant: "url_private" | "url_private_download";
  /** Whether the request carried the bot token as a Bearer header (and the token has files:read). */
  authorized: boolean;
  served: "bytes" | "login_page" | "html" | "redirect" | "not_found";
}

const TYPES: Record<string, { mimetype: string; filetype: string; pretty: string }> = {
  png: { mimetype: "image/png", filetype: "png", pretty: "PNG" },
  jpg: { mimetype: "image/jpeg", filetype: "jpg", pretty: "JPEG" },
  jpeg: { mimetype: "image/jpeg", filetype: "jpg", pretty: "JPEG" },
  webp: { mimetype: "image/webp", filetype: "webp", pretty: "WebP" },
  gif: { mimetype: "image/gif", filetype: "gif", pretty: "GIF" },
  pdf: { mimetype: "application/pdf", filetype: "pdf", pretty: "PDF" },
  txt: { mimetype: "text/plain", filetype: "text", pretty: "Plain Text" },
};

export function typeOf(name: string): { mimetype: string; filetype: string; pretty: string } {
  const ext = name.includes(".") ? (name.split(".").pop() ?? "").toLowerCase() : "";
  return TYPES[ext] ?? { mimetype: "application/octet-stream", filetype: "binary", pretty: "Binary" };
}

function pngSize(bytes: Buffer): { w: number; h: number } | undefined {
  const signature = "89504e470d0a1a0a";
  if (bytes.length < 24 || bytes.subarray(0, 8).toString("hex") !== signature) return undefined;
  return { w: bytes.readUInt32BE(16), h: bytes.readUInt32BE(20) };
}

export interface FileHostContext {
  baseUrl: () => string;
  teamId: string;
  teamDomain: string;
  botToken: string;
  defaultUser: string;
  nowSeconds: () => number;
  nextSeq: () => number;
  /** Whether the bot token has `files:read`; without it Slack answers downloads with the login page. */
  canRead: () => boolean;
}

export class FileHost {
  private readonly files = new Map<string, HostedFile>();
  private counter = 0;
  readonly downloads: FileDownload[] = [];

  constructor(private readonly ctx: FileHostContext) {}

  newId(): string {
    this.counter += 1;
    return `F0FAKE${String(this.counter).padStart(5, "0")}`;
  }

  add(options: AddFileOptions, id = this.newId()): HostedFile {
    const bytes = Buffer.from(options.bytes);
    const kind = typeOf(options.name);
    const dims = pngSize(bytes);
    const base = this.ctx.baseUrl();
    const encoded = encodeURIComponent(options.name);
    const user = options.user ?? this.ctx.defaultUser;
    const created = this.ctx.nowSeconds();
    const object: SlackFileObject = {
      id,
      created,
      timestamp: created,
      name: options.name,
      title: options.title ?? options.name,
      mimetype: options.mimetype ?? kind.mimetype,
      filetype: options.filetype ?? kind.filetype,
      pretty_type: kind.pretty,
      user,
      user_team: this.ctx.teamId,
      editable: false,
      size: options.size ?? bytes.length,
      mode: "hosted",
      is_external: false,
      external_type: "",
      is_public: true,
      public_url_shared: false,
      display_as_bot: false,
      username: "",
      url_private: `${base}/files-pri/${this.ctx.teamId}-${id}/${encoded}`,
      url_private_download: `${base}/files-pri/${this.ctx.teamId}-${id}/download/${encoded}`,
      media_display_type: "unknown",
      permalink: `https://${this.ctx.teamDomain}.slack.com/files/${user}/${id}/${encoded}`,
      permalink_public: `https://slack-files.com/${this.ctx.teamId}-${id}-0000000000`,
      is_starred: false,
      has_rich_preview: false,
      file_access: "visible",
    };
    const w = options.width ?? dims?.w;
    const h = options.height ?? dims?.h;
    if (w !== undefined && h !== undefined) {
      object.original_w = w;
      object.original_h = h;
    }
    if (options.altText !== undefined) object.alt_txt = options.altText;
    const hosted: HostedFile = {
      object,
      bytes,
      serve: options.serve ?? "bytes",
      connectStub: options.connectStub ?? false,
    };
    this.files.set(id, hosted);
    return hosted;
  }

  get(id: string): HostedFile | undefined {
    return this.files.get(id);
  }

  /** The shape an event carries for this file. */
  eventShape(file: HostedFile): EventFile {
    if (!file.connectStub) return structuredClone(file.object);
    return {
      id: file.object.id,
      mode: "file_access",
      file_access: "check_file_info",
      created: 0,
      timestamp: 0,
      user: "",
    };
  }

  /** Handles GET /files-pri/<team>-<id>/[download/]<name>. Returns false when the path is not ours. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const match = /^\/files-pri\/([^/]+)-(F[A-Z0-9]+)\/(download\/)?[^/]+$/.exec(path);
    if (!match) return false;
    const [, team, fileId = "", download] = match;
    const variant = download ? "url_private_download" : "url_private";
    const authorized = bearerToken(req) === this.ctx.botToken && this.ctx.canRead();
    const record = (served: FileDownload["served"]) =>
      this.downloads.push({ seq: this.ctx.nextSeq(), fileId, variant, authorized, served });
    const file = team === this.ctx.teamId ? this.files.get(fileId) : undefined;
    if (!authorized) {
      record("login_page");
      sendText(res, 200, SLACK_LOGIN_PAGE, "text/html; charset=utf-8");
      return true;
    }
    if (!file) {
      record("not_found");
      sendText(res, 404, "File not found");
      return true;
    }
    if (file.serve === "html") {
      record("html");
      sendText(res, 200, SLACK_LOGIN_PAGE, "text/html; charset=utf-8");
      return true;
    }
    if (typeof file.serve === "object") {
      record("redirect");
      res.writeHead(302, { location: file.serve.redirectTo, "content-length": "0" });
      res.end();
      return true;
    }
    record("bytes");
    const headers: Record<string, string> = {
      "content-type": file.object.mimetype,
      "content-length": String(file.bytes.length),
    };
    if (download) headers["content-disposition"] = `attachment; filename="${file.object.name}"`;
    res.writeHead(200, headers);
    res.end(file.bytes);
    return true;
  }
}
