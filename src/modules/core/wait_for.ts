/**
 * `wait_for`: waits on the host for a TCP port to open or close, or a file to appear (optionally
 * with matching content) or go. The loop runs on the host as one small sh script bounded by
 * timeout(1); ports are checked with bash's /dev/tcp, or `nc -z` when bash is missing.
 */
import { quote } from "shell-quote";
import type { ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { lastProbeError, withLastError } from "../util/last-error.js";

export interface WaitForArgs {
  host?: string;
  port?: number;
  path?: string;
  state?: "started" | "stopped" | "present" | "absent";
  timeout?: number;
  delay?: number;
  sleep?: number;
  connect_timeout?: number;
  search_regex?: string;
  msg?: string;
}

/** What the loop waits for, with defaults filled in. */
export function waitSettings(args: WaitForArgs) {
  return {
    host: args.host ?? "127.0.0.1",
    state: args.state ?? "started",
    timeout: args.timeout ?? 300,
    delay: args.delay ?? 0,
    sleep: args.sleep ?? 1,
    connectTimeout: args.connect_timeout ?? 5,
  };
}

/**
 * The shell test for one attempt: succeeds when the port is open / the file is there. `loud`: the
 * test says why it fails on stderr (the probe run once more after a timeout, for the message).
 */
export function checkCommand(args: WaitForArgs, loud = false): string {
  const s = waitSettings(args);
  const quiet = loud ? "" : " >/dev/null 2>&1";
  if (args.port !== undefined) {
    const tcp = quote([`exec 3<>/dev/tcp/${s.host}/${args.port}`]);
    const ct = s.connectTimeout;
    return (
      `if command -v bash >/dev/null 2>&1; then timeout ${ct} bash -c ${tcp}${quiet}; ` +
      `else nc -z -w ${ct} ${quote([s.host, String(args.port)])}${quiet}; fi`
    );
  }
  const path = quote([args.path ?? ""]);
  if (args.search_regex === undefined) return loud ? `ls -d -- ${path} >/dev/null` : `test -e ${path}`;
  const grep = `grep -Eq -- ${quote([args.search_regex])} ${path}`;
  return loud
    ? `${grep} || { rc=$?; [ $rc = 1 ] && echo "no line matches" >&2; exit $rc; }`
    : `${grep} 2>/dev/null`;
}

/** The whole wait as one script: exits 0 when the condition holds, 124 (timeout) otherwise. */
export function waitScript(args: WaitForArgs): string {
  const s = waitSettings(args);
  const check = checkCommand(args);
  const wantsPresence = s.state === "started" || s.state === "present";
  if (args.port === undefined && args.path === undefined) return `sleep ${s.timeout}`;
  const loop = wantsPresence
    ? `until ${check}; do sleep ${s.sleep}; done`
    : `while ${check}; do sleep ${s.sleep}; done`;
  const delay = s.delay > 0 ? `sleep ${s.delay}; ` : "";
  return `${delay}timeout ${s.timeout} sh -c ${quote([loop])}`;
}

/** What the last probe of a wait for stopped/absent found. */
function stillThere(args: WaitForArgs): string {
  if (args.port !== undefined) return "the port still accepts connections";
  return args.search_regex === undefined ? "the path still exists" : "a line still matches";
}

/** "127.0.0.1:6390" or the path. */
function subject(args: WaitForArgs): string {
  if (args.port !== undefined) return `${waitSettings(args).host}:${args.port}`;
  return args.path ?? "";
}

export const waitForModule = defineModule<WaitForArgs>({
  name: "wait_for",
  kind: "action",
  description: "Wait on the host for a port or a file (or its content) to reach a state.",
  args: {
    type: "object",
    properties: {
      host: { type: "string", pattern: "^[A-Za-z0-9_.:-]+$" },
      port: { type: "integer", minimum: 1, maximum: 65535 },
      path: { type: "string", minLength: 1 },
      state: { enum: ["started", "stopped", "present", "absent"] },
      timeout: { type: "number", minimum: 0 },
      delay: { type: "number", minimum: 0 },
      sleep: { type: "number", exclusiveMinimum: 0 },
      connect_timeout: { type: "number", exclusiveMinimum: 0 },
      search_regex: { type: "string" },
      msg: { type: "string" },
    },
    not: { required: ["port", "path"] },
    dependencies: { search_regex: ["path"] },
    additionalProperties: false,
  },
  async run(args, _ctx, host): Promise<ModuleResult> {
    const s = waitSettings(args);
    const start = Date.now();
    const bound = (s.timeout + s.delay + s.connectTimeout + 10) * 1000;
    const res = await host.run(waitScript(args), { timeoutMs: bound });
    const elapsed = Math.round((Date.now() - start) / 100) / 10;
    const result: ModuleResult = { elapsed, state: s.state, port: args.port, path: args.path };
    if (res.rc === 0) return result;
    result.failed = true;
    const timedOut = `timed out waiting for ${subject(args)} to be ${s.state} after ${s.timeout} s`;
    if (res.rc === 124 && (s.state === "started" || s.state === "present")) {
      // the loop's probe is quiet: run it once more, loud, for why it still fails
      const last = await host.run(`sh -c ${quote([checkCommand(args, true)])}`, { timeoutMs: bound });
      result.last_error = lastProbeError(last);
      result.msg = args.msg ?? withLastError(timedOut, last);
      return result;
    }
    if (res.rc === 124) result.last_error = stillThere(args);
    result.msg =
      args.msg ??
      (res.rc === 124
        ? `${timedOut} (last answer: ${result.last_error})`
        : `waiting for ${subject(args)} failed on ${host.name}: ${lastProbeError(res)}`);
    return result;
  },
});
