import type { EventEmitter } from "node:events";
import { quote } from "shell-quote";
import {
  endLines,
  FrameHead,
  interrupted,
  newToken,
  pidFirst,
  readEnd,
  shCommand,
  watchStop,
} from "./command-frame.js";
import type { ScriptResult } from "./file-scripts.js";

/** The part of an ssh2 channel tickless uses (ssh2 ships no types; node-ssh types it as any). */
export interface ClientChannel extends EventEmitter {
  stderr: EventEmitter;
  write(data: string | Buffer): boolean;
  end(data?: string | Buffer): void;
  close(): void;
  signal(name: string): void;
}

/** One command for a shell session. */
export interface SessionCommand {
  /** Run as `sh -c SCRIPT`: the framed command (command-frame.ts), or sudo running it. */
  script: string;
  /** The framed environment (command-frame.ts), first on its stdin; empty without one. */
  preamble: Buffer;
  /** Its own input, after the preamble; without preamble or input its stdin is /dev/null. */
  stdin?: Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A long-lived remote `sh` that runs commands one at a time, framed by per-command random tokens. */
export interface ShellSession {
  run(command: SessionCommand): Promise<ScriptResult>;
  /** Opens the shell now rather than with the first command (which then does not wait for it). */
  prepare(): void;
  close(): void;
}

interface Pending {
  token: string;
  out: Buffer;
  err: Buffer;
  settle: (result: ScriptResult | undefined) => void;
}

/**
 * `r=<rc of sh -c SCRIPT>`, with the command's stdout and stderr on pipes of its own that a `cat`
 * each copies to the session's (saved as fds 4 and 5): the rc arrives once both pipes are closed,
 * so a background process the command started writes into its own command's output (the command
 * ends when it does, as over an exec channel) and never after the frame, into the next command's.
 * The command itself holds no fd but 0, 1 and 2. Its stdin is written into the session's script
 * for a builtin printf (as base64 when it carries the command's own bytes), so it is in no
 * process's command line either.
 */
function ownStreams({ script, preamble, stdin }: SessionCommand): string {
  let feed = "";
  if (stdin) feed = `printf %s ${Buffer.concat([preamble, stdin]).toString("base64")} | base64 -d | `;
  else if (preamble.length > 0) feed = `printf %s ${quote([preamble.toString()])} | `;
  const run = `${feed}${shCommand(script)}${feed ? "" : " </dev/null"} 3>&- 4>&- 5>&- 6>&-`;
  return `r=$({ { { ${run}; echo $? >&3; } 2>&1 >&6 6>&- | cat >&5 6>&-; } 6>&1 | cat >&4; } 3>&1)`;
}

/**
 * Each command runs in a shell of its own (so `exit`, `cd` and exports do not leak into the
 * session), then the session prints its end lines (command-frame.ts). The command's stdin is a
 * pipe or /dev/null, never the session's own input, so output cannot forge the frame; its output
 * streams are its own (ownStreams).
 */
export function openShellSession(
  open: (command: string) => Promise<ClientChannel>,
  killGroup: (pid: number) => void,
): ShellSession {
  let channel: Promise<ClientChannel> | undefined;
  let current: ClientChannel | undefined;
  let head = new FrameHead();
  let pending: Pending | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const attach = (ch: ClientChannel) => {
    const ownHead = new FrameHead();
    head = ownHead;
    ch.on("data", (chunk: Buffer) => {
      const output = ownHead.read(chunk);
      if (pending) pending.out = Buffer.concat([pending.out, output]);
      check();
    });
    ch.stderr.on("data", (chunk: Buffer) => {
      if (pending) pending.err = Buffer.concat([pending.err, chunk]);
      check();
    });
    ch.on("close", () => {
      if (current !== ch) return;
      channel = undefined;
      pending?.settle(undefined);
    });
    current = ch;
    return ch;
  };

  const check = () => {
    if (!pending) return;
    const result = readEnd(pending.token, pending.out, pending.err);
    if (result) pending.settle(result);
  };

  /** Drops the current shell: kills its process group, so the next command starts a fresh one. */
  const discard = () => {
    if (head.pid) killGroup(head.pid);
    current?.close();
    current = undefined;
    channel = undefined;
  };

  /** The shell's channel, opened once; a failed open is forgotten, so the next command tries again. */
  const opened = (): Promise<ClientChannel> => {
    if (channel) return channel;
    const opening = open(pidFirst("sh 4>&1 5>&2")).then(attach);
    channel = opening;
    opening.catch(() => {
      if (channel === opening) channel = undefined;
    });
    return opening;
  };

  const runOne = async (command: SessionCommand): Promise<ScriptResult> => {
    const { timeoutMs, signal } = command;
    if (signal?.aborted) return interrupted();
    const ch = await opened();
    const token = newToken();
    return new Promise<ScriptResult>((resolve, reject) => {
      /** A timeout (rc 124) or an abort (rc 130) drops the shell and its process group, as ^C would. */
      const cancel = watchStop(timeoutMs, signal, (rc, note) => {
        cancel();
        const out = pending?.out ?? Buffer.alloc(0);
        pending = undefined;
        discard();
        resolve({ rc, stdout: out, stderr: Buffer.from(note) });
      });
      pending = {
        token,
        out: Buffer.alloc(0),
        err: Buffer.alloc(0),
        settle: (result) => {
          pending = undefined;
          cancel();
          if (result) resolve(result);
          else reject(new Error("the remote shell closed"));
        },
      };
      ch.write(`${ownStreams(command)}; ${endLines(token)}\n`);
    });
  };

  return {
    run(command) {
      const result = queue.then(() => runOne(command));
      queue = result.catch(() => undefined);
      return result;
    },
    prepare() {
      void opened().catch(() => undefined);
    },
    close() {
      discard();
    },
  };
}

/** Up to `size` shell sessions opened on demand; each command goes to the least busy one. */
export function openShellPool(
  open: (command: string) => Promise<ClientChannel>,
  killGroup: (pid: number) => void,
  size: number,
): ShellSession {
  const sessions: { session: ShellSession; busy: number }[] = [];
  return {
    async run(command) {
      let slot = sessions.reduce<(typeof sessions)[number] | undefined>(
        (best, s) => (best === undefined || s.busy < best.busy ? s : best),
        undefined,
      );
      if (!slot || (slot.busy > 0 && sessions.length < size)) {
        slot = { session: openShellSession(open, killGroup), busy: 0 };
        sessions.push(slot);
      }
      slot.busy++;
      try {
        return await slot.session.run(command);
      } finally {
        slot.busy--;
      }
    },
    prepare() {
      if (sessions.length === 0) sessions.push({ session: openShellSession(open, killGroup), busy: 0 });
      sessions[0].session.prepare();
    },
    close() {
      for (const s of sessions) s.session.close();
    },
  };
}
