import { existsSync } from "node:fs";
import { resolve } from "node:path";

/**
 * Loads `./.env` into `process.env` when it exists, so `npm start` and `npx seedream-bot …`
 * pick up the file the README tells people to write. Variables already set in the real
 * environment win (a deployment's settings beat a stray local file).
 */
export function loadDotEnv(path = resolve(".env")): boolean {
  if (!existsSync(path)) return false;
  process.loadEnvFile(path);
  return true;
}
