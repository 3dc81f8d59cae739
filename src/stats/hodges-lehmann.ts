/**
 * The Hodges–Lehmann estimate of the shift between two samples (the median of all pairwise
 * differences x − y) and its distribution-free confidence interval (Moses): the k-th smallest and
 * k-th largest differences, k from the Mann–Whitney U distribution's lower critical value.
 */
import { chooseMethod, exactUDistribution, tieGroups, type UMethod } from "./mann-whitney.js";
import { normalQuantile } from "./normal.js";
import { quantileSorted } from "./percentile.js";

export interface ShiftEstimate {
  /** Median of x_i − y_j over all pairs: how far x sits above y. */
  estimate: number;
  /** Confidence interval of the shift; null when the samples are too small for this level. */
  lower: number | null;
  upper: number | null;
  /** Coverage the interval achieves (exact: at least the nominal level, discreteness). */
  confidence: number | null;
  /** Rank of the bounds among the sorted differences (1-based from each end). */
  k: number;
  method: UMethod;
}

/** All n1·n2 differences x_i − y_j, sorted ascending. */
export function pairwiseDifferences(x: readonly number[], y: readonly number[]): Float64Array {
  const d = new Float64Array(x.length * y.length);
  let i = 0;
  for (const a of x) for (const b of y) d[i++] = a - b;
  return d.sort();
}

/**
 * The largest k ≥ 1 with P(U ≤ k − 1) ≤ α/2, and the coverage 1 − 2·P(U ≤ k − 1) it gives;
 * k = 0 when even the extreme differences do not reach the level.
 */
export function exactCriticalRank(n1: number, n2: number, alpha: number): { k: number; confidence: number } {
  const dist = exactUDistribution(n1, n2);
  let cdf = 0;
  let k = 0;
  // a relative allowance so that a tail equal to α/2 in exact arithmetic is not lost to rounding
  while (k < dist.length && cdf + dist[k] <= (alpha / 2) * (1 + 1e-12)) cdf += dist[k++];
  return { k, confidence: 1 - 2 * cdf };
}

/**
 * Large samples: k = ⌊n1·n2/2 − z(1−α/2)·√(n1·n2·(n1+n2+1)/12) + ½⌋ (the nearest integer, as in
 * Hollander & Wolfe), with the untied variance: ties only narrow U's spread, so this errs wide.
 */
export function asymptoticCriticalRank(n1: number, n2: number, alpha: number): number {
  const z = normalQuantile(1 - alpha / 2);
  const mn = n1 * n2;
  return Math.max(0, Math.floor(mn / 2 - z * Math.sqrt((mn * (n1 + n2 + 1)) / 12) + 0.5));
}

/** Hodges–Lehmann shift of `x` over `y` with its (1 − α) confidence interval. */
export function hodgesLehmann(
  x: readonly number[],
  y: readonly number[],
  alpha = 0.05,
  method: UMethod | "auto" = "auto",
): ShiftEstimate {
  if (x.length === 0 || y.length === 0)
    throw new RangeError("a shift needs at least one value in each sample");
  const d = pairwiseDifferences(x, y);
  const used =
    method === "auto" ? chooseMethod(x.length, y.length, tieGroups([...x, ...y]).length > 0) : method;
  let k: number;
  let confidence: number;
  if (used === "exact") ({ k, confidence } = exactCriticalRank(x.length, y.length, alpha));
  else {
    k = asymptoticCriticalRank(x.length, y.length, alpha);
    confidence = 1 - alpha;
  }
  const estimate = quantileSorted(d, 0.5);
  if (k < 1 || k > d.length - k + 1) {
    return { estimate, lower: null, upper: null, confidence: null, k, method: used };
  }
  return { estimate, lower: d[k - 1], upper: d[d.length - k], confidence, k, method: used };
}
