/**
 * `command`: runs a program with its arguments, without a shell. It does not converge by itself:
 * `creates` / `removes` decide whether it runs (probe + plan), and apply reports rc and output.
 */
import { quote } from "shell-quote";
import { split } from "shlex";
import type { HostReader, HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleContext, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { runAsync } from "./async-run.js";

export interface CommandArgs {
  cmd?: string;
  argv?: string[];
  chdir?: string;
  /** A path; Ansible's `path` type takes any scalar as its text (`creates: yes` is "True"). */
  creates?: string;
  removes?: string;
  /** Shell's; on command Ansible warns that it is not used, and runs the command anyway. */
  executable?: string;
  stdin?: string;
  stdin_add_newline?: boolean;
  /** false keeps the trailing newlines of stdout and stderr. Default true. */
  strip_empty_ends?: boolean;
}

/** Whether the `creates` / `removes` paths exist (undefined when the arg is not given). */
export interface CommandState {
  createsExists?: boolean;
  removesExists?: boolean;
  /** Probed in check mode: a skip then says "Would not run", as Ansible. */
  check?: boolean;
}

/** The args both `command` and `shell` accept. */
export const COMMAND_ARG_PROPERTIES = {
  cmd: { type: "string" },
  chdir: { type: "string" },
  creates: { type: ["string", "boolean", "number"] },
  removes: { type: ["string", "boolean", "number"] },
  executable: { type: "string" },
  stdin: { type: "string" },
  stdin_add_newline: { type: "boolean" },
  strip_empty_ends: { type: "boolean" },
} as const;

/** A path as a shell word whose `*` and `?` still glob (Ansible globs `creates` / `removes`). */
export function globWord(path: string): string {
  return path
    .split(/([*?]+)/)
    .map((part, i) => (i % 2 === 1 ? part : part === "" ? "" : quote([part])))
    .join("");
}

/** A scalar as Python's str() words it: `True`, `False`, `3`. */
function pyStr(value: unknown): string {
  if (typeof value === "boolean") return value ? "True" : "False";
  return String(value);
}

/** `creates` / `removes` as the text Ansible's `path` type makes of them. */
export function normalizeGuards<A extends CommandArgs>(args: A): A {
  const out = { ...args };
  if (out.creates !== undefined) out.creates = pyStr(out.creates);
  if (out.removes !== undefined) out.removes = pyStr(out.removes);
  return out;
}

/**
 * What Ansible's command module fails before it looks at anything (rc 256): no command, or both a
 * command string and `argv`. Its result carries the fields the module always returns.
 */
export function refusal(args: CommandArgs, shell = false): ModuleResult | undefined {
  const noCmd = args.cmd === undefined || args.cmd.trim() === "";
  const noArgv = args.argv === undefined || args.argv.length === 0;
  let msg: string | undefined;
  if (noCmd && noArgv) msg = "no command given";
  else if (!noCmd && args.argv !== undefined && args.argv.length > 0) {
    msg = "only command or argv can be given, not both";
  }
  if (msg === undefined) return undefined;
  const always = { changed: false, stdout: "", stderr: "", rc: 256, cmd: null, start: null, end: null };
  return { ...always, delta: null, msg, failed: true, ...executableWarning(args, shell) };
}

/** Ansible's warning for `executable` on command (it runs the command without it). */
export function executableWarning(args: CommandArgs, shell = false): { warnings?: string[] } {
  if (shell || args.executable === undefined || args.executable === "") return {};
  const why =
    "As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module.";
  return { warnings: [`${why} Not using '${args.executable}'.`] };
}

const CHDIR_FAILED = "Unable to change directory before execution: ";
/** The exit code of a command line whose `cd` to `chdir` failed (its stderr then says why). */
const CHDIR_RC = 211;

/**
 * Prefixes a command line with a `cd` that fails as Python's os.chdir does in Ansible's words
 * ("Unable to change directory before execution: [Errno 2] No such file or directory: b'/x'").
 */
export function inDir(chdir: string | undefined, line: string): string {
  if (chdir === undefined) return line;
  const dir = quote([chdir]);
  const tail = quote([`: b'${chdir}'`]);
  const why = [
    `if [ ! -e ${dir} ]; then e='[Errno 2] No such file or directory'`,
    `elif [ ! -d ${dir} ]; then e='[Errno 20] Not a directory'`,
    "else e='[Errno 13] Permission denied'; fi",
  ].join("; ");
  const fail = `printf '%s%s%s\\n' ${quote([CHDIR_FAILED])} "$e" ${tail} >&2; exit ${CHDIR_RC}`;
  // -P: the directory's real path, as after Python's os.chdir (a link in chdir is resolved: $PWD says so)
  return `cd -P ${dir} 2>/dev/null || { ${why}; ${fail}; }\n${line}`;
}

/** Ansible's message when the `cd` of `inDir` failed, else undefined. */
function chdirFailure(rc: number, stderr: string): string | undefined {
  return rc === CHDIR_RC && stderr.startsWith(CHDIR_FAILED) ? stderr.trim() : undefined;
}

/** Checks which of `creates` / `removes` match a path, in one round trip (relative paths from `chdir`). */
export async function probeGuards(host: HostReader, args: CommandArgs, check = false): Promise<CommandState> {
  const paths = [args.creates, args.removes].filter((p): p is string => p !== undefined);
  // in check mode a missing chdir fails the task, as Ansible changes directory before anything
  if (paths.length === 0 && !(check && args.chdir !== undefined)) return { check };
  const script =
    paths
      .map((p) => `(for f in ${globWord(p)}; do test -e "$f" && exit 0; done; exit 1) && echo 1 || echo 0`)
      .join("\n") || "true";
  const res = await host.run(inDir(args.chdir, script));
  if (res.rc !== 0) {
    throw new TicklessError(
      "TASK",
      chdirFailure(res.rc, res.stderr) ??
        (res.stderr.trim() || `checking creates/removes failed (rc ${res.rc})`),
    );
  }
  const answers = res.stdout.trim().split("\n");
  const state: CommandState = { check };
  let i = 0;
  if (args.creates !== undefined) state.createsExists = answers[i++] === "1";
  if (args.removes !== undefined) state.removesExists = answers[i++] === "1";
  return state;
}

/** Why the command will not run ("since '/x' exists"), or undefined when it will. */
export function skipReason(args: CommandArgs, state: CommandState): string | undefined {
  if (args.creates !== undefined && state.createsExists) return `since '${args.creates}' exists`;
  if (args.removes !== undefined && state.removesExists === false) {
    return `since '${args.removes}' does not exist`;
  }
  return undefined;
}

/** The result of a command its `creates` / `removes` keeps from running, in Ansible's words. */
export function skippedReport(args: CommandArgs, state: CommandState, cmd: string | string[]): ModuleResult {
  const reason = skipReason(args, state);
  if (reason === undefined) return { cmd };
  const stdout = `skipped, ${reason.replace(/'/g, "")}`;
  return {
    cmd,
    msg: `${state.check ? "Would" : "Did"} not run command ${reason}`,
    rc: 0,
    stdout,
    stderr: "",
    stdout_lines: [stdout],
    stderr_lines: [],
    start: null,
    end: null,
    delta: null,
  };
}

/** A time as Python's str(datetime): `2024-05-01 09:30:00.123456` (local time, microseconds). */
export function pyDateTime(ms: number, micro = 0): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const date = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  return `${date} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000 + micro, 6)}`;
}

