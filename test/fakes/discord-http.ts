/**
 * HTTP plumbing for the fake Discord REST API: route patterns, body parsing (JSON and the
 * multipart `payload_json` + `files[n]` form Discord uses for uploads) and Discord-shaped errors.
 */
import type { IncomingMessage } from "node:http";

export interface RecordedFile {
  /** Multipart field name, e.g. `files[0]`. */
  field: string;
  filename: string;
  contentType: string;
  bytes: Buffer;
}

export interface ParsedBody {
  json: unknown;
  files: RecordedFile[];
  contentType: string;
}

/** A REST call as the fake saw it, successful or not. */
export interface RecordedRequest {
  seq: number;
  method: string;
  /** Path below `/api/v10`, without the query. */
  path: string;
  /** The matched route, e.g. `POST /channels/:channelId/messages`; `unknown` when none matched. */
  route: string;
  params: Record<string, string>;
  query: Record<string, string>;
  /** Whether `Authorization: Bot <token>` carried the right token. */
  authorized: boolean;
  /** The JSON body, or the parsed `payload_json` of a multipart body. */
  json: unknown;
  files: RecordedFile[];
  contentType: string;
  status: number;
  response: unknown;
}

/** Thrown by handlers; becomes Discord's JSON error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): unknown {
    return this.errors === undefined
      ? { message: this.message, code: this.code }
      : { message: this.message, code: this.code, errors: this.errors };
  }
}

export const errors = {
  unauthorized: () => new ApiError(401, 0, "401: Unauthorized"),
  missingPermissions: () => new ApiError(403, 50013, "Missing Permissions"),
  missingAccess: () => new ApiError(403, 50001, "Missing Access"),
  unknownChannel: () => new ApiError(404, 10003, "Unknown Channel"),
  unknownMessage: () => new ApiError(404, 10008, "Unknown Message"),
  unknownMember: () => new ApiError(404, 10007, "Unknown Member"),
  unknownWebhook: () => new ApiError(404, 10015, "Unknown Webhook"),
  unknownInteraction: () => new ApiError(404, 10062, "Unknown interaction"),
  alreadyAcknowledged: () => new ApiError(400, 40060, "Interaction has already been acknowledged."),
  emptyMessage: () => new ApiError(400, 50006, "Cannot send an empty message"),
  notAuthor: () => new ApiError(403, 50005, "Cannot edit a message authored by another user"),
  tooLarge: () => new ApiError(413, 40005, "Request entity too large"),
  /** 50035 with Discord's nested `errors` tree, e.g. `invalidForm(["content"], "BASE_TYPE_MAX_LENGTH", "...")`. */
  invalidForm: (path: (string | number)[], code: string, message: string) => {
    let tree: Record<string, unknown> = { _errors: [{ code, message }] };
    for (const key of [...path].reverse()) tree = { [String(key)]: tree };
    return new ApiError(400, 50035, "Invalid Form Body", tree);
  },
};

export interface Route<H> {
  method: string;
  /** e.g. `/channels/:channelId/messages/:messageId` */
  pattern: string;
  name: string;
  regex: RegExp;
  keys: string[];
  handler: H;
}

export function route<H>(method: string, pattern: string, handler: H): Route<H> {
  const keys: string[] = [];
  const source = pattern
    .split("/")
    .map((part) => {
      if (!part.startsWith(":")) return part.replace(/[.*+?^${}()|[\]\\@]/g, "\\$&");
      keys.push(part.slice(1));
      return "([^/]+)";
    })
    .join("/");
  return { method, pattern, name: `${method} ${pattern}`, regex: new RegExp(`^${source}$`), keys, handler };
}

export function matchRoute<H>(
  routes: readonly Route<H>[],
  method: string,
  path: string,
): { route: Route<H>; params: Record<string, string> } | undefined {
  for (const r of routes) {
    if (r.method !== method) continue;
    const m = r.regex.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((key, i) => {
      params[key] = decodeURIComponent(m[i + 1] ?? "");
    });
    return { route: r, params };
  }
  return undefined;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parses JSON or multipart/form-data the way Discord reads them (payload_json + files[n]). */
export async function parseBody(raw: Buffer, contentType: string): Promise<ParsedBody> {
  if (raw.length === 0) return { json: undefined, files: [], contentType };
  if (contentType.startsWith("application/json")) {
    try {
      return { json: JSON.parse(raw.toString("utf8")), files: [], contentType };
    } catch {
      throw new ApiError(400, 50109, "The request body contains invalid JSON.");
    }
  }
  if (!contentType.startsWith("multipart/form-data")) {
    throw new ApiError(400, 50035, `fake Discord: unsupported content type ${contentType}`);
  }
  const form = await new Request("http://fake.invalid/", {
    method: "POST",
    headers: { "content-type": contentType },
    body: raw,
  }).formData();
  const files: RecordedFile[] = [];
  let json: unknown;
  for (const [field, value] of form.entries()) {
    if (typeof value === "string") {
      if (field === "payload_json") json = JSON.parse(value);
      continue;
    }
    files.push({
      field,
      filename: value.name,
      contentType: value.type || "application/octet-stream",
      bytes: Buffer.from(await value.arrayBuffer()),
    });
  }
  return { json, files, contentType };
}

export function queryRecord(query: URLSearchParams): Record<string, string> {
  return Object.fromEntries(query.entries());
}

export interface HandlerRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  json: unknown;
  files: RecordedFile[];
}

export interface Reply {
  status: number;
  body?: unknown;
}

/** `auth: false` for the routes discord.js calls without a token (interaction callbacks, webhooks). */
export interface Endpoint {
  auth: boolean;
  run: (req: HandlerRequest) => Reply | Promise<Reply>;
}

export function ok(body: unknown, status = 200): Reply {
  return { status, body };
}

export const noContent: Reply = { status: 204 };
