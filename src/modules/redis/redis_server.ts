/**
 * redis_server: makes the Redis on a port run the binary a path resolves to (e.g.
 * /opt/redis-hft/current/bin/redis-server). The probe compares the running process's
 * /proc/<pid>/exe with the path's real path. A restart of a Redis holding keys first waits for a
 * completed save of everything written (save-guard.ts: BGSAVE or a synced AOF) and refuses when
 * none can complete, unless `restart_without_save`; then it stops and starts (directly, or through
 * systemd), waits until Redis answers, and checks that DBSIZE and a sentinel key survived. It
 * reports the downtime: from the stop to the first PONG.
 * What only a start sets counts too: `malloc_opts` (jemalloc's options as the running server
 * reports them in MEMORY MALLOC-STATS: jemalloc reads its MALLOC_CONF once, at start, and Redis's
 * process title overwrites /proc/<pid>/environ) and `settings` (parameters Redis cannot change at
 * run time, such as enable-debug-command, read with CONFIG GET). A difference restarts Redis like a
 * new binary does, through the same save guard; a direct start sets `environment` for it.
 */
import { quote } from "shell-quote";
import { TicklessError } from "../../errors.js";
import { defineModule } from "../types.js";
import { lastProbeError } from "../util/last-error.js";
import {
  afterRestartScript,
  answersScript,
  dbsizeProblem,
  SAVE_REFUSED,
  saveGuardScript,
} from "./save-guard.js";

export interface RedisServerArgs {
  config: string;
  port?: number;
  /** What Redis is started as (through a `current` link, so systemd units never change). */
  binary?: string;
  /**
   * The release the binary should resolve to. Given, check mode plans the restart that a switch
   * of `current` earlier in the same run will cause; without it, `binary`'s real path counts.
   */
  release?: string;
  supervisor?: "direct" | "systemd";
  service?: string;
  cli?: string;
  max_downtime_ms?: number;
  start_timeout_s?: number;
  /** How long the save before a restart may take (default 60 s). */
  save_timeout_s?: number;
  /** Restart even when the data cannot be saved first (the reason is reported). Default false. */
  restart_without_save?: boolean;
  /**
   * Variables a direct start sets ("" = unset), e.g. JE_MALLOC_CONF. Under systemd the unit gives
   * the environment (a drop-in's Environment=); `malloc_opts` checks what it did.
   */
  environment?: Record<string, string>;
  /**
   * jemalloc options the running server must report (`opt.<name>` in MEMORY MALLOC-STATS, first
   * word: `prof: "true"`); one the allocator does not report (no profiler built in) reads as "false".
   */
  malloc_opts?: Record<string, string>;
  /** Parameters the running server must report (CONFIG GET); the config file sets them. */
  settings?: Record<string, string>;
}

export interface RedisServerState {
  /** Real path of `binary`; "" when it does not resolve. */
  desired: string;
  pid?: number;
  /** /proc/<pid>/exe of the running server ("… (deleted)" when its file was replaced). */
  exe?: string;
  /** The running server's value of each option in `malloc_opts` ("" when not reported). */
  malloc?: Record<string, string>;
  /** The running server's value of each parameter in `settings` (CONFIG GET). */
  settings?: Record<string, string>;
}

export const DEFAULT_BINARY = "/opt/redis-hft/current/bin/redis-server";
const SENTINEL = "tickless:restart-sentinel";

export function cliLine(args: { cli?: string; port?: number }): string {
  return `${quote([args.cli ?? "redis-cli"])} -h 127.0.0.1 -p ${args.port ?? 6379}`;
}

/** The path whose real path the running process must be. */
function wanted(args: RedisServerArgs): string {
  return args.release === undefined ? (args.binary ?? DEFAULT_BINARY) : `${args.release}/bin/redis-server`;
}

/** Exit code of the probe and restart scripts when the CLI is not on the host. */
export const NO_CLI = 14;

/** Fails with NO_CLI when redis-cli cannot run: a missing client must not look like a silent server. */
export function cliCheck(args: { cli?: string }): string {
  const cli = quote([args.cli ?? "redis-cli"]);
  const message = quote([`${args.cli ?? "redis-cli"} is not installed or not on the PATH`]);
  return `command -v ${cli} >/dev/null 2>&1 || { echo ${message} >&2; exit ${NO_CLI}; }`;
}

