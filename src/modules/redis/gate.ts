/** The latency gate's verdict: candidate runs against baseline runs, by a Mann–Whitney U test. */
import { mannWhitneyU } from "../../stats/mann-whitney.js";
import { median } from "../../stats/percentile.js";

export interface GateOptions {
  /** Label of the metric in the human line, e.g. "p99". */
  label: string;
  /** A candidate worse than the baseline by more than this (%), significantly, fails. */
  maxRegressionPct: number;
  /** Significance level. */
  alpha: number;
  /** Fail unless the candidate is significantly better (the Phase 3 plan's "accept only if it improves"). */
  requireImprovement: boolean;
}

export type Verdict = "PASS" | "NO CHANGE" | "FAIL";

export interface GateReport {
  verdict: Verdict;
  label: string;
  baseline_median: number;
  candidate_median: number;
  change_pct: number;
  p_value: number;
  u: number;
  method: string;
  alpha: number;
  max_regression_pct: number;
  /** Share of candidate runs within the regression budget of the baseline median. */
  pass_rate: number;
  baseline: number[];
  candidate: number[];
  line: string;
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));

/** "−18.2 %" / "+3.0 %" with a real minus sign. */
function signedPct(pct: number): string {
  return `${pct < 0 ? "−" : "+"}${Math.abs(pct).toFixed(1)} %`;
}

function formatP(p: number): string {
  return p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`;
}

/** Pure: the verdict and its one human line ("p99 9.81 µs → 8.02 µs, −18.2 %, p = 0.016, PASS"). */
export function judge(
  baseline: readonly number[],
  candidate: readonly number[],
  opts: GateOptions,
): GateReport {
  const test = mannWhitneyU(candidate, baseline);
  const b = median(baseline);
  const c = median(candidate);
  const change = b === 0 ? 0 : ((c - b) / b) * 100;
  const significant = test.p < opts.alpha;
  let verdict: Verdict;
  let why = "";
  if (change > opts.maxRegressionPct && significant) {
    verdict = "FAIL";
    why = ` (regression over ${opts.maxRegressionPct} %)`;
  } else if (change < 0 && significant) verdict = "PASS";
  else {
    verdict = opts.requireImprovement ? "FAIL" : "NO CHANGE";
    if (opts.requireImprovement) why = " (no significant improvement)";
  }
  const budget = b * (1 + opts.maxRegressionPct / 100);
  const passRate = candidate.filter((v) => v <= budget).length / candidate.length;
  const line = `${opts.label} ${round(b, 2)} µs → ${round(c, 2)} µs, ${signedPct(change)}, ${formatP(test.p)}, ${verdict}${why}`;
  return {
    verdict,
    label: opts.label,
    baseline_median: round(b, 3),
    candidate_median: round(c, 3),
    change_pct: round(change, 2),
    p_value: test.p,
    u: test.u,
    method: `Mann–Whitney U (${test.method}, two-sided)`,
    alpha: opts.alpha,
    max_regression_pct: opts.maxRegressionPct,
    pass_rate: round(passRate, 3),
    baseline: [...baseline],
    candidate: [...candidate],
    line,
  };
}
