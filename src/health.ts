import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** What `GET /healthz` reports: 200 while every enabled platform is connected, 503 otherwise. */
export type HealthCheck = () => { ok: boolean; platforms: Record<string, boolean> };

export function handleHealth(check: HealthCheck, response: ServerResponse): void {
  const health = check();
  response.writeHead(health.ok ? 200 : 503, { "content-type": "application/json" });
  response.end(JSON.stringify(health));
}

/** A bare health server, for deployments where no Slack HTTP receiver owns the port. */
export async function startHealthServer(port: number, check: HealthCheck, host = "0.0.0.0"): Promise<Server> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.method === "GET" && request.url?.split("?")[0] === "/healthz")
      return handleHealth(check, response);
    response.writeHead(404, { "content-type": "text/plain" });
    response.end("not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
