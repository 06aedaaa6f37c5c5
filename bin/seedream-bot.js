#!/usr/bin/env node
// The published entry point: runs the compiled CLI (`npm run build` writes dist/).
import { runCli } from "../dist/src/cli/index.js";
import { loadDotEnv } from "../dist/src/env-file.js";

// ./.env fills in what the real environment does not set.
loadDotEnv();
runCli(process.argv.slice(2)).then(
  (code) => {
    if (process.argv.length > 2) process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
