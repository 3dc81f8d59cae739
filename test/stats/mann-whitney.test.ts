import { describe, expect, it } from "vitest";
import { exactUCdf, exactUDistribution, mannWhitneyU, midRanks } from "../../src/stats/mann-whitney.js";
import { erfc, normalCdf, normalQuantile, normalSurvival } from "../../src/stats/normal.js";
import { median, quantile } from "../../src/stats/percentile.js";

// scipy 1.17.1: mannwhitneyu(x, y, alternative="two-sided"); 8 vs 10 values and no ties: exact up to 20
// (scipy's auto: asymptotic above 8 a side); more cases to 1e-9 in reference.test.ts
describe("mannWhitneyU", () => {
  it.each([
    ["disjoint, exact", [1.1, 2.2, 3.3, 4.4], [5.5, 6.6, 7.7, 8.8, 9.9], 0, 0.015873015873015872, "exact"],
    [
      "overlapping, exact",
      [9.81, 9.9, 10.2, 9.7, 10.1],
      [8.02, 8.4, 9.75, 8.1, 8.3],
      24,
      0.015873015873015872,
      "exact",
    ],
    [
      "ties, asymptotic",
      [1, 2, 2, 3, 3, 3, 4, 5, 6, 7],
      [3, 4, 4, 5, 5, 6, 7, 8, 8, 9],
      19.5,
      0.022208730897883666,
      "asymptotic",
    ],
    [
      "20 vs 20, exact",
      Array.from({ length: 20 }, (_, i) => i + 0.5),
      Array.from({ length: 20 }, (_, i) => i + 3.25),
      153,
      0.21096432724812078,
      "exact",
    ],
    [
      "21 vs 22, asymptotic",
      Array.from({ length: 21 }, (_, i) => i + 0.5),
      Array.from({ length: 22 }, (_, i) => i + 3.25),
      171,
      0.14827810191656352,
      "asymptotic",
    ],
  ] as const)("%s matches scipy", (_name, x, y, u, p, method) => {
    const r = mannWhitneyU(x, y);
    expect(r.u).toBe(u);
    expect(r.method).toBe(method);
    expect(r.p).toBeCloseTo(p, 6);
  });

  it("is symmetric in its p-value and gives U₁ + U₂ = n₁n₂", () => {
    const x = [3, 1, 4, 1.5, 9, 2.6];
    const y = [5, 3.5, 8, 9.7, 9.3];
    const a = mannWhitneyU(x, y);
    const b = mannWhitneyU(y, x);
    expect(a.p).toBeCloseTo(b.p, 12);
    expect(a.u + b.u).toBe(30);
  });

  it("gives p = 1 when every value is equal", () => {
    expect(mannWhitneyU([2, 2, 2], [2, 2, 2]).p).toBe(1);
  });

  it("refuses an empty sample", () => {
    expect(() => mannWhitneyU([], [1])).toThrow(RangeError);
  });
});

describe("building blocks", () => {
  it("mid-ranks share ties", () => {
    expect(midRanks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });

  it("the exact U distribution is the arrangement counts over C(n1+n2, n1), and symmetric", () => {
    const counts = Array.from(exactUDistribution(3, 4), (p) => Math.round(p * 35));
    expect(counts).toEqual([1, 1, 2, 3, 4, 4, 5, 4, 4, 3, 2, 1, 1]);
    const d = exactUDistribution(20, 100);
    expect(d.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    let c120 = 1; // C(120, 20) = 2.946e22
    for (let i = 1; i <= 20; i++) c120 = (c120 * (100 + i)) / i;
    expect(d[0] * c120).toBeCloseTo(1, 12);
    expect(d[7]).toBeCloseTo(d[2000 - 7], 30);
    expect(exactUCdf(3, 4, 12)).toBe(1);
  });

  it("erfc and the normal tail match known values", () => {
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(1)).toBeCloseTo(0.157299207050285, 7);
    expect(erfc(-1)).toBeCloseTo(1.842700792949715, 7);
    expect(normalSurvival(1.959963984540054)).toBeCloseTo(0.025, 15);
    expect(normalCdf(-8)).toBeCloseTo(6.22096057427174e-16, 28);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 13);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });

  it("quantiles interpolate like numpy.percentile", () => {
    const v = [1, 2, 3, 4, 10];
    expect(median(v)).toBe(3);
    expect(quantile(v, 0.99)).toBeCloseTo(9.76, 10);
    expect(quantile(v, 0.999)).toBeCloseTo(9.976, 10);
  });
});
