/**
 * How a command travels over SSH, the same for exec channels (ssh-exec.ts) and long-lived shells
 * (shell-session.ts):
 * - the remote shell that hosts it first prints its PID (sshd makes it a process-group leader),
 *   so a timeout or an abort can kill the whole group: rc 124 or 130, as timeout(1) and ^C;
 * - the command runs as `sh -c SCRIPT`; a task's environment is not in SCRIPT but on the
 *   command's stdin, ended by a token line, which SCRIPT's first lines read and export before
 *   the command's own input, so no value is in any process's command line (ps,
 *   /proc/PID/cmdline), sudo's included;
 * - tokens are fresh random bytes per command, so neither output nor a value can forge a frame:
 *   the end of the environment, sudo's prompt and the line that says sudo let the command in, and
 *   a long-lived shell's end lines (the exit code on stdout, a last line on stderr). An exec channel
 *   ends with the channel, whose exit status SSH carries.
 */
import { randomBytes } from "node:crypto";
import { quote } from "shell-quote";
import type { ScriptResult } from "./file-scripts.js";

/** Fresh random hex for one command's frame. */
export function newToken(): string {
  return randomBytes(16).toString("hex");
}

/** `command` run by a shell that first prints its PID on stdout (read back by FrameHead). */
export function pidFirst(command: string): string {
  return `echo $$; exec ${command}`;
}

/**
 * The first lines of a script that takes its environment on stdin: the `export K='v' …` text,
 * line by line up to a line holding the command's token, read by the shell's own `read` (no
 * process) and then run; rc 125 (as env(1)) when stdin ends before the token.
 */
function readEnv(token: string): string {
  return [
    "tickless_env=",
    `while IFS= read -r tickless_line && [ "$tickless_line" != ${token} ]; do tickless_env="$tickless_env$tickless_line`,
    '"; done',
    `[ "$tickless_line" = ${token} ] || { echo "tickless: the environment did not arrive on stdin" >&2; exit 125; }`,
    'eval "unset tickless_env tickless_line; $tickless_env"',
  ].join("\n");
}

export interface FramedCommand {
  /** The script for `sh -c`: no environment value in it. */
  script: string;
  /** What the command's stdin carries before its own input: the environment and its token, when there is one. */
  preamble: Buffer;
}

/**
 * The script of one command: `echo <marker>` first when sudo must say it let the command in,
 * then the environment from stdin, then `cd` to the working directory.
 */
export function frameCommand(
  command: string,
  options: { exports?: string; cwd?: string; marker?: string },
): FramedCommand {
  const lines: string[] = [];
  if (options.marker) lines.push(`echo ${options.marker}`);
  let preamble = Buffer.alloc(0);
  if (options.exports) {
    const token = newToken();
    lines.push(readEnv(token));
    preamble = Buffer.from(`${options.exports}\n${token}\n`);
  }
  if (options.cwd) lines.push(`cd ${quote([options.cwd])} || exit 1`);
  lines.push(command);
  return { script: lines.join("\n"), preamble };
}

/** `sh -c SCRIPT` as one shell word list (the line a long-lived shell or sudo runs). */
export function shCommand(script: string): string {
  return `sh -c ${quote([script])}`;
}

/**
 * Reads what comes on stdout before the command's own output: the PID line, then (sudo with a
 * password) lines up to the marker; what stands before the marker is output.
 */
export class FrameHead {
  pid?: number;
  private held = Buffer.alloc(0);

  constructor(
    private marker?: string,
    private readonly onMarker?: () => void,
  ) {}

  get done(): boolean {
    return this.pid !== undefined && this.marker === undefined;
  }

  /** The command's output in `chunk` (empty while the head is not complete). */
  read(chunk: Buffer): Buffer {
    if (this.done) return chunk;
    this.held = Buffer.concat([this.held, chunk]);
    const output: Buffer[] = [];
    while (!this.done) {
      const nl = this.held.indexOf(10);
      if (nl < 0) return Buffer.concat(output);
      const line = this.held.subarray(0, nl).toString("latin1");
      if (this.pid === undefined) this.pid = Number(line) || 0;
      else if (line === this.marker) {
        this.marker = undefined;
        this.onMarker?.();
      } else output.push(this.held.subarray(0, nl + 1));
      this.held = this.held.subarray(nl + 1);
    }
    output.push(this.held);
    this.held = Buffer.alloc(0);
    return Buffer.concat(output);
  }

  /** What is held back at the end (an incomplete head line). */
  rest(): Buffer {
    const rest = this.held;
    this.held = Buffer.alloc(0);
    return rest;
  }
}

/** A long-lived shell's lines after a command whose exit code is in `$r`: `\n<token> <rc>\n` on stdout, `\n<token>\n` on stderr. */
export function endLines(token: string): string {
  return `printf '\\n%s %s\\n' ${token} "\${r:-255}"; printf '\\n%s\\n' ${token} >&2`;
}

/** The command's result once both end lines have arrived (cut off), else undefined. */
export function readEnd(token: string, out: Buffer, err: Buffer): ScriptResult | undefined {
  const outEnd = new RegExp(`\\n${token} (\\d+)\\n$`).exec(out.subarray(-80).toString("latin1"));
  const errEnd = `\n${token}\n`;
  if (!outEnd || !err.subarray(-80).toString("latin1").endsWith(errEnd)) return undefined;
  return {
    rc: Number(outEnd[1]),
    stdout: out.subarray(0, out.length - outEnd[0].length),
    stderr: err.subarray(0, err.length - errEnd.length),
  };
}

/** The result of a command whose abort signal fired before it started: it never ran. */
export function interrupted(): ScriptResult {
  return { rc: 130, stdout: Buffer.alloc(0), stderr: Buffer.from("interrupted\n") };
}

/**
 * Calls `stop(124, note)` after `timeoutMs`, or `stop(130, note)` when `signal` aborts (the note
 * is for stderr); returns what cancels both once the command ended on its own.
 */
export function watchStop(
  timeoutMs: number | undefined,
  signal: AbortSignal | undefined,
  stop: (rc: number, note: string) => void,
): () => void {
  const onAbort = () => stop(130, "interrupted\n");
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => stop(124, `timed out after ${timeoutMs} ms\n`), timeoutMs);
  return () => {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  };
}