/** A duration as Python's str(timedelta) under a day: `0:00:01.250000`. */
export function pyDelta(micros: number): string {
  const s = Math.floor(micros / 1e6);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${Math.floor(s / 3600)}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}.${p(micros % 1e6, 6)}`;
}

/** Pure: one "run" change unless a guard says the command has nothing to do. */
export function planRun(display: string, args: CommandArgs, state: CommandState): Change[] {
  if (skipReason(args, state) !== undefined) return [];
  return [{ target: display, summary: `run: ${display}` }];
}

/** Splits a command line into words exactly as Ansible does (Python's `shlex.split`). */
export function splitCommand(cmd: string): string[] {
  return split(cmd);
}

const VAR_REF = /\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})/g;

function literal(text: string): string {
  return text === "" ? "" : quote([text]);
}

/**
 * One argument as a shell word that expands the way Ansible's command module does
 * (`expanduser(expandvars(arg))`): `$VAR` / `${VAR}` from the host's environment, kept literal when
 * unset, and a leading `~` or `~user`. Nothing else is interpreted.
 */
export function hostWord(word: string): string {
  const tilde = /^~[A-Za-z0-9._-]*(\/|$)/.exec(word)?.[0] ?? "";
  const rest = word.slice(tilde.length);
  let out = tilde;
  let last = 0;
  for (const m of rest.matchAll(VAR_REF)) {
    const name = m[1] ?? m[2];
    const unset = m[1] ? `\\$${name}` : `\\\${${name}\\}`;
    out += `${literal(rest.slice(last, m.index))}"\${${name}-${unset}}"`;
    last = m.index + m[0].length;
  }
  out += literal(rest.slice(last));
  return out === "" ? "''" : out;
}

/** The argv a `command` task runs. */
export function commandArgv(args: CommandArgs): string[] {
  return args.argv ?? splitCommand(args.cmd ?? "");
}

/** Strips trailing newlines as Ansible does (unless `strip` is false), and splits into lines. */
export function outputFields(stdout: string, stderr: string, strip = true) {
  const out = strip ? stdout.replace(/[\r\n]+$/, "") : stdout;
  const err = strip ? stderr.replace(/[\r\n]+$/, "") : stderr;
  return {
    stdout: out,
    stderr: err,
    stdout_lines: out === "" ? [] : out.split(/\r?\n/),
    stderr_lines: err === "" ? [] : err.split(/\r?\n/),
  };
}

/** Runs a prepared command line on the host (in the background under `async:`) and builds the Ansible-shaped result. */
export async function runAndReport(
  host: HostWriter,
  line: string,
  args: CommandArgs,
  cmd: string | string[],
  ctx?: ModuleContext,
): Promise<ModuleResult> {
  const stdin =
    args.stdin === undefined ? undefined : args.stdin + (args.stdin_add_newline === false ? "" : "\n");
  if (ctx?.async) return runAsync(host, inDir(args.chdir, line), args, cmd, ctx, stdin);
  const startMs = Date.now();
  const t0 = process.hrtime.bigint();
  const res = await host.run(inDir(args.chdir, line), { stdin });
  const micros = Number((process.hrtime.bigint() - t0) / 1000n);
  return commandResult(res, args.strip_empty_ends !== false, cmd, startMs, micros);
}

/** A command's result from its exit code and output, and when it started and how long it ran. */
export function commandResult(
  res: { rc: number; stdout: string; stderr: string },
  strip: boolean,
  cmd: string | string[],
  startMs: number,
  micros: number,
): ModuleResult {
  const chdirFailed = chdirFailure(res.rc, res.stderr);
  if (chdirFailed !== undefined) return { cmd, failed: true, msg: chdirFailed, stdout: "", stderr: "" };
  // start, end and delta as Ansible's command module words them
  const result: ModuleResult = {
    cmd,
    rc: res.rc,
    ...outputFields(res.stdout, res.stderr, strip),
    start: pyDateTime(startMs),
    end: pyDateTime(startMs + Math.floor(micros / 1000), micros % 1000),
    delta: pyDelta(micros),
    msg: "",
  };
  if (res.rc !== 0) {
    result.failed = true;
    result.msg = "non-zero return code";
  }
  return result;
}

export const commandModule = defineModule<CommandArgs, CommandState>({
  name: "command",
  kind: "command",
  description: "Run a program with arguments, without a shell.",
  freeForm: "cmd",
  args: {
    type: "object",
    properties: {
      ...COMMAND_ARG_PROPERTIES,
      argv: { type: "array", items: { type: "string" } },
    },
    additionalProperties: false,
  },
  normalize: normalizeGuards,
  refuse: (args) => refusal(args),
  // Ansible words a skip in check mode "Would not run"
  probe: (host, args, _ctx, check) => probeGuards(host, args, check),
  plan: (args, state) => planRun(args.argv ? quote(args.argv) : (args.cmd ?? ""), args, state),
  apply: async (host, args, ctx) => {
    const argv = commandArgv(args);
    const result = await runAndReport(host, argv.map(hostWord).join(" "), args, argv, ctx);
    return { ...result, ...executableWarning(args) };
  },
  report: (args, state) => ({ ...skippedReport(args, state, commandArgv(args)), ...executableWarning(args) }),
});
