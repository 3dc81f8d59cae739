/**
 * redis_latency: measures a Redis's round-trip latency on the host with redis-benchmark, pinned by
 * taskset to one CPU (`-c 1 -P 1 --precision 3`; `cpu: auto` picks a housekeeping CPU other than
 * CPU 0 from the facts), and returns p50, p99, p99.9 and max in µs per run and per test.
 * With `baseline_port`, a second Redis (the baseline) is measured in the same task, interleaved:
 * one run of each per block, which first drawn per block from a recorded seed, so that both sides
 * see the same drift of the machine. Before measuring, `keyspace` keys are loaded into every
 * measured server (the names redis-benchmark's `-r` draws from, so that every GET finds its key)
 * and `warmup` runs per server are made and discarded. With `save_as` (and `baseline_save_as`),
 * the runs are kept as JSON on the host (/var/lib/tickless/latency/) and on the controller
 * (`results_dir`) for perf_gate.
 */
import { quote } from "shell-quote";
import type { HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { newSeed, SEED_LIMIT } from "../../stats/random.js";
import { defineModule } from "../types.js";
import { lastProbeError } from "../util/last-error.js";
import { parseBenchmark, type TestLatency } from "./benchmark-output.js";
import { blockOrder, loadgenCpu } from "./protocol.js";
import { HOST_RESULTS_DIR, saveResult } from "./results.js";

export interface RedisLatencyArgs {
  port?: number;
  address?: string;
  /** CPU list for `taskset -c` (e.g. "3"), or "auto" (from the facts). */
  cpu: string | number;
  /** Runs (per side when a baseline is measured alongside). */
  runs?: number;
  requests?: number;
  tests?: string[];
  benchmark?: string;
  save_as?: string;
  /** The baseline Redis, measured interleaved with this one. */
  baseline_port?: number;
  baseline_address?: string;
  baseline_save_as?: string;
  /** Seed of the block order; null or absent: a fresh one, recorded. */
  seed?: number | null;
  results_dir?: string;
  state_dir?: string;
  /** Seconds one benchmark run may take (default: 60 plus 20 ms a request). */
  run_timeout?: number | null;
  /** Keys loaded before measuring (0: none) and drawn from by every request (`-r`). */
  keyspace?: number;
  /** Runs per server made before measuring and discarded. */
  warmup?: number;
}

/** One run: its latencies per test. */
export type LatencyRun = Record<string, TestLatency>;

/** What save_as stores and perf_gate reads. */
export interface LatencyRecord {
  host: string;
  name: string;
  created: string;
  command: string;
  cpu: string;
  /** Why that CPU, when it was chosen from the facts. */
  cpu_choice?: string;
  runs: LatencyRun[];
  /** Wall time of the measurement (both sides when interleaved) and per run. */
  duration_s: number;
  seconds_per_run: number;
  /** Keys loaded before measuring, warm-up runs per server, how long both took, and the load alone. */
  keyspace?: number;
  warmup_runs?: number;
  setup_s?: number;
  keyspace_load_s?: number;
  /** Interleaved measurements: the random seed, the other side's name, and each block's order. */
  protocol?: "interleaved";
  seed?: number;
  paired_with?: string;
  order?: string[];
}

/** The benchmark's command line for one server. */
export function benchmarkLine(args: RedisLatencyArgs, target?: { port: number; address?: string }): string {
  return quote([
    "taskset",
    "-c",
    String(args.cpu),
    args.benchmark ?? "redis-benchmark",
    "-h",
    target?.address ?? args.address ?? "127.0.0.1",
    "-p",
    String(target?.port ?? args.port ?? 6379),
    "-c",
    "1",
    "-P",
    "1",
    "--precision",
    "3",
    "-n",
    String(args.requests ?? 10000),
    "-t",
    (args.tests ?? ["ping", "get", "set"]).join(","),
    ...(args.keyspace ? ["-r", String(args.keyspace)] : []),
  ]);
}

/**
 * Loads `keyspace` keys into a server, pipelined: the names redis-benchmark's `-r` draws
 * (`key:` and 12 digits) with a value of the size its SET writes (3 bytes).
 */
export function keyspaceLine(keyspace: number, target: { port: number; address: string }): string {
  const awk = `BEGIN { for (i = 0; i < ${keyspace}; i++) printf "SET key:%012d xxx\\r\\n", i }`;
  const cli = ["redis-cli", "-h", target.address, "-p", String(target.port), "--pipe"];
  return `${quote(["awk", awk])} | ${quote(cli)}`;
}

/** One server to measure: its benchmark line, where it listens, and how long one run may take. */
interface Target {
  line: string;
  address: string;
  port: number;
  timeoutMs: number;
}

/**
 * How long one run may take: 60 s plus 20 ms a request (a loaded or emulated host, a client that
 * shares its CPU with a busy loop).
 * redis-benchmark never gives up on a server that does not answer: it waits for it forever.
 */
export function runTimeoutMs(args: RedisLatencyArgs): number {
  if (args.run_timeout !== undefined && args.run_timeout !== null) return args.run_timeout * 1000;
  return 60_000 + 20 * (args.requests ?? 10000) * (args.tests ?? ["ping", "get", "set"]).length;
}

/** One benchmark run, parsed; a failure names the server. */
async function measure(host: HostWriter, t: Target): Promise<LatencyRun> {
  const res = await host.run(t.line, { timeoutMs: t.timeoutMs });
  const parsed = parseBenchmark(res.stdout);
  if (res.rc !== 0 || Object.keys(parsed).length === 0) {
    // its own words ("Could not connect to Redis at …") are on stdout, the timeout's on stderr
    const words = { rc: res.rc, stderr: `${res.stdout}\n${res.stderr}` };
    throw new TicklessError("TASK", `redis-benchmark failed: ${lastProbeError(words)}`, {
      hint: `is Redis listening on ${t.address}:${t.port}, and are redis-tools and taskset (util-linux) installed?`,
    });
  }
  return parsed;
}

/** The same dataset in every server, then `warmup` discarded runs of each; returns the load's seconds. */
async function prepare(host: HostWriter, targets: Target[], args: RedisLatencyArgs): Promise<number> {
  const started = Date.now();
  for (const t of targets) {
    if (!args.keyspace) continue;
    const res = await host.run(keyspaceLine(args.keyspace, t), { timeoutMs: t.timeoutMs });
    // redis-cli --pipe ends with "errors: E, replies: R"; every key must have been written
    if (res.rc !== 0 || !res.stdout.includes(`errors: 0, replies: ${args.keyspace}`)) {
      const words = { rc: res.rc, stderr: `${res.stdout}\n${res.stderr}` };
      throw new TicklessError("TASK", `loading ${args.keyspace} keys failed: ${lastProbeError(words)}`, {
        hint: `is Redis listening on ${t.address}:${t.port}, and does it accept writes?`,
      });
    }
  }
  const loaded = (Date.now() - started) / 1000;
  for (let i = 0; i < (args.warmup ?? 0); i++) for (const t of targets) await measure(host, t);
  return loaded;
}

/** `blocks` blocks of one run a side, each block's order from the random seed ("BC": baseline first). */
async function measureInterleaved(
  host: HostWriter,
  candidate: Target,
  baseline: Target,
  blocks: number,
  seed: number,
): Promise<{ candidate: LatencyRun[]; baseline: LatencyRun[]; order: string[] }> {
  const out = { candidate: [] as LatencyRun[], baseline: [] as LatencyRun[], order: [] as string[] };
  for (const pair of blockOrder(blocks, seed)) {
    for (const side of pair) out[side].push(await measure(host, side === "baseline" ? baseline : candidate));
    out.order.push(pair.map((s) => (s === "baseline" ? "B" : "C")).join(""));
  }
  return out;
}

const PORT = { type: "integer", minimum: 1, maximum: 65535 };

export const redisLatencyModule = defineModule<RedisLatencyArgs, Record<string, never>>({
  name: "redis_latency",
  kind: "command",
  description:
    "Measure Redis's p50/p99/p99.9/max RTT (µs) with redis-benchmark pinned to a CPU; optionally a baseline Redis interleaved.",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["cpu"],
    dependencies: { baseline_save_as: ["baseline_port"], baseline_address: ["baseline_port"] },
    properties: {
      port: PORT,
      address: { type: "string", minLength: 1 },
      cpu: {
        anyOf: [
          { type: "string", pattern: "^([0-9,-]+|auto)$" },
          { type: "integer", minimum: 0 },
        ],
      },
      runs: { type: "integer", minimum: 1, maximum: 1000 },
      requests: { type: "integer", minimum: 100, maximum: 100_000_000 },
      tests: { type: "array", minItems: 1, items: { type: "string", pattern: "^[a-z_]+$" } },
      benchmark: { type: "string", minLength: 1 },
      save_as: { type: "string", minLength: 1 },
      baseline_port: PORT,
      baseline_address: { type: "string", minLength: 1 },
      baseline_save_as: { type: "string", minLength: 1 },
      seed: { anyOf: [{ type: "integer", minimum: 0, maximum: SEED_LIMIT - 1 }, { type: "null" }] },
      results_dir: { type: "string", minLength: 1 },
      state_dir: { type: "string", minLength: 1 },
      run_timeout: { anyOf: [{ type: "integer", minimum: 1, maximum: 86_400 }, { type: "null" }] },
      keyspace: { type: "integer", minimum: 0, maximum: 100_000_000 },
      warmup: { type: "integer", minimum: 0, maximum: 100 },
    },
  },
  probe: async () => ({}),
  plan: (args) => [
    {
      target: `redis:${args.port ?? 6379}`,
      summary:
        args.baseline_port === undefined
          ? `measure latency (${args.runs ?? 5} runs)`
          : `measure latency against redis:${args.baseline_port} interleaved (${args.runs ?? 5} runs a side)`,
    },
  ],
  async apply(host, args, ctx) {
    if (
      args.save_as !== undefined &&
      args.baseline_port !== undefined &&
      args.baseline_save_as === undefined
    ) {
      throw new TicklessError("MODULE_ARGS", "save_as with baseline_port needs baseline_save_as too", {
        hint: "name both sides' results (save_as: candidate, baseline_save_as: baseline)",
      });
    }
    const choice = args.cpu === "auto" ? loadgenCpu(ctx.vars.ansible_facts) : undefined;
    const a: RedisLatencyArgs = { ...args, cpu: choice?.cpu ?? args.cpu };
    const target: Target = {
      line: benchmarkLine(a),
      timeoutMs: runTimeoutMs(a),
      address: args.address ?? "127.0.0.1",
      port: args.port ?? 6379,
    };
    const n = args.runs ?? 5;
    const baselineAddress = args.baseline_address ?? target.address;
    const other: Target | undefined =
      args.baseline_port === undefined
        ? undefined
        : {
            line: benchmarkLine(a, { port: args.baseline_port, address: baselineAddress }),
            timeoutMs: runTimeoutMs(a),
            address: baselineAddress,
            port: args.baseline_port,
          };
    const prepared = Date.now();
    const loadSeconds = await prepare(host, other ? [other, target] : [target], a);
    const started = Date.now();
    let runs: LatencyRun[] = [];
    let paired: { target: Target; runs: LatencyRun[]; seed: number; order: string[] } | undefined;
    if (other === undefined) {
      for (let i = 0; i < n; i++) runs.push(await measure(host, target));
    } else {
      const seed = args.seed ?? newSeed();
      const m = await measureInterleaved(host, target, other, n, seed);
      runs = m.candidate;
      paired = { target: other, runs: m.baseline, seed, order: m.order };
    }
    const duration = (Date.now() - started) / 1000;
    const perRun = Number((duration / (runs.length + (paired?.runs.length ?? 0))).toFixed(3));
    const common = {
      cpu: String(a.cpu),
      ...(choice ? { cpu_choice: choice.why } : {}),
      duration_s: duration,
      seconds_per_run: perRun,
      keyspace: args.keyspace ?? 0,
      warmup_runs: args.warmup ?? 0,
      setup_s: (started - prepared) / 1000,
      keyspace_load_s: loadSeconds,
      ...(paired ? { seed: paired.seed, order: paired.order } : {}),
    };
    const result: Record<string, unknown> = { changed: false, command: target.line, ...common, runs };
    if (paired) Object.assign(result, { baseline_command: paired.target.line, baseline_runs: paired.runs });
    const where = { stateDir: args.state_dir ?? HOST_RESULTS_DIR, resultsDir: args.results_dir };
    const record = (
      name: string,
      command: string,
      sideRuns: LatencyRun[],
      other?: string,
    ): LatencyRecord => ({
      host: ctx.host,
      name,
      created: new Date().toISOString(),
      command,
      ...common,
      runs: sideRuns,
      ...(paired ? { protocol: "interleaved" as const, paired_with: other } : {}),
    });
    if (args.save_as !== undefined) {
      const rec = record(args.save_as, target.line, runs, args.baseline_save_as);
      Object.assign(result, await saveResult(host, ctx.host, args.save_as, rec, where));
    }
    if (paired && args.baseline_save_as !== undefined) {
      const rec = record(args.baseline_save_as, paired.target.line, paired.runs, args.save_as);
      const saved = await saveResult(host, ctx.host, args.baseline_save_as, rec, where);
      Object.assign(result, {
        baseline_host_file: saved.host_file,
        baseline_controller_file: saved.controller_file,
      });
    }
    return result;
  },
});
