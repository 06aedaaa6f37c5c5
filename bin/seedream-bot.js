#!/usr/bin/env node
// The published entry point: runs the compiled CLI (`npm run build` writes dist/).
import { runCli } from "../dist/src/cli/index.js";

runCli(process.argv.slice(2)).then(
  (code) => {
    if (process.argv.length > 2) process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
