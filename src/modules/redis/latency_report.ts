/**
 * latency_report: reads the samples latency-monitor.yml's timer wrote on the host and reports the
 * gate over a window (24 h by default, `window_hours: 168` for 7 days): each sample's runs against
 * the stored baseline (as perf_gate judges), the pass rate, the failure-spike alarm (more than
 * `spike_pct` % failed), and RSS growth per hour with a leak verdict. Fails on an alarm or a leak
 * unless `fail_on_alarm: false`. The report is kept like perf_gate's (`report_as`).
 */
import { TicklessError } from "../../errors.js";
import { newSeed, SEED_LIMIT } from "../../stats/random.js";
import { defineModule } from "../types.js";
import { monitorReport, parseSamples } from "./monitor.js";
import { metricValues } from "./perf_gate.js";
import type { LatencyRun } from "./redis_latency.js";
import { HOST_RESULTS_DIR, loadResult, saveResult } from "./results.js";

export interface LatencyReportArgs {
  baseline: string;
  test?: string;
  samples_file?: string;
  window_hours?: number;
  max_regression_pct?: number;
  alpha?: number;
  spike_pct?: number;
  leak_pct_per_hour?: number;
  fail_on_alarm?: boolean;
  seed?: number | null;
  report_as?: string;
  results_dir?: string;
  state_dir?: string;
}

export const DEFAULT_SAMPLES_FILE = "/var/lib/tickless/monitor/samples.jsonl";

export const latencyReportModule = defineModule<LatencyReportArgs, Record<string, never>>({
  name: "latency_report",
  kind: "command",
  description:
    "The latency gate over a window from the monitor's samples: pass rate, spike alarm, RSS growth.",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["baseline"],
    properties: {
      baseline: { type: "string", minLength: 1 },
      test: { type: "string", minLength: 1 },
      samples_file: { type: "string", minLength: 1 },
      window_hours: { type: "number", exclusiveMinimum: 0, maximum: 24 * 366 },
      max_regression_pct: { type: "number", minimum: 0 },
      alpha: { type: "number", exclusiveMinimum: 0, exclusiveMaximum: 1 },
      spike_pct: { type: "number", minimum: 0, maximum: 100 },
      leak_pct_per_hour: { type: "number", minimum: 0 },
      fail_on_alarm: { type: "boolean" },
      seed: { anyOf: [{ type: "integer", minimum: 0, maximum: SEED_LIMIT - 1 }, { type: "null" }] },
      report_as: { type: "string", minLength: 1 },
      results_dir: { type: "string", minLength: 1 },
      state_dir: { type: "string", minLength: 1 },
    },
  },
  probe: async () => ({}),
  plan: (args) => [{ target: "latency monitor", summary: `report the last ${args.window_hours ?? 24} h` }],
  async apply(host, args, ctx) {
    const where = { stateDir: args.state_dir ?? HOST_RESULTS_DIR, resultsDir: args.results_dir };
    const file = args.samples_file ?? DEFAULT_SAMPLES_FILE;
    const read = await host.readFile(file);
    if (!read.exists || read.content === undefined) {
      throw new TicklessError("TASK", `no latency samples on ${ctx.host}: ${file} does not exist`, {
        hint: "install the sampler first (latency-monitor.yml) and let its timer run",
      });
    }
    const baseline = (await loadResult(host, ctx.host, args.baseline, where)) as { runs: LatencyRun[] };
    const test = args.test ?? "GET";
    const report = monitorReport(
      metricValues(baseline.runs, test, "p99_us", "baseline"),
      parseSamples(read.content.toString("utf8")),
      {
        windowHours: args.window_hours ?? 24,
        now: Math.floor(Date.now() / 1000),
        maxRegressionPct: args.max_regression_pct ?? 5,
        alpha: args.alpha ?? 0.05,
        spikePct: args.spike_pct ?? 10,
        leakPctPerHour: args.leak_pct_per_hour ?? 1,
        seed: args.seed ?? newSeed(),
      },
    );
    const full = { host: ctx.host, baseline: args.baseline, test, samples_file: file, ...report };
    const files = await saveResult(host, ctx.host, args.report_as ?? "monitor", full, where);
    const alarm = report.spike_alarm || report.leak;
    return {
      changed: false,
      failed: alarm && args.fail_on_alarm !== false,
      msg: report.line,
      report: full,
      ...files,
    };
  },
});
