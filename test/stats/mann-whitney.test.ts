import { describe, expect, it } from "vitest";
import { exactUCounts, mannWhitneyU, midRanks } from "../../src/stats/mann-whitney.js";
import { erfc, normalSurvival } from "../../src/stats/normal.js";
import { median, quantile } from "../../src/stats/percentile.js";

// Reference values from scipy 1.17.1: mannwhitneyu(x, y, alternative="two-sided", method=…)
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
      "20 vs 20, asymptotic",
      Array.from({ length: 20 }, (_, i) => i + 0.5),
      Array.from({ length: 20 }, (_, i) => i + 3.25),
      153,
      0.20845355458876536,
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

  it("exact U counts sum to C(n1+n2, n1) and are symmetric", () => {
    const c = exactUCounts(3, 4);
    expect(c.reduce((s, v) => s + v, 0)).toBe(35);
    expect(c).toEqual([...c].reverse());
    expect(c).toEqual([1, 1, 2, 3, 4, 4, 5, 4, 4, 3, 2, 1, 1]);
  });

  it("erfc and the normal tail match known values", () => {
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(1)).toBeCloseTo(0.157299207050285, 7);
    expect(erfc(-1)).toBeCloseTo(1.842700792949715, 7);
    expect(normalSurvival(1.959963984540054)).toBeCloseTo(0.025, 7);
  });

  it("quantiles interpolate like numpy.percentile", () => {
    const v = [1, 2, 3, 4, 10];
    expect(median(v)).toBe(3);
    expect(quantile(v, 0.99)).toBeCloseTo(9.76, 10);
    expect(quantile(v, 0.999)).toBeCloseTo(9.976, 10);
  });
});
