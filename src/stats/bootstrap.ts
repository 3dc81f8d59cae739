/**
 * Percentile bootstrap of the difference of a quantile (the median by default) between two samples
 * (candidate minus baseline), each resampled with replacement on its own; seeded, so the interval
 * replays.
 */
import { quantile, quantileSorted } from "./percentile.js";
import { mulberry32, randomIndex } from "./random.js";

export interface BootstrapInterval {
  /** quantile(candidate) − quantile(baseline) on the samples themselves. */
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
  seed: number;
}

/** A resample's q-quantile, into a reused buffer (typed arrays sort numerically and fast). */
function resampledQuantile(
  values: readonly number[],
  buf: Float64Array,
  next: () => number,
  q: number,
): number {
  for (let i = 0; i < buf.length; i++) buf[i] = values[randomIndex(next, values.length)];
  return quantileSorted(buf.sort(), q);
}

/** (1 − α) interval of quantile_q(candidate) − quantile_q(baseline) from `resamples` resamples. */
export function bootstrapDifference(
  baseline: readonly number[],
  candidate: readonly number[],
  opts: { seed: number; resamples?: number; alpha?: number; q?: number },
): BootstrapInterval {
  if (baseline.length === 0 || candidate.length === 0) {
    throw new RangeError("a bootstrap needs at least one value in each sample");
  }
  const resamples = opts.resamples ?? 2000;
  const alpha = opts.alpha ?? 0.05;
  const q = opts.q ?? 0.5;
  const rng = mulberry32(opts.seed);
  const b = new Float64Array(baseline.length);
  const c = new Float64Array(candidate.length);
  const diffs = new Array<number>(resamples);
  for (let i = 0; i < resamples; i++) {
    // the baseline's resample first, then the candidate's: the order the reference script replays
    const qb = resampledQuantile(baseline, b, rng, q);
    diffs[i] = resampledQuantile(candidate, c, rng, q) - qb;
  }
  return {
    estimate: quantile(candidate, q) - quantile(baseline, q),
    lower: quantile(diffs, alpha / 2),
    upper: quantile(diffs, 1 - alpha / 2),
    confidence: 1 - alpha,
    resamples,
    seed: opts.seed,
  };
}
