import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadDotEnv } from "../../src/env-file.js";

const dir = mkdtempSync(join(tmpdir(), "seedream-env-"));
const names = ["SEEDREAM_BOT_TEST_FROM_FILE", "SEEDREAM_BOT_TEST_SET"];

afterEach(() => {
  for (const name of names) delete process.env[name];
});

describe(".env loading", () => {
  it("fills in variables the environment lacks, and the real environment wins", () => {
    const path = join(dir, ".env");
    writeFileSync(path, "SEEDREAM_BOT_TEST_FROM_FILE=file\nSEEDREAM_BOT_TEST_SET=file\n");
    process.env.SEEDREAM_BOT_TEST_SET = "environment";
    expect(loadDotEnv(path)).toBe(true);
    expect(process.env.SEEDREAM_BOT_TEST_FROM_FILE).toBe("file");
    expect(process.env.SEEDREAM_BOT_TEST_SET).toBe("environment");
  });

  it("is fine without a .env file", () => {
    expect(loadDotEnv(join(dir, "missing.env"))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