export function probeScript(args: RedisServerArgs): string {
  const opts = Object.keys(args.malloc_opts ?? {});
  const params = Object.keys(args.settings ?? {});
  const cli = cliLine(args);
  return [
    cliCheck(args),
    `want=$(readlink -f -- ${quote([wanted(args)])} 2>/dev/null || true)`,
    `pid=$(${cli} INFO server 2>/dev/null | sed -n 's/^process_id:\\([0-9]*\\).*/\\1/p')`,
    `exe=; if [ -n "$pid" ]; then exe=$(readlink /proc/$pid/exe 2>/dev/null || true); fi`,
    `printf '%s\\n%s\\n%s\\n' "$want" "$pid" "$exe"`,
    // one `opt<TAB>name<TAB>value` line per jemalloc option, one `set<TAB>name<TAB>value` per
    // parameter (the names are checked by the args' schema: letters, digits, _ and -)
    ...(opts.length > 0
      ? [
          `if [ -n "$pid" ]; then stats=$(${cli} MEMORY MALLOC-STATS | tr -d '\\r')`,
          ...opts.map(
            (o) =>
              `  printf 'opt\\t%s\\t%s\\n' ${quote([o])} "$(printf '%s\\n' "$stats" | sed -n 's/^ *opt\\.${o}: \\([^ ]*\\).*/\\1/p' | head -n 1)"`,
          ),
          "fi",
        ]
      : []),
    ...(params.length > 0
      ? [
          `if [ -n "$pid" ]; then`,
          ...params.map(
            (p) =>
              `  printf 'set\\t%s\\t%s\\n' ${quote([p])} "$(${cli} CONFIG GET ${quote([p])} | sed -n 2p)"`,
          ),
          "fi",
        ]
      : []),
  ].join("\n");
}

export function parseProbe(stdout: string): RedisServerState {
  const [desired = "", pid = "", exe = "", ...rest] = stdout.split("\n");
  const state: RedisServerState = { desired, pid: pid ? Number(pid) : undefined, exe: exe || undefined };
  for (const line of rest) {
    const [kind, name, value = ""] = line.split("\t");
    if (name === undefined || (kind !== "opt" && kind !== "set")) continue;
    const key = kind === "opt" ? "malloc" : "settings";
    state[key] = { ...state[key], [name]: value };
  }
  return state;
}

/** What differs in how the running server was started: `NAME: "before" → "after"` for each. */
export function startDifferences(args: RedisServerArgs, state: RedisServerState): string[] {
  const out: string[] = [];
  const show = (v: string) => (v === "" ? "(not set)" : JSON.stringify(v));
  for (const [name, wanted] of Object.entries(args.malloc_opts ?? {})) {
    const got = state.malloc?.[name] || "false";
    if (got !== wanted) out.push(`opt.${name}: ${show(got)} → ${show(wanted)}`);
  }
  for (const [name, wanted] of Object.entries(args.settings ?? {})) {
    const got = state.settings?.[name] ?? "";
    if (got !== wanted) out.push(`${name}: ${show(got)} → ${show(wanted)}`);
  }
  return out;
}

/** The lines a diff shows for the running server: its executable, then each managed option and parameter. */
function startLines(exe: string, malloc: Record<string, string>, settings: Record<string, string>): string {
  const pairs = [
    ...Object.entries(malloc).map(([k, v]) => `opt.${k}: ${v}\n`),
    ...Object.entries(settings).map(([k, v]) => `${k} ${v}\n`),
  ];
  return `${exe}\n${pairs.join("")}`;
}

/** The direct start: the binary on its config, with `environment` set ("" values unset). */
export function startCommand(args: RedisServerArgs): string {
  const env = Object.entries(args.environment ?? {});
  const words = [
    ...(env.length > 0 ? ["env"] : []),
    ...env.filter(([, v]) => v === "").flatMap(([k]) => ["-u", k]),
    ...env.filter(([, v]) => v !== "").map(([k, v]) => `${k}=${v}`),
    args.binary ?? DEFAULT_BINARY,
    args.config,
  ];
  return quote(words);
}

