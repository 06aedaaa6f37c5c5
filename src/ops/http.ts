import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { ReadinessReport } from "./readiness.js";

/**
 * The operator's endpoints, served on PORT: by Bolt's receiver when Slack runs in HTTP mode
 * (it owns the port), by `startOpsServer` otherwise.
 * - `GET /livez`: 200 while the process runs, no dependency checked.
 * - `GET /readyz` (and `/healthz`, its older name): 200 when ready, else 503 naming what is not.
 * - `GET /metrics`: Prometheus text.
 */

export interface HttpRoute {
  path: string;
  handle(request: IncomingMessage, response: ServerResponse): void;
}

export interface OpsEndpoints {
  readiness(): Promise<ReadinessReport>;
  /** Prometheus text and its content type; `/metrics` is 404 without it. */
  metrics?: { contentType: string; render(): Promise<string> };
}

export function opsRoutes(endpoints: OpsEndpoints): HttpRoute[] {
  const ready = answer(async (response) => {
    const report = await endpoints.readiness();
    send(response, report.ok ? 200 : 503, "application/json", JSON.stringify(report));
  });
  const routes: HttpRoute[] = [
    {
      path: "/livez",
      handle: answer(async (response) => send(response, 200, "application/json", '{"ok":true}')),
    },
    { path: "/readyz", handle: ready },
    { path: "/healthz", handle: ready },
  ];
  const metrics = endpoints.metrics;
  if (metrics) {
    routes.push({
      path: "/metrics",
      handle: answer(async (response) => send(response, 200, metrics.contentType, await metrics.render())),
    });
  }
  return routes;
}

/** A bare server for the routes, for deployments where no Slack HTTP receiver owns the port. */
export async function startOpsServer(
  port: number,
  routes: readonly HttpRoute[],
  host = "0.0.0.0",
): Promise<Server> {
  const byPath = new Map(routes.map((route) => [route.path, route]));
  const server = createServer((request, response) => {
    const route = request.method === "GET" ? byPath.get(request.url?.split("?")[0] ?? "") : undefined;
    if (route) return route.handle(request, response);
    send(response, 404, "text/plain", "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

/** Wraps an async handler so a failure becomes a 500, never an unhandled rejection. */
function answer(
  handler: (response: ServerResponse) => Promise<void>,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (_request, response) => {
    handler(response).catch(() => {
      if (!response.headersSent) send(response, 500, "text/plain", "internal error\n");
      else response.destroy();
    });
  };
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { "content-type": contentType });
  response.end(body);
}
