import { describe, expect, it } from "vitest";
import { bootstrapDifference } from "../../src/stats/bootstrap.js";
import { quantile } from "../../src/stats/percentile.js";
import { gaussian, mulberry32, newSeed, randomIndex, SEED_LIMIT } from "../../src/stats/random.js";

const planted = (seed: number, n: number, mean: number, sd: number) => {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => mean + sd * gaussian(rng));
};

describe("seeded generator", () => {
  it("replays for a seed, differs between seeds, stays in [0, 1)", () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });

  it("gaussian variates have mean 0 and sd 1; indices stay in range; seeds are 32-bit", () => {
    const g = planted(3, 20_000, 0, 1);
    const mean = g.reduce((s, v) => s + v, 0) / g.length;
    const sd = Math.sqrt(g.reduce((s, v) => s + (v - mean) ** 2, 0) / g.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
    expect(Math.abs(quantile(g, 0.975) - 1.96)).toBeLessThan(0.06);
    const rng = mulberry32(1);
    const idx = Array.from({ length: 500 }, () => randomIndex(rng, 3));
    expect(new Set(idx)).toEqual(new Set([0, 1, 2]));
    const s = newSeed();
    expect(Number.isInteger(s) && s >= 0 && s < SEED_LIMIT).toBe(true);
  });
});

describe("bootstrapDifference", () => {
  const base = planted(11, 100, 60, 3);
  const shifted = planted(12, 50, 66, 3);

  it("replays with the same seed and moves with another", () => {
    const a = bootstrapDifference(base, shifted, { seed: 99 });
    expect(bootstrapDifference(base, shifted, { seed: 99 })).toEqual(a);
    const b = bootstrapDifference(base, shifted, { seed: 100 });
    expect([b.lower, b.upper]).not.toEqual([a.lower, a.upper]);
    expect(a).toMatchObject({ seed: 99, resamples: 2000, confidence: 0.95 });
  });

  it("brackets a planted shift of +6 and excludes zero; brackets zero when nothing moved", () => {
    const a = bootstrapDifference(base, shifted, { seed: 5 });
    expect(a.lower).toBeLessThan(6);
    expect(a.upper).toBeGreaterThan(6);
    expect(a.lower).toBeGreaterThan(0);
    const same = bootstrapDifference(base, planted(13, 50, 60, 3), { seed: 5 });
    expect(same.lower).toBeLessThan(0);
    expect(same.upper).toBeGreaterThan(0);
  });

  it("refuses an empty sample", () => {
    expect(() => bootstrapDifference([], [1], { seed: 1 })).toThrow(RangeError);
  });
});
