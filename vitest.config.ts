import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Finds Redis once (a redis-server binary or REDIS_URL) and says loudly when it is missing.
    globalSetup: ["test/setup/redis.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: keep workers to what the machine has so timing-sensitive streams stay honest.
    maxWorkers: 2,
  },
});
