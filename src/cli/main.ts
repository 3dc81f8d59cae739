#!/usr/bin/env node
/** The `tickless` bin: runCli over the process streams; SIGINT aborts the run (exit 99), a second one exits at once. */
import { limitHeapGrowth } from "../engine/heap-growth.js";
import { EXIT } from "../errors.js";
import { runCli } from "./program.js";

// Before the run allocates: the heap grows 1.5x its live size between collections, not up to 4x.
const heap = limitHeapGrowth();
if (heap.set === false && heap.reason === "bad value") {
  process.stderr.write(`tickless: ${heap.message}\n`);
  process.exit(EXIT.BAD_OPTIONS);
}

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
