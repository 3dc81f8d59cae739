/**
 * redis_latency: measures the local Redis's round-trip latency on the host with redis-benchmark,
 * pinned by taskset to one CPU (`-c 1 -P 1 --precision 3`), and returns p50, p99, p99.9 and max
 * in µs per run and per test. With `save_as`, the runs are kept as JSON on the host
 * (/var/lib/tickless/latency/) and on the controller (`results_dir`) for perf_gate.
 */
import { quote } from "shell-quote";
import { TicklessError } from "../errors.js";
import { parseBenchmark, type TestLatency } from "./redis/benchmark-output.js";
import { HOST_RESULTS_DIR, saveResult } from "./redis/results.js";
import { defineModule } from "./types.js";

export interface RedisLatencyArgs {
  port?: number;
  address?: string;
  /** CPU list for `taskset -c` (e.g. "3"). */
  cpu: string | number;
  runs?: number;
  requests?: number;
  tests?: string[];
  benchmark?: string;
  save_as?: string;
  results_dir?: string;
  state_dir?: string;
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
  runs: LatencyRun[];
}

/** The benchmark's command line. */
export function benchmarkLine(args: RedisLatencyArgs): string {
  return quote([
    "taskset",
    "-c",
    String(args.cpu),
    args.benchmark ?? "redis-benchmark",
    "-h",
    args.address ?? "127.0.0.1",
    "-p",
    String(args.port ?? 6379),
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
  ]);
}

export const redisLatency = defineModule<RedisLatencyArgs, Record<string, never>>({
  name: "redis_latency",
  kind: "command",
  description: "Measure the local Redis's p50/p99/p99.9/max RTT (µs) with redis-benchmark pinned to a CPU.",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["cpu"],
    properties: {
      port: { type: "integer", minimum: 1, maximum: 65535 },
      address: { type: "string", minLength: 1 },
      cpu: {
        anyOf: [
          { type: "string", pattern: "^[0-9,-]+$" },
          { type: "integer", minimum: 0 },
        ],
      },
      runs: { type: "integer", minimum: 1, maximum: 1000 },
      requests: { type: "integer", minimum: 100, maximum: 100_000_000 },
      tests: { type: "array", minItems: 1, items: { type: "string", pattern: "^[a-z_]+$" } },
      benchmark: { type: "string", minLength: 1 },
      save_as: { type: "string", minLength: 1 },
      results_dir: { type: "string", minLength: 1 },
      state_dir: { type: "string", minLength: 1 },
    },
  },
  probe: async () => ({}),
  plan: (args) => [
    { target: `redis:${args.port ?? 6379}`, summary: `measure latency (${args.runs ?? 5} runs)` },
  ],
  async apply(host, args, ctx) {
    const line = benchmarkLine(args);
    const runs: LatencyRun[] = [];
    for (let i = 0; i < (args.runs ?? 5); i++) {
      const res = await host.run(line);
      const parsed = parseBenchmark(res.stdout);
      if (res.rc !== 0 || Object.keys(parsed).length === 0) {
        throw new TicklessError(
          "TASK",
          `redis-benchmark failed (rc ${res.rc}): ${res.stderr.trim() || res.stdout.trim().slice(-300)}`,
          {
            hint: `is Redis listening on ${args.address ?? "127.0.0.1"}:${args.port ?? 6379}, and are redis-tools and taskset (util-linux) installed?`,
          },
        );
      }
      runs.push(parsed);
    }
    const result: Record<string, unknown> = { changed: false, command: line, runs };
    if (args.save_as !== undefined) {
      const record: LatencyRecord = {
        host: ctx.host,
        name: args.save_as,
        created: new Date().toISOString(),
        command: line,
        cpu: String(args.cpu),
        runs,
      };
      Object.assign(
        result,
        await saveResult(host, ctx.host, args.save_as, record, {
          stateDir: args.state_dir ?? HOST_RESULTS_DIR,
          resultsDir: args.results_dir,
        }),
      );
    }
    return result;
  },
});
