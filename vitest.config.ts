import { configDefaults, defineConfig } from "vitest/config";

/**
 * Test files that prove something about a fresh process's module state (which undici loads
 * first and so owns the global dispatcher) get a module registry of their own. Every other file
 * shares one per worker: importing Bolt, discord.js and sharp once per worker instead of once per
 * file roughly halves the suite's CPU time. Files still run one at a time per worker.
 */
const FRESH_MODULES = ["test/e2e/both-platforms.test.ts", "test/fakes-smoke/discord.test.ts"];

export default defineConfig({
  test: {
    // Finds Redis once per project (a redis-server binary or REDIS_URL) and says loudly when it is missing.
    globalSetup: ["test/setup/redis.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: keep workers to what the machine has so timing-sensitive streams stay honest.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: "shared-modules",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...FRESH_MODULES],
          isolate: false,
        },
      },
      { extends: true, test: { name: "fresh-modules", include: FRESH_MODULES, isolate: true } },
    ],
  },
});
