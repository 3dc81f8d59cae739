/**
 * The latency gate's verdict: candidate runs against baseline runs on one per-run metric.
 * Evidence: a two-sided Mann–Whitney U test, the Hodges–Lehmann shift with its distribution-free
 * confidence interval, and a seeded bootstrap interval of the difference of medians.
 * FAIL: a significant regression (p < alpha and the shift's interval above zero) larger than the
 * budget; PASS: a significant improvement (p < alpha and the interval below zero); otherwise
 * NO CHANGE (or FAIL when an improvement is required).
 */
import { type BootstrapInterval, bootstrapDifference } from "../../stats/bootstrap.js";
import { hodgesLehmann } from "../../stats/hodges-lehmann.js";
import { mannWhitneyU } from "../../stats/mann-whitney.js";
import { median } from "../../stats/percentile.js";

export interface GateOptions {
  /** Label of the metric in the human line, e.g. "GET p99". */
  label: string;
  /** A candidate worse than the baseline by more than this (%), significantly, fails. */
  maxRegressionPct: number;
  /** Significance level; the intervals are at 1 − alpha. */
  alpha: number;
  /** Fail unless the candidate is significantly better. */
  requireImprovement: boolean;
  /** Seed of the bootstrap's resampling (recorded in the report). */
  seed: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
}

export type Verdict = "PASS" | "NO CHANGE" | "FAIL";
export type Finding = "regression" | "improvement" | "regression within budget" | "no significant change";

/** One metric's comparison: what the gate decides on, and what it reports for the other metrics. */
export interface MetricComparison {
  n_baseline: number;
  n_candidate: number;
  baseline_median: number;
  candidate_median: number;
  /** Mann–Whitney U of the candidate's runs against the baseline's. */
  u: number;
  p_value: number;
  method: string;
  /** Hodges–Lehmann shift candidate − baseline (µs) with its interval (null: too few runs). */
  shift: {
    estimate: number;
    lower: number | null;
    upper: number | null;
    confidence: number | null;
    method: string;
  };
  /** The shift relative to the baseline's median (%), and its interval. */
  change_pct: number;
  change_ci_pct: [number, number] | null;
  finding: Finding;
}

export interface GateReport extends MetricComparison {
  verdict: Verdict;
  label: string;
  alpha: number;
  max_regression_pct: number;
  /** Percentile bootstrap of median(candidate) − median(baseline), µs. */
  bootstrap: BootstrapInterval & { statistic: string };
  seed: number;
  /** Share of candidate runs within the regression budget of the baseline median. */
  pass_rate: number;
  baseline: number[];
  candidate: number[];
  line: string;
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));
const roundOrNull = (v: number | null, digits: number) => (v === null ? null : round(v, digits));

/** "−18.2" / "+3.0" with a real minus sign. */
function signed(v: number, digits = 1): string {
  return `${v < 0 ? "−" : "+"}${Math.abs(v).toFixed(digits)}`;
}

function formatP(p: number): string {
  return p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`;
}

/** Pure: the statistics of one metric and what they show at level alpha. */
export function compareMetric(
  baseline: readonly number[],
  candidate: readonly number[],
  alpha: number,
  maxRegressionPct: number,
): MetricComparison {
  const test = mannWhitneyU(candidate, baseline);
  const hl = hodgesLehmann(candidate, baseline, alpha);
  const b = median(baseline);
  const rel = (v: number) => (b === 0 ? 0 : (v / b) * 100);
  const change = rel(hl.estimate);
  const significant = test.p < alpha;
  let finding: Finding = "no significant change";
  if (significant && hl.lower !== null && hl.lower > 0) {
    finding = change > maxRegressionPct ? "regression" : "regression within budget";
  } else if (significant && hl.upper !== null && hl.upper < 0) finding = "improvement";
  return {
    n_baseline: baseline.length,
    n_candidate: candidate.length,
    baseline_median: round(b, 3),
    candidate_median: round(median(candidate), 3),
    u: test.u,
    p_value: test.p,
    method: `Mann–Whitney U (${test.method}, two-sided)`,
    shift: {
      estimate: round(hl.estimate, 3),
      lower: roundOrNull(hl.lower, 3),
      upper: roundOrNull(hl.upper, 3),
      confidence: roundOrNull(hl.confidence, 4),
      method: `Hodges–Lehmann, Moses interval (${hl.method})`,
    },
    change_pct: round(change, 2),
    change_ci_pct:
      hl.lower === null || hl.upper === null ? null : [round(rel(hl.lower), 2), round(rel(hl.upper), 2)],
    finding,
  };
}

/** "(95.0 % CI −20.1 … −10.3 %)" or why there is none. */
function intervalText(m: MetricComparison): string {
  if (m.change_ci_pct === null || m.shift.confidence === null) {
    return `(no interval at this level from ${m.n_baseline} and ${m.n_candidate} runs)`;
  }
  const [lo, hi] = m.change_ci_pct;
  return `(${(Math.floor(m.shift.confidence * 1000) / 10).toFixed(1)} % CI ${signed(lo)} … ${signed(hi)} %)`;
}

/**
 * Pure: the verdict and its one human line
 * ("GET p99 9.9 µs → 8.3 µs, shift −1.6 µs = −16.2 % (96.8 % CI −20.1 … −10.3 %), p = 0.016, PASS").
 */
export function judge(
  baseline: readonly number[],
  candidate: readonly number[],
  opts: GateOptions,
): GateReport {
  const m = compareMetric(baseline, candidate, opts.alpha, opts.maxRegressionPct);
  const boot = bootstrapDifference(baseline, candidate, {
    seed: opts.seed,
    resamples: opts.resamples,
    alpha: opts.alpha,
  });
  let verdict: Verdict;
  let why = "";
  if (m.finding === "regression") {
    verdict = "FAIL";
    why = ` (regression over ${opts.maxRegressionPct} %)`;
  } else if (m.finding === "improvement") verdict = "PASS";
  else {
    verdict = opts.requireImprovement ? "FAIL" : "NO CHANGE";
    if (opts.requireImprovement) why = " (no significant improvement)";
    else if (m.finding === "regression within budget")
      why = ` (within the ${opts.maxRegressionPct} % budget)`;
  }
  const budget = median(baseline) * (1 + opts.maxRegressionPct / 100);
  const passRate = candidate.filter((v) => v <= budget).length / candidate.length;
  const line =
    `${opts.label} ${round(m.baseline_median, 2)} µs → ${round(m.candidate_median, 2)} µs, ` +
    `shift ${signed(m.shift.estimate, 2)} µs = ${signed(m.change_pct)} % ${intervalText(m)}, ` +
    `${formatP(m.p_value)}, ${verdict}${why}`;
  return {
    verdict,
    label: opts.label,
    ...m,
    alpha: opts.alpha,
    max_regression_pct: opts.maxRegressionPct,
    bootstrap: {
      statistic: "median(candidate) − median(baseline)",
      estimate: round(boot.estimate, 3),
      lower: round(boot.lower, 3),
      upper: round(boot.upper, 3),
      confidence: boot.confidence,
      resamples: boot.resamples,
      seed: boot.seed,
    },
    seed: opts.seed,
    pass_rate: round(passRate, 3),
    baseline: [...baseline],
    candidate: [...candidate],
    line,
  };
}
