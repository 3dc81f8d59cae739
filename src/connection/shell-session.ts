import { randomBytes } from "node:crypto";
import type { EventEmitter } from "node:events";
import { quote } from "shell-quote";

/** The part of an ssh2 channel tickless uses (ssh2 ships no types; node-ssh types it as any). */
export interface ClientChannel extends EventEmitter {
  stderr: EventEmitter;
  write(data: string | Buffer): boolean;
  end(data?: string | Buffer): void;
  close(): void;
  signal(name: string): void;
}

/** A long-lived remote `sh` that runs commands one at a time, framed by per-command random tokens. */
export interface ShellSession {
  run(
    command: string,
    stdin?: Buffer,
    timeoutMs?: number,
    signal?: AbortSignal,
    /** `export K='v' …`: run by the session's own shell, so the values are in no process's argv. */
    exports?: string,
  ): Promise<{ rc: number; stdout: Buffer; stderr: Buffer }>;
  close(): void;
}

interface Pending {
  token: string;
  out: Buffer;
  err: Buffer;
  settle: (rc: number | undefined) => void;
}

/**
 * `r=<rc of sh -c CMD>`, with the command's stdout and stderr on pipes of its own that a `cat`
 * each copies to the session's (saved as fds 4 and 5): the rc arrives once both pipes are closed,
 * so a background process the command started writes into its own command's output (the command
 * ends when it does, as over an exec channel) and never after the frame, into the next command's.
 * The command itself holds no fd but 0, 1 and 2.
 */
function ownStreams(command: string, stdin: Buffer | undefined, exports: string | undefined): string {
  const input = stdin ? `printf %s ${stdin.toString("base64")} | base64 -d | ` : "";
  // the exports apply to the command alone (a PATH of its own must not hide cat from the session)
  const sh = exports ? `(${exports}; exec /bin/sh -c ${quote([command])})` : `sh -c ${quote([command])}`;
  const run = `${input}${sh}${stdin ? "" : " </dev/null"} 3>&- 4>&- 5>&- 6>&-`;
  return `r=$({ { { ${run}; echo $? >&3; } 2>&1 >&6 6>&- | cat >&5 6>&-; } 6>&1 | cat >&4; } 3>&1)`;
}

/**
 * Each command runs as `sh -c CMD` (so `exit`, `cd` and exports do not leak into the session),
 * then the session prints `\n<token> <rc>\n` on stdout and `\n<token>\n` on stderr. The token is
 * fresh random bytes per command, and the command's stdin is a pipe or /dev/null, never the
 * session's own input, so output cannot forge the frame; its output streams are its own (ownStreams).
 */
export function openShellSession(
  open: (command: string) => Promise<ClientChannel>,
  killGroup: (pid: number) => void,
): ShellSession {
  let channel: Promise<ClientChannel> | undefined;
  let pid: number | undefined;
  let head = "";
  let pending: Pending | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const attach = (ch: ClientChannel) => {
    pid = undefined;
    head = "";
    ch.on("data", (chunk: Buffer) => {
      if (pid === undefined) {
        head += chunk.toString("latin1");
        const nl = head.indexOf("\n");
        if (nl < 0) return;
        pid = Number(head.slice(0, nl));
        chunk = Buffer.from(head.slice(nl + 1), "latin1");
      }
      if (pending) pending.out = Buffer.concat([pending.out, chunk]);
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
  let current: ClientChannel | undefined;

  const check = () => {
    if (!pending) return;
    const outMatch = new RegExp(`\\n${pending.token} (\\d+)\\n$`).exec(
      pending.out.subarray(-80).toString("latin1"),
    );
    const errEnd = `\n${pending.token}\n`;
    if (!outMatch || !pending.err.subarray(-80).toString("latin1").endsWith(errEnd)) return;
    pending.settle(Number(outMatch[1]));
  };

  /** Drops the current shell: kills its process group, so the next command starts a fresh one. */
  const discard = () => {
    if (pid) killGroup(pid);
    current?.close();
    current = undefined;
    channel = undefined;
  };

  const runOne = async (
    command: string,
    stdin?: Buffer,
    timeoutMs?: number,
    signal?: AbortSignal,
    exports?: string,
  ) => {
    if (signal?.aborted) return { rc: 130, stdout: Buffer.alloc(0), stderr: Buffer.from("interrupted\n") };
    channel ??= open("echo $$; exec sh 4>&1 5>&2").then(attach);
    const ch = await channel;
    const token = randomBytes(16).toString("hex");
    const framed = `${ownStreams(command, stdin, exports)}; printf '\\n%s %s\\n' ${token} "\${r:-255}"; printf '\\n%s\\n' ${token} >&2\n`;
    return new Promise<{ rc: number; stdout: Buffer; stderr: Buffer }>((resolve, reject) => {
      /** A timeout (rc 124) or an abort (rc 130) drops the shell and its process group, as ^C would. */
      const stop = (rc: number, note: string) => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const out = pending?.out ?? Buffer.alloc(0);
        pending = undefined;
        discard();
        resolve({ rc, stdout: out, stderr: Buffer.from(note) });
      };
      const onAbort = () => stop(130, "interrupted\n");
      signal?.addEventListener("abort", onAbort, { once: true });
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => stop(124, `timed out after ${timeoutMs} ms\n`), timeoutMs);
      pending = {
        token,
        out: Buffer.alloc(0),
        err: Buffer.alloc(0),
        settle: (rc) => {
          const p = pending!;
          pending = undefined;
          if (timer) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          if (rc === undefined) {
            reject(new Error("the remote shell closed"));
            return;
          }
          const outEnd = Buffer.byteLength(`\n${token} ${rc}\n`);
          const errEnd = token.length + 2;
          resolve({
            rc,
            stdout: p.out.subarray(0, p.out.length - outEnd),
            stderr: p.err.subarray(0, p.err.length - errEnd),
          });
        },
      };
      ch.write(framed);
    });
  };

  return {
    run(command, stdin, timeoutMs, signal, exports) {
      const result = queue.then(() => runOne(command, stdin, timeoutMs, signal, exports));
      queue = result.catch(() => undefined);
      return result;
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
    async run(command, stdin, timeoutMs, signal, exports) {
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
        return await slot.session.run(command, stdin, timeoutMs, signal, exports);
      } finally {
        slot.busy--;
      }
    },
    close() {
      for (const s of sessions) s.session.close();
    },
  };
}
