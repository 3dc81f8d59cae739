/**
 * redis_server: makes the Redis on a port run the binary a path resolves to (e.g.
 * /opt/redis-hft/current/bin/redis-server). The probe compares the running process's
 * /proc/<pid>/exe with the path's real path; a restart saves first (SAVE), stops and starts
 * (directly, or through systemd), waits until Redis answers, and checks that DBSIZE and a
 * sentinel key survived. It reports the downtime: from the stop to the first PONG.
 */
import { quote } from "shell-quote";
import { TicklessError } from "../../errors.js";
import { defineModule } from "../types.js";
import { lastProbeError } from "../util/last-error.js";

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
}

export interface RedisServerState {
  /** Real path of `binary`; "" when it does not resolve. */
  desired: string;
  pid?: number;
  /** /proc/<pid>/exe of the running server ("… (deleted)" when its file was replaced). */
  exe?: string;
}

export const DEFAULT_BINARY = "/opt/redis-hft/current/bin/redis-server";
const SENTINEL = "tickless:restart-sentinel";

function cliLine(args: RedisServerArgs): string {
  return `${quote([args.cli ?? "redis-cli"])} -h 127.0.0.1 -p ${args.port ?? 6379}`;
}

/** The path whose real path the running process must be. */
function wanted(args: RedisServerArgs): string {
  return args.release === undefined ? (args.binary ?? DEFAULT_BINARY) : `${args.release}/bin/redis-server`;
}

/** Exit code of the probe and restart scripts when the CLI is not on the host. */
const NO_CLI = 14;

/** Fails with NO_CLI when redis-cli cannot run: a missing client must not look like a silent server. */
function cliCheck(args: RedisServerArgs): string {
  const cli = quote([args.cli ?? "redis-cli"]);
  const message = quote([`${args.cli ?? "redis-cli"} is not installed or not on the PATH`]);
  return `command -v ${cli} >/dev/null 2>&1 || { echo ${message} >&2; exit ${NO_CLI}; }`;
}

export function probeScript(args: RedisServerArgs): string {
  return [
    cliCheck(args),
    `want=$(readlink -f -- ${quote([wanted(args)])} 2>/dev/null || true)`,
    `pid=$(${cliLine(args)} INFO server 2>/dev/null | sed -n 's/^process_id:\\([0-9]*\\).*/\\1/p')`,
    `exe=; if [ -n "$pid" ]; then exe=$(readlink /proc/$pid/exe 2>/dev/null || true); fi`,
    `printf '%s\\n%s\\n%s\\n' "$want" "$pid" "$exe"`,
  ].join("\n");
}

export function parseProbe(stdout: string): RedisServerState {
  const [desired = "", pid = "", exe = ""] = stdout.split("\n");
  return { desired, pid: pid ? Number(pid) : undefined, exe: exe || undefined };
}

/** Save, stop, start, wait for PONG, check the data; prints key=value lines. */
export function restartScript(args: RedisServerArgs): string {
  const cli = cliLine(args);
  const ticks = (args.start_timeout_s ?? 20) * 100;
  const start =
    (args.supervisor ?? "direct") === "systemd"
      ? `systemctl restart ${quote([args.service ?? "redis-hft"])} || exit 11`
      : [
          `if [ -n "$pid" ]; then ${cli} SHUTDOWN SAVE >/dev/null 2>&1 || true`,
          `  i=0; while kill -0 "$pid" 2>/dev/null; do i=$((i+1)); [ $i -gt ${ticks} ] && { echo "old server $pid did not stop" >&2; exit 13; }; sleep 0.01; done`,
          "fi",
          `${quote([args.binary ?? DEFAULT_BINARY, args.config])} || exit 11`,
        ].join("\n");
  return [
    "set -u",
    cliCheck(args),
    `token="$(date +%s%N)-$$"`,
    `before=; pid=`,
    `if [ "$(${cli} PING 2>/dev/null)" = PONG ]; then`,
    `  ${cli} SET ${SENTINEL} "$token" >/dev/null`,
    `  before=$(${cli} DBSIZE)`,
    `  [ "$(${cli} SAVE)" = OK ] || { echo "SAVE failed: the data would not survive a restart" >&2; exit 10; }`,
    `  pid=$(${cli} INFO server | sed -n 's/^process_id:\\([0-9]*\\).*/\\1/p')`,
    "fi",
    "t0=$(date +%s%N)",
    start,
    // The last answer (or error) of redis-cli goes into the timeout message.
    `i=0; until last=$(${cli} PING 2>&1); rc=$?; [ $rc = 0 ] && [ "$last" = PONG ]; do i=$((i+1)); [ $i -gt ${ticks} ] && { echo "redis did not answer PING within ${args.start_timeout_s ?? 20} s (last answer: exit $rc: $(printf %s "$last" | tr '\\n' ' ' | cut -c1-300))" >&2; exit 12; }; sleep 0.01; done`,
    "t1=$(date +%s%N)",
    `after=$(${cli} DBSIZE)`,
    `got=$(${cli} GET ${SENTINEL})`,
    `[ -n "$before" ] && ${cli} DEL ${SENTINEL} >/dev/null`,
    `echo "downtime_ms=$(( (t1 - t0) / 1000000 ))"`,
    `echo "dbsize_before=$before"`,
    `echo "dbsize_after=$after"`,
    `if [ -z "$before" ]; then echo sentinel=none; elif [ "$got" = "$token" ]; then echo sentinel=ok; else echo sentinel=lost; fi`,
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
  if (kv.dbsize_before !== "" && kv.dbsize_before !== kv.dbsize_after) {
    problems.push(`DBSIZE ${kv.dbsize_before} before the restart, ${kv.dbsize_after} after`);
  }
  const downtime = Number(kv.downtime_ms);
  if (maxDowntimeMs !== undefined && downtime > maxDowntimeMs) {
    problems.push(`downtime ${downtime} ms is over ${maxDowntimeMs} ms`);
  }
  return problems;
}

export const redisServer = defineModule<RedisServerArgs, RedisServerState>({
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
    if (state.desired !== "" && state.exe === state.desired) return [];
    return [
      {
        target: `redis:${args.port ?? 6379}`,
        summary: `restart: ${state.exe ?? "?"} → ${state.desired || binary}`,
        before: `${state.exe ?? ""}\n`,
        after: `${state.desired || binary}\n`,
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
    };
    return problems.length > 0 ? { ...result, failed: true, msg: problems.join("; ") } : result;
  },
  report: (_args, state) => ({ pid: state.pid ?? null, exe: state.exe ?? null }),
});
