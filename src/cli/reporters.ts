/** Picks the reporters a run writes to, from --reporter, --json, --junit and the terminal. */
import type { Writable } from "node:stream";
import { REPORTERS } from "../reporters/index.js";
import type { Reporter } from "../reporters/types.js";
import type { RunCommandOptions } from "./run-options.js";

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  isTTY?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Aborts the run (SIGINT in main.ts): the run then exits 99. */
  signal?: AbortSignal;
}

export function chooseReporters(options: RunCommandOptions, io: CliIo): Reporter[] {
  const name = options.json ? "json" : (options.reporter ?? (io.isTTY ? "listr" : "plain"));
  const common = {
    stdout: io.stdout,
    stderr: io.stderr,
    verbosity: options.verbosity,
    isTTY: io.isTTY,
    compact: options.compact,
  };
  const reporters: Reporter[] = [REPORTERS[name](common)];
  if (options.junit) reporters.push(REPORTERS.junit({ ...common, file: options.junit }));
  return reporters;
}
