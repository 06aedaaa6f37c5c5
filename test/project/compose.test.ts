import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { envSchema, parseConfig } from "../../src/config.js";

// No Docker engine runs here, so docker-compose.yml is checked as Compose reads it: parsed as
// YAML (merge keys resolved), its services, roles, health checks and environment compared with
// what the bot's config and Dockerfile really accept.
const root = new URL("../../", import.meta.url).pathname;
const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8"), { merge: true }) as Compose;
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");

interface Service {
  build?: string;
  image?: string;
  command?: string[];
  env_file?: string | string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[]; interval?: string; start_period?: string };
  ports?: string[];
  volumes?: string[];
  deploy?: { replicas?: number };
  stop_grace_period?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const service = (name: string): Service => {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
const bots = ["gateway", "worker"] as const;

/** Compose durations: "40s", "1m30s". */
function seconds(duration: string | undefined): number {
  const parts = [...(duration ?? "").matchAll(/(\d+)(h|m|s)/g)];
  expect(parts.length, `duration ${duration}`).toBeGreaterThan(0);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * { h: 3600, m: 60, s: 1 }[unit as "h"], 0);
}

/** What a container of `name` sees: a minimal .env (a Slack app, a key) under the service's environment. */
function containerEnv(name: string): Record<string, string> {
  return {
    SEEDREAM_API_KEY: "sk-from-dot-env",
    SLACK_BOT_TOKEN: "xoxb-from-dot-env",
    SLACK_SIGNING_SECRET: "signing-secret-from-dot-env",
    STORE_URL: "sqlite:///app/data/seedream-bot.sqlite",
    ...service(name).environment,
  };
}

describe("docker-compose.yml", () => {
  it("runs Redis, one gateway and two workers", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["gateway", "redis", "worker"]);
    expect(service("gateway").deploy?.replicas ?? 1).toBe(1);
    expect(service("worker").deploy?.replicas).toBe(2);
    expect(service("redis").volumes).toEqual(["redis-data:/data"]);
    expect(Object.keys(compose.volumes ?? {})).toContain("redis-data");
  });

  it("Redis is healthy when redis-cli ping answers, keeps its data and never evicts a queued run", () => {
    const redis = service("redis");
    expect(redis.healthcheck?.test).toEqual(["CMD", "redis-cli", "ping"]);
    expect(redis.command?.[0]).toBe("redis-server");
    expect(redis.command?.join(" ")).toContain("--appendonly yes");
    // BullMQ's requirement: an evicted job key is a lost run.
    expect(redis.command?.join(" ")).toContain("--maxmemory-policy noeviction");
  });

  it("each bot is built from the Dockerfile, reads .env and starts once Redis is healthy", () => {
    expect(existsSync(join(root, "Dockerfile"))).toBe(true);
    for (const name of bots) {
      const bot = service(name);
      expect(bot.build, name).toBe(".");
      expect([bot.env_file].flat(), name).toContain(".env");
      expect(bot.depends_on?.redis?.condition, name).toBe("service_healthy");
    }
  });

  it("the gateway and the workers get their role and the shared Redis, and the config accepts them", () => {
    const roles = { gateway: "gateway", worker: "worker" } as const;
    for (const name of bots) {
      const environment = service(name).environment ?? {};
      expect(environment.BOT_ROLE, name).toBe(roles[name]);
      // Names the bot really reads (a typo here would be silently ignored by the container).
      for (const variable of Object.keys(environment)) {
        expect(Object.keys(envSchema.shape), `${name}: ${variable}`).toContain(variable);
      }
      // The service's STORE_URL wins over .env's sqlite one (Compose: environment over env_file).
      const config = parseConfig(containerEnv(name));
      expect(config.store.url, name).toBe("redis://redis:6379");
      expect(config.role, name).toBe(roles[name]);
      expect(config.host, name).toBe("0.0.0.0");
    }
    expect(parseConfig(containerEnv("worker")).workerConcurrency).toBe(
      Number(service("worker").environment?.WORKER_CONCURRENCY),
    );
  });

  it("each bot is healthy when /readyz answers: the Dockerfile's HEALTHCHECK, on the port it listens on", () => {
    // The Dockerfile test runs that script against a real /readyz (503, then 200).
    const dockerfileScript = (
      JSON.parse(dockerfile.match(/^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$/m)?.[1] ?? "[]") as string[]
    )[2];
    expect(dockerfileScript).toContain("/readyz");
    for (const name of bots) {
      const check = service(name).healthcheck;
      expect(check?.test?.slice(0, 3), name).toEqual(["CMD", "node", "-e"]);
      expect(check?.test?.[3], name).toBe(dockerfileScript);
      expect(seconds(check?.start_period), name).toBeGreaterThanOrEqual(10);
    }
    const port = parseConfig(containerEnv("gateway")).port;
    // Slack's request URL: the gateway's /slack/events on the published port.
    expect(service("gateway").ports).toEqual([`${port}:${port}`]);
    expect(service("worker").ports).toBeUndefined();
  });

  it("gives a stopping bot its drain: SHUTDOWN_GRACE_MS plus the exit margin before Docker's SIGKILL", () => {
    for (const name of bots) {
      const { shutdownGraceMs } = parseConfig(containerEnv(name));
      // main.ts exits within the grace + 5 s.
      expect(seconds(service(name).stop_grace_period) * 1000, name).toBeGreaterThanOrEqual(
        shutdownGraceMs + 5000,
      );
    }
  });
});
