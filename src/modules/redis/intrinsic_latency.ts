/**
 * intrinsic_latency: the host's own latency floor. Runs `redis-cli --intrinsic-latency SECONDS`
 * pinned by taskset to one CPU (`cpu: auto`: the first isolated CPU from the facts, the one Redis
 * is meant to own) and returns the worst stall seen and the average loop time, so a reader of the
 * A/B report sees how much of a p99 the host itself adds. No Redis server is needed; the CPU is
 * kept busy for the whole run, so measure while Redis is idle. With `save_as`, the result is kept
 * beside the latency runs for perf_gate's `noise_floor`.
 */
import { quote } from "shell-quote";
import { TicklessError } from "../../errors.js";
import { defineModule } from "../types.js";
import { HOST_RESULTS_DIR, saveResult } from "./results.js";

export interface IntrinsicLatencyArgs {
  cpu: string | number;
  seconds?: number;
  redis_cli?: string;
  save_as?: string;
  results_dir?: string;
  state_dir?: string;
}

/** What `redis-cli --intrinsic-latency` reports. */
export interface IntrinsicLatency {
  max_us: number;
  avg_us: number;
  loops: number;
}

/** Parses redis-cli's intrinsic-latency output; undefined when it is not one. */
export function parseIntrinsic(output: string): IntrinsicLatency | undefined {
  const text = output.replace(/\r/g, "\n");
  const maxes = [...text.matchAll(/Max latency so far: (\d+) microseconds/g)].map((m) => Number(m[1]));
  const total = /(\d+) total runs \(avg latency: ([\d.]+) microseconds/.exec(text);
  if (!total) return undefined;
  return { max_us: maxes.length ? Math.max(...maxes) : 0, avg_us: Number(total[2]), loops: Number(total[1]) };
}

/** The CPU to measure: as given, or the first isolated CPU of the facts. */
export function noiseCpu(cpu: string | number, facts: unknown): { cpu: string; why?: string } {
  if (cpu !== "auto") return { cpu: String(cpu) };
  const f = (facts ?? {}) as Record<string, unknown>;
  const isolated = Array.isArray(f.cpus_isolated_list) ? (f.cpus_isolated_list as number[]) : [];
  const nohz = Array.isArray(f.cpus_nohz_full_list) ? (f.cpus_nohz_full_list as number[]) : [];
  const first = [...isolated, ...nohz].filter(Number.isInteger).sort((a, b) => a - b)[0];
  if (first === undefined) {
    throw new TicklessError("TASK", "cpu: auto found no isolated CPU in the facts", {
      hint: "measure the CPU Redis runs on (cpu: 4), or isolate one first (isolation.yml)",
    });
  }
  return { cpu: String(first), why: `isolated CPU ${first}, the first of the host's isolated CPUs` };
}

export const intrinsicLatencyModule = defineModule<IntrinsicLatencyArgs, Record<string, never>>({
  name: "intrinsic_latency",
  kind: "command",
  description: "The host's latency floor on one CPU: redis-cli --intrinsic-latency pinned with taskset.",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["cpu"],
    properties: {
      cpu: {
        anyOf: [
          { type: "string", pattern: "^([0-9]+|auto)$" },
          { type: "integer", minimum: 0 },
        ],
      },
      seconds: { type: "integer", minimum: 1, maximum: 3600 },
      redis_cli: { type: "string", minLength: 1 },
      save_as: { type: "string", minLength: 1 },
      results_dir: { type: "string", minLength: 1 },
      state_dir: { type: "string", minLength: 1 },
    },
  },
  probe: async () => ({}),
  plan: (args) => [
    { target: `cpu ${args.cpu}`, summary: `measure the intrinsic latency for ${args.seconds ?? 10} s` },
  ],
  async apply(host, args, ctx) {
    const choice = noiseCpu(args.cpu, ctx.vars.ansible_facts);
    const seconds = args.seconds ?? 10;
    const line = quote([
      "taskset",
      "-c",
      choice.cpu,
      args.redis_cli ?? "redis-cli",
      "--intrinsic-latency",
      String(seconds),
    ]);
    const res = await host.run(line);
    const parsed = parseIntrinsic(res.stdout);
    if (res.rc !== 0 || parsed === undefined) {
      throw new TicklessError(
        "TASK",
        `redis-cli --intrinsic-latency failed (rc ${res.rc}): ${res.stderr.trim() || res.stdout.trim().slice(-300) || "no output"}`,
        { hint: "are redis-tools and taskset (util-linux) installed, and is the CPU online?" },
      );
    }
    const result = {
      host: ctx.host,
      cpu: choice.cpu,
      ...(choice.why ? { cpu_choice: choice.why } : {}),
      seconds,
      command: line,
      created: new Date().toISOString(),
      ...parsed,
    };
    const out: Record<string, unknown> = { changed: false, ...result };
    if (args.save_as !== undefined) {
      const where = { stateDir: args.state_dir ?? HOST_RESULTS_DIR, resultsDir: args.results_dir };
      Object.assign(out, await saveResult(host, ctx.host, args.save_as, result, where));
    }
    return out;
  },
});
