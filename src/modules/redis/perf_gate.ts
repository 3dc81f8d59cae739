/**
 * perf_gate: the latency A/B gate. Compares a candidate's runs with a baseline's (saved by
 * redis_latency, or given inline) on one test and metric: Mann–Whitney U, the Hodges–Lehmann
 * shift with its confidence interval, a seeded bootstrap (redis/gate.ts decides). Fails on a
 * significant regression over `max_regression_pct`; claims an improvement only when p < alpha and
 * the interval lies below zero. The report also compares every other per-run metric (p50, p99,
 * p99.9, max), for information. Written on the host and the controller; `msg` is one human line.
 * Beside the report, an SVG of both sides' latency distributions and of each run in the order
 * measured (`plot: false` skips it); `noise_floor` (an intrinsic_latency result) is reported and
 * drawn beside them, so a reader sees how much of the p99 the host itself adds.
 */
import { TicklessError } from "../../errors.js";
import { newSeed, SEED_LIMIT } from "../../stats/random.js";
import { defineModule } from "../types.js";
import { compareMetric, type GateReport, judge, type MetricComparison } from "./gate.js";
import type { IntrinsicLatency } from "./intrinsic_latency.js";
import { gatePlotSvg } from "./plot.js";
import type { LatencyRun } from "./redis_latency.js";
import { HOST_RESULTS_DIR, loadResult, saveResult, saveText } from "./results.js";

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
  /** An intrinsic_latency result (its saved name, or inline), reported and drawn beside the runs. */
  noise_floor?: string | (IntrinsicLatency & { cpu?: string }) | null;
  /** Write the SVG beside the report (default true). */
  plot?: boolean;
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
      noise_floor: {
        anyOf: [
          { type: "null" },
          { type: "string", minLength: 1 },
          {
            type: "object",
            required: ["max_us", "avg_us"],
            properties: { max_us: { type: "number" }, avg_us: { type: "number" } },
          },
        ],
      },
      plot: { type: "boolean" },
    },
  },
  probe: async () => ({}),
  plan: () => [{ target: "latency gate", summary: "compare candidate with baseline" }],
  async apply(host, args, ctx) {
    const where = { stateDir: args.state_dir ?? HOST_RESULTS_DIR, resultsDir: args.results_dir };
    const recordOf = async (r: Runs): Promise<{ runs: LatencyRun[]; seed?: number; order?: string[] }> =>
      typeof r === "string"
        ? ((await loadResult(host, ctx.host, r, where)) as { runs: LatencyRun[] })
        : { runs: r };
    const noise =
      typeof args.noise_floor === "string"
        ? ((await loadResult(host, ctx.host, args.noise_floor, where)) as IntrinsicLatency & { cpu?: string })
        : (args.noise_floor ?? undefined);
    const test = args.test ?? "GET";
    const metric = args.metric ?? "p99_us";
    const alpha = args.alpha ?? 0.05;
    const maxRegressionPct = args.max_regression_pct ?? 5;
    const baseline = await recordOf(args.baseline);
    const candidate = await recordOf(args.candidate);
    const seed = args.seed ?? (typeof candidate.seed === "number" ? candidate.seed : newSeed());
    const report: GateReport & {
      test: string;
      metric: string;
      metrics: Record<string, MetricComparison>;
      noise_floor?: { max_us: number; avg_us: number; cpu?: string };
    } = {
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
    if (noise !== undefined) {
      report.noise_floor = {
        max_us: noise.max_us,
        avg_us: noise.avg_us,
        ...(noise.cpu ? { cpu: noise.cpu } : {}),
      };
      report.line += `; the host's intrinsic latency: max ${noise.max_us} µs${noise.cpu ? ` on CPU ${noise.cpu}` : ""}`;
    }
    const name = args.report_as ?? "gate";
    const files = await saveResult(host, ctx.host, name, report, where);
    const out: Record<string, unknown> = {
      changed: false,
      failed: report.verdict === "FAIL",
      msg: report.line,
      report,
      ...files,
    };
    if (args.plot !== false) {
      const side = (n: Runs, fallback: string) => (typeof n === "string" ? n : fallback);
      const svg = await gatePlotSvg({
        test,
        metric,
        metricLabel: LABELS[metric],
        baseline: { name: side(args.baseline, "baseline"), runs: baseline.runs },
        candidate: { name: side(args.candidate, "candidate"), runs: candidate.runs, order: candidate.order },
        noiseFloorUs: noise?.max_us,
        title: `${ctx.host}: ${report.line}`,
      });
      const plot = await saveText(host, ctx.host, name, "svg", svg, where);
      Object.assign(out, { plot_host_file: plot.host_file, plot_controller_file: plot.controller_file });
    }
    return out;
  },
});