/** Seconds the sentinel key lives: the longest save and start, and a margin. */
export function sentinelTtl(args: RedisServerArgs): number {
  return (args.save_timeout_s ?? 60) + 2 * (args.start_timeout_s ?? 20) + 600;
}

/** Save (or refuse), stop, start, wait for PONG, check the data; prints key=value lines. */
export function restartScript(args: RedisServerArgs): string {
  const cli = cliLine(args);
  const ticks = (args.start_timeout_s ?? 20) * 100;
  const start =
    (args.supervisor ?? "direct") === "systemd"
      ? `systemctl restart ${quote([args.service ?? "redis-hft"])} || exit 11`
      : [
          // saved already (or allowed without a save): SHUTDOWN SAVE would fail where BGSAVE did
          `if [ -n "$pid" ]; then if [ "$saved" = skipped ]; then ${cli} SHUTDOWN NOSAVE >/dev/null 2>&1 || true; else ${cli} SHUTDOWN SAVE >/dev/null 2>&1 || true; fi`,
          `  i=0; while kill -0 "$pid" 2>/dev/null; do i=$((i+1)); [ $i -gt ${ticks} ] && { echo "old server $pid did not stop" >&2; exit 13; }; sleep 0.01; done`,
          "fi",
          `${startCommand(args)} || exit 11`,
        ].join("\n");
  return [
    "set -u",
    cliCheck(args),
    `token="$(date +%s%N)-$$"; sentinel=; pid=`,
    // a refused restart leaves no sentinel key in the data
    `on_exit() { if [ "$1" = ${SAVE_REFUSED} ] && [ -n "$sentinel" ]; then ${cli} DEL ${SENTINEL} >/dev/null 2>&1; fi; exit "$1"; }`,
    `trap 'on_exit $?' EXIT`,
    `if ${answersScript(cli)}; then`,
    // refused while a failed BGSAVE stops writes (MISCONF): then DBSIZE alone checks the data. It
    // expires: a refusal that cannot delete it (MISCONF again) does not leave it in the data for good
    `  if [ "$(${cli} DBSIZE)" -gt 0 ] && [ "$(${cli} SET ${SENTINEL} "$token" EX ${sentinelTtl(args)})" = OK ]; then sentinel=1; fi`,
    `  pid=$(${cli} INFO server | sed -n 's/^process_id:\\([0-9]*\\).*/\\1/p')`,
    "fi",
    saveGuardScript({
      cli,
      timeoutS: args.save_timeout_s ?? 60,
      withoutSave: args.restart_without_save ?? false,
    }),
    "t0=$(date +%s%N)",
    start,
    afterRestartScript(cli, args.start_timeout_s ?? 20),
    "t1=$(date +%s%N)",
    `got=$(${cli} GET ${SENTINEL})`,
    // ours, whoever wrote it: also one an earlier refused restart could not delete (it expires anyway)
    `${cli} DEL ${SENTINEL} >/dev/null`,
    `echo "downtime_ms=$(( (t1 - t0) / 1000000 ))"`,
    `if [ -z "$sentinel" ]; then echo sentinel=none; elif [ "$got" = "$token" ]; then echo sentinel=ok; else echo sentinel=lost; fi`,
  ].join("\n");
}

/** key=value lines into an object. */
export function parseKeyValues(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  return out;
}

/** Problems with a restart's outcome (lost data, too long a downtime). */
export function restartProblems(kv: Record<string, string>, maxDowntimeMs: number | undefined): string[] {
  const problems: string[] = [];
  if (kv.sentinel === "lost") problems.push("the sentinel key written before the restart is gone");
  const dbsize = dbsizeProblem(kv.dbsize_before, kv.dbsize_after);
  if (dbsize) problems.push(dbsize);
  const downtime = Number(kv.downtime_ms);
  if (maxDowntimeMs !== undefined && downtime > maxDowntimeMs) {
    problems.push(`downtime ${downtime} ms is over ${maxDowntimeMs} ms`);
  }
  return problems;
}

