/**
 * redis_threads: where each thread of a running Redis may run, against where it should: the main
 * thread (and io_thd_* threads) on `server_cpus` (Redis's server_cpulist: the isolated CPU), the
 * bio_* threads and the BGSAVE / AOF-rewrite children on `background_cpus` (bio_cpulist,
 * bgsave_cpulist, aof_rewrite_cpulist: housekeeping CPUs), any other thread within both.
 * Read-only: /proc/<pid>/task/<tid>/{comm,status} of Redis and of its children at that moment.
 */
import { TicklessError } from "../../errors.js";
import { formatCpuList, parseCpuList } from "../isolation/cpus.js";
import { defineModule, type ModuleResult } from "../types.js";
import { cliCheck, cliLine, NO_CLI } from "./redis_server.js";

export interface RedisThreadsArgs {
  server_cpus: string | number;
  background_cpus: string | number;
  port?: number;
  cli?: string;
  proc_root?: string;
}

/** One thread as read: its TID, its name, its Cpus_allowed_list, and whether it is a child process's. */
export interface RedisThread {
  tid: number;
  comm: string;
  cpus: string;
  child: boolean;
}

/** Prints the server's PID, then `@@t|@@c tid|comm|cpus` for each of its threads and its children's. */
export function threadsScript(args: RedisThreadsArgs): string {
  const proc = args.proc_root ?? "/proc";
  // a child's thread name stays redis-server; its process title (cmdline) says what it does
  const each = (tag: string, p: string, name: string) =>
    `for t in ${proc}/${p}/task/*; do echo "@@${tag} $(basename "$t")|${name}|$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status")"; done 2>/dev/null`;
  return [
    cliCheck(args),
    `pid=$(${cliLine(args)} INFO server 2>/dev/null | tr -d '\\r' | sed -n 's/^process_id://p')`,
    '[ -n "$pid" ] || { echo "Redis does not answer INFO server" >&2; exit 3; }',
    'echo "@@pid $pid"',
    each("t", "$pid", '$(cat "$t/comm")'),
    `for c in $(cat ${proc}/$pid/task/*/children 2>/dev/null); do`,
    `  ${each("c", "$c", `$(tr '\\0' ' ' < ${proc}/$c/cmdline | cut -d' ' -f1)`)}`,
    "done",
  ].join("\n");
}

export function parseThreads(stdout: string): { pid: number; threads: RedisThread[] } {
  const pid = Number(/^@@pid (\d+)$/m.exec(stdout)?.[1] ?? 0);
  const threads = [...stdout.matchAll(/^@@([tc]) (\d+)\|([^|]*)\|(.*)$/gm)].map((m) => ({
    tid: Number(m[2]),
    comm: m[3],
    cpus: m[4].trim(),
    child: m[1] === "c",
  }));
  return { pid, threads };
}

/** Which CPUs a thread should be allowed: the role its name (and being the main thread or a child) gives. */
export function expectedCpus(t: RedisThread, pid: number, server: number[], background: number[]) {
  if ((t.tid === pid && !t.child) || t.comm.startsWith("io_thd_")) return { role: "main", cpus: server };
  if (t.child || t.comm.startsWith("bio_")) return { role: "background", cpus: background };
  return { role: "other", cpus: [...new Set([...server, ...background])].sort((a, b) => a - b) };
}

/** A thread's role, the CPU list it should be allowed, and whether it is (an "other" thread: within both sets). */
export function placeThread(t: RedisThread, pid: number, server: number[], background: number[]) {
  const want = expectedCpus(t, pid, server, background);
  const got = t.cpus === "" ? [] : parseCpuList(t.cpus);
  const ok =
    want.role === "other"
      ? got.length > 0 && got.every((c) => want.cpus.includes(c))
      : formatCpuList(got) === formatCpuList(want.cpus);
  return { role: want.role, expected: formatCpuList(want.cpus), ok };
}

/** Pure: each thread's placement against the expected one; the misplaced named. */
export function checkThreads(args: RedisThreadsArgs, pid: number, threads: RedisThread[]): ModuleResult {
  const server = parseCpuList(args.server_cpus);
  const background = parseCpuList(args.background_cpus);
  const rows = threads.map((t) => ({ ...t, ...placeThread(t, pid, server, background) }));
  const bad = rows
    .filter((r) => !r.ok)
    .map(
      (r) =>
        `${r.comm} (${r.child ? "child" : "TID"} ${r.tid}) may run on ${r.cpus || "?"}, expected ${r.expected}`,
    );
  const result = { pid, threads: rows };
  if (bad.length === 0)
    return { ...result, msg: `${rows.length} thread(s) of Redis ${pid} where configured` };
  return {
    ...result,
    failed: true,
    msg: `${bad.join("; ")} (redis.conf: server_cpulist, bio_cpulist, bgsave_cpulist, aof_rewrite_cpulist; the unit's CPUAffinity must allow both sets)`,
  };
}

const CPUS = {
  anyOf: [
    { type: "string", minLength: 1 },
    { type: "integer", minimum: 0 },
  ],
};

export const redisThreadsModule = defineModule<RedisThreadsArgs, Record<string, never>>({
  name: "redis_threads",
  kind: "command",
  description:
    "Check that Redis's main thread runs on server_cpus and its bio threads and children on background_cpus.",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["server_cpus", "background_cpus"],
    properties: {
      server_cpus: CPUS,
      background_cpus: CPUS,
      port: { type: "integer", minimum: 1, maximum: 65535 },
      cli: { type: "string", minLength: 1 },
      proc_root: { type: "string", pattern: "^/" },
    },
  },
  probe: async () => ({}),
  plan: (args) => [
    { target: `redis:${args.port ?? 6379}`, summary: "check where each Redis thread may run" },
  ],
  async apply(host, args) {
    const r = await host.run(threadsScript(args), { env: { LC_ALL: "C" } });
    if (r.rc !== 0) {
      throw new TicklessError("TASK", `cannot read Redis's threads on ${host.name}: ${r.stderr.trim()}`, {
        hint:
          r.rc === NO_CLI
            ? "install redis-tools, or name the client with `cli:`"
            : "is Redis running on that port?",
      });
    }
    const { pid, threads } = parseThreads(r.stdout);
    return { ...checkThreads(args, pid, threads), changed: false };
  },
});
