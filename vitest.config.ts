import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: keep workers to what the machine has so timing-sensitive streams stay honest.
    maxWorkers: 2,
  },
});