export const redisServerModule = defineModule<RedisServerArgs, RedisServerState>({
  name: "redis_server",
  kind: "state",
  description: "Run Redis from the binary a path resolves to; restart keeps the data and reports downtime.",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["config"],
    properties: {
      config: { type: "string", pattern: "^/" },
      port: { type: "integer", minimum: 1, maximum: 65535 },
      binary: { type: "string", pattern: "^/" },
      release: { type: "string", pattern: "^/" },
      supervisor: { enum: ["direct", "systemd"] },
      service: { type: "string", minLength: 1 },
      cli: { type: "string", minLength: 1 },
      max_downtime_ms: { type: "integer", minimum: 1 },
      start_timeout_s: { type: "integer", minimum: 1, maximum: 600 },
      save_timeout_s: { type: "integer", minimum: 1, maximum: 3600 },
      restart_without_save: { type: "boolean" },
      environment: {
        type: "object",
        additionalProperties: { type: "string" },
        propertyNames: { pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
      },
      malloc_opts: {
        type: "object",
        additionalProperties: { type: "string" },
        propertyNames: { pattern: "^[a-z][a-z0-9_]*$" },
      },
      settings: {
        type: "object",
        additionalProperties: { type: "string" },
        propertyNames: { pattern: "^[a-z][a-z0-9_-]*$" },
      },
    },
  },
  async probe(host, args) {
    const r = await host.run(probeScript(args));
    if (r.rc === NO_CLI) {
      throw new TicklessError("TASK", `cannot probe Redis on ${host.name}: ${r.stderr.trim()}`, {
        hint: "install redis-tools on the host, or name the client with `cli:`",
      });
    }
    return parseProbe(r.stdout);
  },
  plan(args, state) {
    const binary = args.binary ?? DEFAULT_BINARY;
    if (state.pid === undefined) {
      return [
        {
          target: `redis:${args.port ?? 6379}`,
          summary: `start ${binary}`,
          before: "stopped\n",
          after: `${state.desired || binary}\n`,
        },
      ];
    }
    const sameBinary = state.desired !== "" && state.exe === state.desired;
    const differences = startDifferences(args, state);
    if (sameBinary && differences.length === 0) return [];
    const pick = (
      from: Record<string, string> | undefined,
      keys: Record<string, string> | undefined,
      none: string,
    ) => Object.fromEntries(Object.keys(keys ?? {}).map((k) => [k, from?.[k] || none]));
    return [
      {
        target: `redis:${args.port ?? 6379}`,
        summary: sameBinary
          ? `restart to apply ${differences.join(", ")}`
          : `restart: ${state.exe ?? "?"} → ${state.desired || binary}`,
        before: startLines(
          state.exe ?? "",
          pick(state.malloc, args.malloc_opts, "false"),
          pick(state.settings, args.settings, ""),
        ),
        after: startLines(state.desired || binary, args.malloc_opts ?? {}, args.settings ?? {}),
      },
    ];
  },
  async apply(host, args, _changes, state) {
    if (state.desired === "") {
      throw new TicklessError("TASK", `${args.binary ?? DEFAULT_BINARY} does not resolve to a file`, {
        hint: "install a release and switch `current` to it first",
      });
    }
    const r = await host.run(restartScript(args));
    if (r.rc === SAVE_REFUSED) {
      throw new TicklessError(
        "TASK",
        `Redis on port ${args.port ?? 6379} not restarted: ${r.stderr.trim()}`,
        {
          hint: "fix the save (the data directory, its space and permissions; the Redis log), then run again",
        },
      );
    }
    if (r.rc !== 0) {
      throw new TicklessError(
        "TASK",
        `restarting Redis on port ${args.port ?? 6379} failed: ${lastProbeError(r)}`,
      );
    }
    const kv = parseKeyValues(r.stdout);
    const problems = restartProblems(kv, args.max_downtime_ms);
    const result = {
      previous_exe: state.exe ?? null,
      downtime_ms: Number(kv.downtime_ms),
      dbsize_before: kv.dbsize_before === "" ? null : Number(kv.dbsize_before),
      dbsize_after: Number(kv.dbsize_after),
      sentinel: kv.sentinel,
      saved: kv.saved,
      ...(kv.save_skipped ? { save_skipped: kv.save_skipped } : {}),
    };
    return problems.length > 0 ? { ...result, failed: true, msg: problems.join("; ") } : result;
  },
  report: (_args, state) => ({ pid: state.pid ?? null, exe: state.exe ?? null }),
});
