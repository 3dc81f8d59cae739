/**
 * The host lock: at most one run that may change a host at a time.
 *
 * The lock is flock(1) on a file of the host (default /var/lib/tickless/lock, directory created
 * 0700), held by a long-lived holder command whose stdin stays open (RunOptions.keepStdinOpen):
 * over ssh on its own exec channel, over local a child process. When tickless is killed or its
 * connection dies, sshd (or the kernel, for a child) closes that stdin, the holder exits and the
 * kernel drops the flock: a dead holder never needs a manual step. Beside the lock, `<lock>.json`
 * says who holds it; a clean release removes it, so finding it when the lock is free means its
 * run ended without releasing (killed, connection lost, host rebooted) and is reported as a
 * take-over.
 */
import { quote } from "shell-quote";
import type { HostReader, RunOptions } from "../connection/types.js";
import { ConnectionError, TicklessError } from "../errors.js";

export const DEFAULT_LOCK_FILE = "/var/lib/tickless/lock";
/** flock's exit code when the lock is held by another (`-E`). */
const BUSY_RC = 75;
/** Even without --wait-lock, a take waits this long: a check run's probe holds a shared lock for a moment. */
const GRACE_SECONDS = 1;

/** What `<lock>.json` holds. */
export interface LockInfo {
  run_id: string;
  /** Controller user and host name. */
  user: string;
  controller: string;
  playbook: string;
  /** ISO 8601, when the run started. */
  started: string;
}

export interface HolderOptions {
  lockFile: string;
  info: LockInfo;
  /** How long flock waits for the lock, in seconds. */
  waitSeconds: number;
  /** Privilege of the holder (the lock's directory usually needs root). */
  become?: boolean;
}

export type TakeResult =
  | { taken: true; held: HeldLock; previous?: LockInfo }
  | { taken: false; holder?: LockInfo };

/** A taken lock: alive until released or until its holder dies (connection lost, host rebooted). */
export interface HeldLock {
  readonly alive: boolean;
  /** Removes `<lock>.json`, then ends the holder (the kernel drops the flock). */
  release(host: HostReader): Promise<void>;
}

/** Starts a holder on the host; resolves once it holds the lock, or when flock refused it. */
export async function takeLock(host: HostReader, o: HolderOptions): Promise<TakeResult> {
  const stop = new AbortController();
  let out = "";
  let onReady: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const onStdout = (chunk: Buffer) => {
    out += chunk.toString();
    if (/^HELD$/m.test(out)) onReady?.();
  };
  const options: RunOptions = { keepStdinOpen: true, onStdout, signal: stop.signal, become: o.become };
  let ended = false;
  const running = host.run(holderScript(o), options).finally(() => {
    ended = true;
  });
  const first = await Promise.race([ready.then(() => undefined), running]);
  if (first === undefined) {
    const previous = parseInfo(between(out, "LOCKED\n", "END\n"));
    running.catch(() => undefined);
    const held: HeldLock = {
      get alive() {
        return !ended;
      },
      release: async (h) => {
        if (!ended) await h.run(`rm -f -- ${quote([`${o.lockFile}.json`])}`, { become: o.become });
        stop.abort();
        await running.catch(() => undefined);
      },
    };
    return { taken: true, held, ...(previous ? { previous } : {}) };
  }
  if (first.rc === BUSY_RC) return { taken: false, holder: parseInfo(between(first.stdout, "BUSY\n")) };
  if (first.stdout.startsWith("NOFLOCK")) {
    throw new TicklessError("TASK", `cannot take the host lock on ${host.name}: flock is not installed`, {
      hint: "install util-linux (it provides flock); tickless does not change a host it cannot lock",
    });
  }
  const why = first.stderr.trim().split("\n").pop() || `exit code ${first.rc}`;
  throw new TicklessError("TASK", `cannot take the host lock ${o.lockFile} on ${host.name}: ${why}`, {
    hint: "the lock's directory must be writable by the login user or through become (tickless_become), or set tickless_lock_file",
  });
}

/**
 * Check mode: who holds the lock now, without taking it (a shared flock for an instant, and only
 * when `<lock>.json` exists). undefined when free, unreadable or flock is missing.
 */
export async function peekLock(
  host: HostReader,
  o: { lockFile: string; become?: boolean },
): Promise<LockInfo | undefined> {
  const f = quote([o.lockFile]);
  const script = [
    `f=${f}`,
    `[ -e "$f.json" ] || exit 0`,
    "command -v flock >/dev/null 2>&1 || exit 0",
    `flock -n -s -E ${BUSY_RC} "$f" true && exit 0`,
    `echo BUSY; cat -- "$f.json"`,
  ].join("\n");
  try {
    const r = await host.run(script, { become: o.become });
    return r.rc === 0 ? parseInfo(between(r.stdout, "BUSY\n")) : undefined;
  } catch (err) {
    if (err instanceof ConnectionError) throw err;
    return undefined;
  }
}

/** "run X of user@controller (playbook P) since T" */
export function describeHolder(info: LockInfo | undefined): string {
  if (!info) return "another run (it left no details)";
  return `run ${info.run_id} of ${info.user}@${info.controller} (${info.playbook}) since ${info.started}`;
}

/**
 * Prints LOCKED, the info left by the previous holder, END, writes ours, prints HELD, then holds
 * the flock while its stdin stays open. BUSY and the holder's info when flock gives up.
 */
function holderScript(o: HolderOptions): string {
  const inner = [
    "echo LOCKED",
    'cat -- "$1.json" 2>/dev/null',
    "echo; echo END",
    'printf "%s\\n" "$2" > "$1.json.tmp" && mv -f -- "$1.json.tmp" "$1.json" || exit 1',
    "echo HELD",
    "exec cat >/dev/null",
  ].join("\n");
  const wait = Math.max(GRACE_SECONDS, o.waitSeconds);
  return [
    `f=${quote([o.lockFile])}`,
    "command -v flock >/dev/null 2>&1 || { echo NOFLOCK; exit 127; }",
    'd=$(dirname -- "$f")',
    '[ -d "$d" ] || mkdir -p -m 0700 -- "$d" || exit 1',
    `flock -w ${wait} -E ${BUSY_RC} "$f" sh -c ${quote([inner])} sh "$f" ${quote([JSON.stringify(o.info)])}`,
    "rc=$?",
    `if [ $rc -eq ${BUSY_RC} ]; then echo BUSY; cat -- "$f.json" 2>/dev/null; fi`,
    "exit $rc",
  ].join("\n");
}

function between(text: string, start: string, end?: string): string {
  const from = text.indexOf(start);
  if (from < 0) return "";
  const rest = text.slice(from + start.length);
  const to = end === undefined ? -1 : rest.indexOf(end);
  return to < 0 ? rest : rest.slice(0, to);
}

function parseInfo(text: string): LockInfo | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  try {
    const v = JSON.parse(trimmed) as Partial<LockInfo>;
    if (typeof v !== "object" || v === null || typeof v.run_id !== "string") return undefined;
    return {
      run_id: v.run_id,
      user: String(v.user ?? "?"),
      controller: String(v.controller ?? "?"),
      playbook: String(v.playbook ?? "?"),
      started: String(v.started ?? "?"),
    };
  } catch {
    return undefined;
  }
}
