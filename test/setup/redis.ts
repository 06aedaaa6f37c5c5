import type { TestProject } from "vitest/node";
import { locateRedis, type RedisTarget, redisVerdict } from "../helpers/redis-locate.js";

declare module "vitest" {
  export interface ProvidedContext {
    redis: RedisTarget;
  }
}

/**
 * Finds Redis once for the whole run. Without one the Redis suites are skipped, said in one
 * loud line; under CI or REQUIRE_REDIS=1 a missing Redis fails the run instead.
 */
export default function setup(project: TestProject): void {
  const target = locateRedis(process.env);
  const verdict = redisVerdict(target, process.env);
  if (verdict.error !== undefined) throw new Error(verdict.error);
  if (verdict.line !== undefined) process.stderr.write(`\n${verdict.line}\n\n`);
  project.provide("redis", target);
}
