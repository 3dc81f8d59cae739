/**
 * perf_gate: the latency A/B gate. Compares a candidate's runs with a baseline's (saved by
 * redis_latency, or given inline) on one test and metric: Mann–Whitney U, the Hodges–Lehmann
 * shift with its confidence interval, a seeded bootstrap (redis/gate.ts decides). Fails on a
 * significant regression over `max_regression_pct`; claims an improvement only when p < alpha and
 * the interval lies below zero. The report also compares every other per-run metric (p50, p99,
 * p99.9, max), for information. Written on the host and the controller; `msg` is one human line.
 */
import { TicklessError } from "../../errors.js";
import { newSeed, SEED_LIMIT } from "../../stats/random.js";
import { defineModule } from "../types.js";
import { compareMetric, type GateReport, judge, type MetricComparison } from "./gate.js";
import type { LatencyRun } from "./redis_latency.js";
import { HOST_RESULTS_DIR, loadResult, saveResult } from "./results.js";

type Runs = string | LatencyRun[];

export interface PerfGateArgs {
  /** A saved result's name, or runs inline (a redis_latency result's `runs`). */
  baseline: Runs;
  candidate: Runs;
  test?: string;
  metric?: "p50_us" | "p99_us" | "p999_us" | "max_us";
  max_regression_pct?: number;
  alpha?: number;
  require_improvement?: boolean;
  report_as?: string;
  results_dir?: string;
  state_dir?: string;
  /** Seed of the bootstrap; null or absent: the one the candidate's interleaved runs recorded, else a fresh one. */
  seed?: number | null;
  resamples?: number;
}

const LABELS: Record<string, string> = { p50_us: "p50", p99_us: "p99", p999_us: "p99.9", max_us: "max" };

/** Every metric that all runs of both sides carry, compared (the report's `metrics`). */
export function compareAll(
  baseline: LatencyRun[],
  candidate: LatencyRun[],
  test: string,
  alpha: number,
  maxRegressionPct: number,
): Record<string, MetricComparison> {
  const out: Record<string, MetricComparison> = {};
  for (const metric of Object.keys(LABELS)) {
    const has = (runs: LatencyRun[]) =>
      runs.every(
        (r) => typeof (r[test] as unknown as Record<string, unknown> | undefined)?.[metric] === "number",
      );
    if (!has(baseline) || !has(candidate)) continue;
    out[metric] = compareMetric(
      metricValues(baseline, test, metric, "baseline"),
      metricValues(candidate, test, metric, "candidate"),
      alpha,
      maxRegressionPct,
    );
  }
  return out;
}

/** One metric of one test from every run. */
export function metricValues(runs: LatencyRun[], test: string, metric: string, side: string): number[] {
  const values = runs.map((r) => (r[test] as unknown as Record<string, number> | undefined)?.[metric]);
  if (values.length === 0 || values.some((v) => typeof v !== "number")) {
    throw new TicklessError("TASK", `the ${side} runs have no ${test} ${metric}`, {
      hint: `tests measured: ${Object.keys(runs[0] ?? {}).join(", ") || "none"}`,
    });
  }
  return values as number[];
}

const RUNS_SCHEMA = {
  anyOf: [
    { type: "string", minLength: 1 },
    { type: "array", minItems: 1, items: { type: "object" } },
  ],
};

export const perfGateModule = defineModule<PerfGateArgs, Record<string, never>>({
  name: "perf_gate",
  kind: "command",
  description: "Latency A/B gate: candidate vs baseline runs, Mann–Whitney U, fail on regression.",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["baseline", "candidate"],
    properties: {
      baseline: RUNS_SCHEMA,
      candidate: RUNS_SCHEMA,
      test: { type: "string", minLength: 1 },
      metric: { enum: Object.keys(LABELS) },
      max_regression_pct: { type: "number", minimum: 0 },
      alpha: { type: "number", exclusiveMinimum: 0, exclusiveMaximum: 1 },
      require_improvement: { type: "boolean" },
      report_as: { type: "string", minLength: 1 },
      results_dir: { type: "string", minLength: 1 },
      state_dir: { type: "string", minLength: 1 },
      seed: { anyOf: [{ type: "integer", minimum: 0, maximum: SEED_LIMIT - 1 }, { type: "null" }] },
      resamples: { type: "integer", minimum: 100, maximum: 100_000 },
    },
  },
  probe: async () => ({}),
  plan: () => [{ target: "latency gate", summary: "compare candidate with baseline" }],
  async apply(host, args, ctx) {
    const where = { stateDir: args.state_dir ?? HOST_RESULTS_DIR, resultsDir: args.results_dir };
    const recordOf = async (r: Runs): Promise<{ runs: LatencyRun[]; seed?: number }> =>
      typeof r === "string"
        ? ((await loadResult(host, ctx.host, r, where)) as { runs: LatencyRun[] })
        : { runs: r };
    const test = args.test ?? "GET";
    const metric = args.metric ?? "p99_us";
    const alpha = args.alpha ?? 0.05;
    const maxRegressionPct = args.max_regression_pct ?? 5;
    const baseline = await recordOf(args.baseline);
    const candidate = await recordOf(args.candidate);
    const seed = args.seed ?? (typeof candidate.seed === "number" ? candidate.seed : newSeed());
    const report: GateReport & { test: string; metric: string; metrics: Record<string, MetricComparison> } = {
      test,
      metric,
      ...judge(
        metricValues(baseline.runs, test, metric, "baseline"),
        metricValues(candidate.runs, test, metric, "candidate"),
        {
          label: `${test} ${LABELS[metric]}`,
          maxRegressionPct,
          alpha,
          requireImprovement: args.require_improvement ?? false,
          seed,
          resamples: args.resamples,
        },
      ),
      metrics: compareAll(baseline.runs, candidate.runs, test, alpha, maxRegressionPct),
    };
    const files = await saveResult(host, ctx.host, args.report_as ?? "gate", report, where);
    return { changed: false, failed: report.verdict === "FAIL", msg: report.line, report, ...files };
  },
});
