/**
 * Commands over SSH: each on an exec channel of its own, or framed over a few long-lived shells
 * (shell-session.ts); become through sudo (`-n`, or `-S` with the become password answered on
 * stdin before anything else); timeouts and aborts kill the remote process group.
 */
import { setTimeout as delay } from "node:timers/promises";
import { quote } from "shell-quote";
import { TicklessError } from "../errors.js";
import { exportLine } from "./command-env.js";
import {
  FrameHead,
  frameCommand,
  interrupted,
  newToken,
  pidFirst,
  shCommand,
  watchStop,
} from "./command-frame.js";
import type { ScriptResult } from "./file-scripts.js";
import { openShellPool, type ShellSession } from "./shell-session.js";
import type { SshLink } from "./ssh-connect.js";
import { becomeUserOf, type RunOptions } from "./types.js";

/** Below OpenSSH's default MaxSessions (10), so parallel commands queue instead of failing. */
const MAX_CHANNELS = 8;
/** Long-lived shells per connection in shell mode (each holds one channel; the rest stay for exec). */
const MAX_SHELLS = 4;
/** How long close() waits for pending kills of timed-out commands. */
const KILL_WAIT_MS = 3_000;

/** A counting semaphore: at most `limit` channels open at once on one connection. */
class ChannelSlots {
  private free: number;
  private waiting: (() => void)[] = [];
  constructor(limit: number) {
    this.free = limit;
  }
  async use<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

interface ExecRequest {
  /** Run as `sh -c SCRIPT`: the framed command, or sudo running it; no environment value in it. */
  script: string;
  /** The framed environment line (command-frame.ts), sent before `stdin`; empty without one. */
  preamble: Buffer;
  stdin?: Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** RunOptions.keepStdinOpen / onStdout: a long-lived holder on its own exec channel. */
  keepStdinOpen?: boolean;
  onStdout?: (chunk: Buffer) => void;
  /** sudo with a password: the prompt to answer and the line that says authentication is over. */
  sudo?: { prompt: string; marker: string; password: string };
}

/** sudo -S: a fresh prompt to answer with the password and marker to wait for; undefined: sudo -n. */
function sudoPassword(password: string | undefined): ExecRequest["sudo"] {
  if (!password) return undefined;
  const nonce = newToken();
  return { prompt: `[tickless-sudo-${nonce}]`, marker: `TICKLESS-BECOME-${nonce}`, password };
}

/** The command path of one SSH connection. */
export class SshExec {
  private readonly slots = new ChannelSlots(MAX_CHANNELS);
  /** Kills of timed-out or interrupted commands not yet done: close() waits for them. */
  private readonly kills = new Set<Promise<unknown>>();
  private shell?: ShellSession;

  constructor(private readonly link: SshLink) {}

  /** Switches `run` to long-lived shells (up to MAX_SHELLS, each running one command at a time). */
  useShells(): void {
    this.shell = openShellPool(
      (command) => this.link.exec(command),
      (pid) => this.killGroup(pid),
      MAX_SHELLS,
    );
  }

  /** Opens the first shell ahead of the first command (shell mode). */
  prepare(): void {
    this.shell?.prepare();
  }

  /** Frames the command (environment on stdin, cwd, become) and runs it. */
  async run(command: string, options: RunOptions): Promise<ScriptResult> {
    this.link.assertUp();
    const stdin = options.stdin === undefined ? undefined : Buffer.from(options.stdin);
    // A holder (keepStdinOpen) lives as long as the run: the command timeout is not for it.
    const timeoutMs =
      options.timeoutMs ?? (options.keepStdinOpen ? undefined : this.link.settings.commandTimeoutMs);
    const { signal, keepStdinOpen, onStdout } = options;
    const stream = { stdin, timeoutMs, signal, keepStdinOpen, onStdout };
    const becomeUser = becomeUserOf(options, this.link.settings);
    const sudoUser = becomeUser === this.link.target.user ? undefined : becomeUser;
    const sudo = sudoUser === undefined ? undefined : sudoPassword(this.link.settings.becomePassword);
    // sudo resets the environment: the exports are read inside its shell, from stdin, like its input.
    const { script, preamble } = frameCommand(command, {
      exports: exportLine(options.env),
      cwd: options.cwd,
      marker: sudo?.marker,
    });
    if (sudoUser === undefined) return this.execute({ script, preamble, ...stream });
    const how = sudo ? `-S -p ${quote([sudo.prompt])}` : "-n";
    const line = `sudo -H -u ${quote([sudoUser])} ${how} -- ${shCommand(script)}`;
    return this.execute({ script: line, preamble, ...stream, sudo });
  }

