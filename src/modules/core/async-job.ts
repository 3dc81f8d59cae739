/**
 * Background jobs of `async:` command and shell tasks, kept on the host as Ansible keeps them:
 * `<async_dir>/<jid>` says the job started, `<jid>.d/` holds its output, exit code and times (or
 * the pid a timeout killed). The job outlives the connection (its own session, no stdin); past its
 * `async` seconds its whole process group is killed, when Ansible's async_wrapper kills it (killAfter). `async_status` and the engine's polling read
 * a job back into the command's result (async_status.ts, command.ts).
 */
import { randomInt } from "node:crypto";
import { quote } from "shell-quote";
import type { HostReader, HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { ModuleResult } from "../types.js";

/** Ansible's default `async_dir` (its `ansible_async_dir` variable overrides it). */
export const DEFAULT_ASYNC_DIR = "~/.ansible_async";

/** What the command's result needs beyond the job's output (stored with the job). */
export interface JobMeta {
  cmd: string | string[];
  strip: boolean;
}

/** A job read back: still running, finished (rc, output, times in ns), killed by its timeout, or unknown. */
export type JobState =
  | { state: "missing"; path: string }
  | { state: "running"; path: string }
  | { state: "timeout"; path: string; childPid: number }
  | {
      state: "done";
      path: string;
      rc: number;
      startNs: bigint;
      endNs: bigint;
      stdout: string;
      stderr: string;
      meta: JobMeta;
    };

/** A directory as a shell word: a leading `~/` is the user's home. */
function dirWord(dir: string): string {
  if (dir === "~") return '"$HOME"';
  return dir.startsWith("~/") ? `"$HOME"/${quote([dir.slice(2)])}` : quote([dir]);
}

/** A job id as Ansible's (`j<digits>.<pid>`), unique enough for one host's async_dir. */
export function newJobId(): string {
  return `j${randomInt(1e11, 1e12)}.${process.pid}`;
}

/**
 * When a job past its limit is killed, in seconds from its start: Ansible's async_wrapper looks
 * first after 5 seconds, then every 5, counting 5 off the limit at each look after the first.
 */
export function killAfter(seconds: number): number {
  return 5 + 5 * Math.ceil(seconds / 5);
}

/** Runs in the job's own session: $1 the job's path, $2 when to kill it (seconds), $3 the command line. */
const RUNNER = [
  'j=$1; d=$1.d; in=/dev/null; [ -e "$d/in" ] && in=$d/in',
  "s=$(date +%s%N)",
  'sh -c "$3" <"$in" >"$d/out" 2>"$d/err" & c=$!',
  // the watcher: after the limit, note the pid and kill the whole group (the job and its children)
  `( trap 'kill $p 2>/dev/null; exit 0' TERM; sleep "$2" & p=$!; wait $p; echo $c >"$d/timeout"; kill -KILL 0 ) & w=$!`,
  "wait $c; rc=$?; e=$(date +%s%N); kill $w 2>/dev/null",
  'echo "$rc $s $e" >"$d/rc.tmp" && mv "$d/rc.tmp" "$d/rc"',
].join("\n");

/** Starts `line` as a job on the host; returns its results file (the async_dir expanded). */
export async function launchJob(
  host: HostWriter,
  dir: string,
  jid: string,
  seconds: number,
  line: string,
  meta: JobMeta,
  stdin?: string,
): Promise<string> {
  const started = JSON.stringify({ started: 1, finished: 0, ansible_job_id: jid });
  const script = [
    `j=${dirWord(dir)}/${quote([jid])}`,
    'mkdir -p "$j.d" || exit 1',
    `printf '%s\\n' ${quote([JSON.stringify(meta)])} >"$j.d/meta"`,
    ...(stdin === undefined ? [] : [`printf '%s' ${quote([stdin])} >"$j.d/in"`]),
    `printf '%s' ${quote([started])} >"$j"`,
    `setsid sh -c ${quote([RUNNER])} sh "$j" ${killAfter(seconds)} ${quote([line])} </dev/null >/dev/null 2>&1 &`,
    'printf "%s\\n" "$j"',
  ].join("\n");
  const res = await host.run(script);
  if (res.rc !== 0) {
    throw new TicklessError("TASK", `could not start the async job: ${res.stderr.trim() || `rc ${res.rc}`}`);
  }
  return res.stdout.trim();
}

/** Reads a job in one round trip (its output base64-encoded, one field a line). */
export async function readJob(host: HostReader, dir: string, jid: string): Promise<JobState> {
  const script = [
    `j=${dirWord(dir)}/${quote([jid])}; d=$j.d; printf '%s\\n' "$j"`,
    '[ -e "$j" ] || { echo missing; exit 0; }',
    '[ -e "$d/timeout" ] && { echo timeout; cat "$d/timeout"; exit 0; }',
    '[ -e "$d/rc" ] || { echo running; exit 0; }',
    'echo done; cat "$d/rc"; head -n 1 "$d/meta"',
    'base64 -w0 "$d/out"; echo; base64 -w0 "$d/err"; echo',
  ].join("\n");
  const res = await host.run(script);
  if (res.rc !== 0) throw new TicklessError("TASK", `could not read the async job: ${res.stderr.trim()}`);
  const [path = "", state, ...rest] = res.stdout.split("\n");
  if (state === "missing" || state === "running") return { state, path };
  if (state === "timeout") return { state, path, childPid: Number(rest[0]) };
  const [rc = "0", start = "0", end = "0"] = (rest[0] ?? "").split(" ");
  const b64 = (s: string | undefined) => Buffer.from(s ?? "", "base64").toString("utf8");
  return {
    state: "done",
    path,
    rc: Number(rc),
    startNs: BigInt(start),
    endNs: BigInt(end),
    meta: JSON.parse(rest[1] ?? "{}") as JobMeta,
    stdout: b64(rest[2]),
    stderr: b64(rest[3]),
  };
}

/** Removes a job's files (Ansible's `async_status: mode=cleanup`). */
export async function removeJob(host: HostReader, path: string): Promise<void> {
  await host.run(`rm -rf ${quote([path])} ${quote([`${path}.d`])}`);
}

/** The fields Ansible's async_status gives a job that has not finished. */
export function unfinished(jid: string, path: string, finished = 0): ModuleResult {
  return {
    ansible_job_id: jid,
    started: 1,
    finished,
    results_file: path,
    stdout: "",
    stderr: "",
    stdout_lines: [],
    stderr_lines: [],
  };
}
