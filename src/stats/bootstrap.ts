/**
 * Percentile bootstrap of the difference of a statistic between two samples (candidate minus
 * baseline), each resampled with replacement on its own; seeded, so the interval replays.
 */
import { quantile } from "./percentile.js";
import { mulberry32, randomIndex } from "./random.js";

export interface BootstrapInterval {
  /** statistic(candidate) − statistic(baseline) on the samples themselves. */
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
  seed: number;
}

function resample(values: readonly number[], next: () => number): number[] {
  return Array.from({ length: values.length }, () => values[randomIndex(next, values.length)]);
}

/** (1 − α) interval of statistic(candidate) − statistic(baseline) from `resamples` resamples. */
export function bootstrapDifference(
  baseline: readonly number[],
  candidate: readonly number[],
  statistic: (values: readonly number[]) => number,
  opts: { seed: number; resamples?: number; alpha?: number },
): BootstrapInterval {
  if (baseline.length === 0 || candidate.length === 0) {
    throw new RangeError("a bootstrap needs at least one value in each sample");
  }
  const resamples = opts.resamples ?? 2000;
  const alpha = opts.alpha ?? 0.05;
  const rng = mulberry32(opts.seed);
  const diffs = new Array<number>(resamples);
  for (let i = 0; i < resamples; i++) {
    const b = resample(baseline, rng);
    const c = resample(candidate, rng);
    diffs[i] = statistic(c) - statistic(b);
  }
  return {
    estimate: statistic(candidate) - statistic(baseline),
    lower: quantile(diffs, alpha / 2),
    upper: quantile(diffs, 1 - alpha / 2),
    confidence: 1 - alpha,
    resamples,
    seed: opts.seed,
  };
}