  /** Waits (a little) for kills still on their way: they would be lost with the connection. */
  async settle(): Promise<void> {
    if (this.kills.size > 0)
      await Promise.race([Promise.all(this.kills), delay(KILL_WAIT_MS, undefined, { ref: false })]);
  }

  close(): void {
    this.shell?.close();
  }

  private async execute(request: ExecRequest): Promise<ScriptResult> {
    if (this.shell && !request.sudo && !request.keepStdinOpen) {
      const shell = this.shell;
      const { script, preamble, stdin, timeoutMs, signal } = request;
      return this.guardLost(() => shell.run({ script, preamble, stdin, timeoutMs, signal }));
    }
    return this.slots.use(() => this.exec(request));
  }

  /** Shell-mode failures: a dropped connection becomes a ConnectionError (its close event may lag a little). */
  private async guardLost<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (!this.link.up) throw this.link.lostError("while running a command", err);
      throw new TicklessError("TASK", `the remote shell on ${this.link.name} ended while running a command`, {
        cause: err,
      });
    }
  }

  /** Kills a remote process group (a timed-out command), on its own channel, ignoring failures. */
  private killGroup(pid: number): void {
    if (!this.link.up) return;
    const kill = this.exec({ script: `kill -KILL -${pid} 2>/dev/null`, preamble: Buffer.alloc(0) }).catch(
      () => undefined,
    );
    this.kills.add(kill);
    void kill.finally(() => this.kills.delete(kill));
  }

  /**
   * One exec channel: stdin in, stdout/stderr apart, exit code. The remote shell first prints its
   * PID (command-frame.ts), so a timeout can kill the whole group: rc 124.
   */
  private async exec(request: ExecRequest): Promise<ScriptResult> {
    if (request.signal?.aborted) return interrupted();
    const channel = await this.link.exec(pidFirst(shCommand(request.script)));
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const sudo = request.sudo;
      let settled = false;
      let promptsAnswered = 0;
      const input = Buffer.concat([request.preamble, request.stdin ?? Buffer.alloc(0)]);
      const sendStdin = () => (request.keepStdinOpen ? channel.write(input) : channel.end(input));
      const output = (chunk: Buffer) => {
        out.push(chunk);
        if (chunk.length > 0) request.onStdout?.(chunk);
      };
      // With a sudo password, the input waits for the line that says sudo let the command in.
      const head = new FrameHead(sudo?.marker, sendStdin);
      const finish = (result: ScriptResult | Error) => {
        if (settled) return;
        settled = true;
        cancel();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      /** A timeout (rc 124) or an abort (rc 130) kills the remote process group and closes the channel. */
      const cancel = watchStop(request.timeoutMs, request.signal, (rc, note) => {
        if (head.pid) this.killGroup(head.pid);
        channel.close();
        finish({ rc, stdout: Buffer.concat(out), stderr: Buffer.concat([...err, Buffer.from(note)]) });
      });
      channel.on("data", (chunk: Buffer) => output(head.read(chunk)));
      channel.stderr.on("data", (chunk: Buffer) => {
        if (!sudo || head.done) {
          err.push(chunk);
          return;
        }
        const text = chunk.toString();
        if (text.includes(sudo.prompt)) {
          promptsAnswered++;
          if (promptsAnswered === 1) channel.write(`${sudo.password}\n`);
          else channel.end();
        }
        const rest = text.split(sudo.prompt).join("");
        if (rest) err.push(Buffer.from(rest));
      });
      // The exit status comes from 'close', not 'exit': ssh2 passes it to both, but 'exit' may fire
      // before these listeners exist (when the status arrives with the exec reply); 'close' cannot.
      // undefined: no status at all; null: killed by a signal.
      channel.on("close", (code: number | null | undefined) => {
        out.push(head.rest());
        if (code === undefined && !this.link.up) finish(this.link.lostError("while running a command"));
        else finish({ rc: code ?? 255, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
      });
      if (!sudo) sendStdin();
    });
  }
}
