/**
 * The Mann–Whitney U test (Wilcoxon rank-sum), two-sided, as scipy.stats.mannwhitneyu computes it:
 * U of the first sample, the exact distribution when a sample is small and there are no ties,
 * otherwise the normal approximation with tie correction and continuity correction.
 */
import { normalSurvival } from "./normal.js";

export interface MannWhitneyResult {
  /** U statistic of the first sample: pairs (x, y) with x > y, ties counted ½. */
  u: number;
  /** Two-sided p-value. */
  p: number;
  method: "exact" | "asymptotic";
}

/** Sizes up to which (with no ties) the exact distribution is used. */
export const EXACT_MAX = 8;

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
function tieGroups(values: readonly number[]): number[] {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.values()].filter((c) => c > 1);
}

/** Number of arrangements giving each U in 0..n1·n2 (no ties), by the classic recurrence. */
export function exactUCounts(n1: number, n2: number): number[] {
  // f[m][n] over u, built up column by column: f(m,n,u) = f(m-1,n,u-n) + f(m,n-1,u)
  let prev: number[][] = Array.from({ length: n2 + 1 }, () => [1]);
  for (let m = 1; m <= n1; m++) {
    const cur: number[][] = [[1]];
    for (let n = 1; n <= n2; n++) {
      const size = m * n + 1;
      const row = new Array<number>(size).fill(0);
      const a = prev[n];
      const b = cur[n - 1];
      for (let u = 0; u < size; u++) row[u] = (u - n >= 0 ? (a[u - n] ?? 0) : 0) + (b[u] ?? 0);
      cur.push(row);
    }
    prev = cur;
  }
  return prev[n2];
}

/** Two-sided Mann–Whitney U test of whether `x` and `y` come from the same distribution. */
export function mannWhitneyU(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError("Mann–Whitney U needs at least one value in each sample");
  const all = [...x, ...y];
  const ranks = midRanks(all);
  const r1 = ranks.slice(0, n1).reduce((s, r) => s + r, 0);
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const ties = tieGroups(all);
  if (ties.length === 0 && Math.min(n1, n2) <= EXACT_MAX) {
    const counts = exactUCounts(n1, n2);
    const total = counts.reduce((s, c) => s + c, 0);
    const upper = Math.max(u, n1 * n2 - u);
    let tail = 0;
    for (let k = upper; k <= n1 * n2; k++) tail += counts[k];
    return { u, p: Math.min(1, (2 * tail) / total), method: "exact" };
  }
  const n = n1 + n2;
  const tieTerm = ties.reduce((s, t) => s + t ** 3 - t, 0);
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const mean = (n1 * n2) / 2;
  if (sigma === 0) return { u, p: 1, method: "asymptotic" };
  const z = (Math.abs(u - mean) - 0.5) / sigma;
  return { u, p: Math.min(1, 2 * normalSurvival(Math.max(z, 0))), method: "asymptotic" };
}
