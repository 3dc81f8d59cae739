/**
 * The Mann–Whitney U test (Wilcoxon rank-sum), two-sided, as scipy.stats.mannwhitneyu computes it:
 * U of the first sample; the exact permutation distribution of U when there are no ties and a
 * sample is small, otherwise the normal approximation with tie and continuity corrections.
 */
import { normalSurvival } from "./normal.js";

export type UMethod = "exact" | "asymptotic";

export interface MannWhitneyResult {
  /** U statistic of the first sample: pairs (x, y) with x > y, ties counted ½. */
  u: number;
  /** Two-sided p-value. */
  p: number;
  method: UMethod;
  n1: number;
  n2: number;
  /** Whether the pooled sample has equal values (the exact distribution then does not apply). */
  ties: boolean;
}

/**
 * `auto` uses the exact distribution when there are no ties and the smaller sample has at most
 * this many values (scipy's `auto` stops at 8; the exact p-value is the better one wherever it
 * can be computed, and up to 20 against any size it costs milliseconds).
 */
export const EXACT_MAX = 20;

/** Mid-ranks (1-based) of `values`, ties sharing the mean of their ranks. */
export function midRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Sizes of the groups of equal values (only groups larger than one). */
export function tieGroups(values: readonly number[]): number[] {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.values()].filter((c) => c > 1);
}

const cache = new Map<string, Float64Array>();

/**
 * P(U = u) for u in 0..n1·n2 under the null hypothesis with no ties: every arrangement of the
 * pooled ranks equally likely. Dynamic programming on probabilities (no overflowing counts):
 * the largest of m + n values is an x with probability m/(m+n), and then beats all n y's, so
 * p(m, n, u) = m/(m+n) · p(m−1, n, u−n) + n/(m+n) · p(m, n−1, u).
 */
export function exactUDistribution(n1: number, n2: number): Float64Array {
  const key = `${n1},${n2}`;
  const hit = cache.get(key);
  if (hit) return hit;
  // prev[n] = distribution for (m−1, n); cur[n] = for (m, n)
  let prev: Float64Array[] = Array.from({ length: n2 + 1 }, () => Float64Array.of(1));
  for (let m = 1; m <= n1; m++) {
    const cur: Float64Array[] = [Float64Array.of(1)];
    for (let n = 1; n <= n2; n++) {
      const row = new Float64Array(m * n + 1);
      const a = prev[n];
      const b = cur[n - 1];
      const wa = m / (m + n);
      const wb = n / (m + n);
      for (let u = 0; u < row.length; u++) {
        row[u] = (u >= n && u - n < a.length ? wa * a[u - n] : 0) + (u < b.length ? wb * b[u] : 0);
      }
      cur.push(row);
    }
    prev = cur;
  }
  const dist = prev[n2];
  if (cache.size > 64) cache.clear();
  cache.set(key, dist);
  return dist;
}

/** P(U ≤ u) under the exact null distribution, summed from the small end. */
export function exactUCdf(n1: number, n2: number, u: number): number {
  const dist = exactUDistribution(n1, n2);
  let s = 0;
  for (let k = 0; k <= Math.min(u, dist.length - 1); k++) s += dist[k];
  return Math.min(1, s);
}

/** Which method `auto` picks for these sizes. */
export function chooseMethod(n1: number, n2: number, ties: boolean): UMethod {
  return !ties && Math.min(n1, n2) <= EXACT_MAX ? "exact" : "asymptotic";
}

/** Two-sided Mann–Whitney U test of whether `x` and `y` come from the same distribution. */
export function mannWhitneyU(
  x: readonly number[],
  y: readonly number[],
  method: UMethod | "auto" = "auto",
): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError("Mann–Whitney U needs at least one value in each sample");
  const all = [...x, ...y];
  const ranks = midRanks(all);
  const r1 = ranks.slice(0, n1).reduce((s, r) => s + r, 0);
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const ties = tieGroups(all);
  const used = method === "auto" ? chooseMethod(n1, n2, ties.length > 0) : method;
  const base = { u, n1, n2, ties: ties.length > 0, method: used };
  // U₁ and U₂ = n1·n2 − U₁: the larger one's upper tail, doubled (the distribution is symmetric)
  const upper = Math.max(u, n1 * n2 - u);
  if (used === "exact") {
    // P(U ≥ upper) = P(U ≤ n1·n2 − upper) by symmetry, summed over the small terms first
    const tail = exactUCdf(n1, n2, Math.ceil(n1 * n2 - upper));
    return { ...base, p: Math.min(1, 2 * tail) };
  }
  const n = n1 + n2;
  const tieTerm = ties.reduce((s, t) => s + t ** 3 - t, 0);
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sigma === 0 || Number.isNaN(sigma)) return { ...base, p: 1 };
  const z = (upper - (n1 * n2) / 2 - 0.5) / sigma;
  return { ...base, p: Math.min(1, 2 * normalSurvival(z)) };
}
