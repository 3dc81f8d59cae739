#!/usr/bin/env node
/** The `tickless` bin: runCli over the process streams; SIGINT aborts the run (exit 99), a second one exits at once. */
import { EXIT } from "../errors.js";
import { runCli } from "./program.js";

const controller = new AbortController();
process.once("SIGINT", () => {
  controller.abort();
  process.once("SIGINT", () => process.exit(EXIT.INTERRUPTED));
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: process.stdout.isTTY === true,
  env: process.env,
  signal: controller.signal,
});
