/**
 * The REST front door under `/api/v10`: bot-token auth, injected faults, body parsing, routing,
 * and a record of every call in order (with uploaded bytes) for tests to inspect.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  ApiError,
  type Endpoint,
  errors,
  matchRoute,
  type ParsedBody,
  parseBody,
  queryRecord,
  type RecordedRequest,
  type Route,
  readBody,
} from "./discord-http.js";
import { Recorder } from "./discord-recorder.js";

export const API_PREFIX = "/api/v10";

export interface InjectedFault {
  status: number;
  /** Discord's JSON error code (e.g. 50013); default 0. */
  code?: number;
  message?: string;
  /** For 429: seconds in `Retry-After` and `retry_after`. */
  retryAfter?: number;
}

export class RestApi {
  readonly requests = new Recorder<RecordedRequest>(
    "REST requests",
    (r) => `${r.status} ${r.method} ${r.path}`,
  );
  readonly #faults = new Map<string, { fault: InjectedFault; times: number }[]>();
  #seq = 0;

  constructor(
    private readonly routes: readonly Route<Endpoint>[],
    private readonly token: string,
  ) {}

  /** Route names a fault can target, e.g. `POST /channels/:channelId/messages`. */
  get routeNames(): string[] {
    return this.routes.map((r) => r.name);
  }

  /** The next `times` calls of that route fail with `fault` (after auth, before the handler). */
  failNext(routeName: string, fault: InjectedFault, times = 1): void {
    if (!Number.isInteger(times) || times < 1) throw new Error(`fake Discord: failNext times must be >= 1`);
    if (!this.routeNames.includes(routeName)) {
      throw new Error(`fake Discord: no route ${routeName}; known: ${this.routeNames.join(", ")}`);
    }
    const list = this.#faults.get(routeName) ?? [];
    list.push({ fault, times });
    this.#faults.set(routeName, list);
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? "GET";
    const path = url.pathname.slice(API_PREFIX.length) || "/";
    const record: RecordedRequest = {
      seq: ++this.#seq,
      method,
      path,
      route: "unknown",
      params: {},
      query: queryRecord(url.searchParams),
      authorized: req.headers.authorization === `Bot ${this.token}`,
      json: undefined,
      files: [],
      contentType: req.headers["content-type"] ?? "",
      status: 0,
      response: undefined,
    };
    let status: number;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      const parsed: ParsedBody = await parseBody(await readBody(req), record.contentType);
      record.json = parsed.json;
      record.files = parsed.files;
      const match = matchRoute(this.routes, method, path);
      if (!match) throw new ApiError(404, 0, "404: Not Found");
      record.route = match.route.name;
      record.params = match.params;
      if (match.route.handler.auth && !record.authorized) throw errors.unauthorized();
      this.#injected(match.route.name);
      const reply = await match.route.handler.run({
        params: match.params,
        query: url.searchParams,
        json: parsed.json,
        files: parsed.files,
      });
      status = reply.status;
      body = reply.body;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status = error.status;
      body = error.body();
      headers = error.headers;
    }
    record.status = status;
    record.response = body;
    // Recorded before the client sees the response, so code after `await` can inspect it.
    this.requests.push(record);
    res.writeHead(status, {
      ...headers,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  }

  #injected(routeName: string): void {
    const list = this.#faults.get(routeName);
    const next = list?.[0];
    if (!list || !next) return;
    next.times--;
    if (next.times <= 0) list.shift();
    const { fault } = next;
    const message =
      fault.message ?? (fault.status === 429 ? "You are being rate limited." : "Injected fault");
    if (fault.status !== 429) throw new ApiError(fault.status, fault.code ?? 0, message);
    const retryAfter = fault.retryAfter ?? 0.05;
    const error = new ApiError(429, fault.code ?? 0, message, undefined, {
      "retry-after": String(retryAfter),
      "x-ratelimit-scope": "user",
    });
    error.body = () => ({ message, retry_after: retryAfter, global: false });
    throw error;
  }
}
