/**
 * tickless's statistics against independent reference values: scipy's Mann–Whitney U (exact and
 * asymptotic p-values), numpy's Hodges–Lehmann median, Moses intervals from exact integer counts,
 * a Python mulberry32 and bootstrap. Regenerate with fixtures/make-reference.py (needs scipy).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bootstrapDifference } from "../../src/stats/bootstrap.js";
import { hodgesLehmann } from "../../src/stats/hodges-lehmann.js";
import { mannWhitneyU } from "../../src/stats/mann-whitney.js";
import { mulberry32 } from "../../src/stats/random.js";

interface Interval {
  k: number;
  lower: number | null;
  upper: number | null;
  confidence: number | null;
}
interface Case {
  name: string;
  x: number[];
  y: number[];
  ties: boolean;
  u: number;
  p_asymptotic: number;
  p_exact?: number;
  hl: number;
  ci_exact?: Interval;
  ci_asymptotic: Interval;
}
const ref = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", "reference.json"), "utf8"));
const cases = ref.cases as Case[];
const TOL = 1e-9;

describe(`Mann–Whitney U against scipy ${ref.scipy}`, () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s: U and the asymptotic p-value", (_n, c) => {
    const r = mannWhitneyU(c.x, c.y, "asymptotic");
    expect(r.u).toBe(c.u);
    expect(r.ties).toBe(c.ties);
    expect(Math.abs(r.p - c.p_asymptotic)).toBeLessThan(TOL);
  });

  const exact = cases.filter((c) => c.p_exact !== undefined);
  it("covers small, unequal and 20-value samples exactly", () => {
    expect(exact.length).toBeGreaterThanOrEqual(6);
  });
  it.each(exact.map((c) => [c.name, c] as const))("%s: the exact p-value", (_n, c) => {
    const r = mannWhitneyU(c.x, c.y, "exact");
    expect(r.u).toBe(c.u);
    expect(Math.abs(r.p - (c.p_exact as number))).toBeLessThan(TOL);
    // auto takes the exact distribution here (no ties, a sample of at most 20)
    expect(mannWhitneyU(c.x, c.y)).toMatchObject({ method: "exact", p: r.p });
  });

  it.each(
    cases.filter((c) => c.ties || Math.min(c.x.length, c.y.length) > 20).map((c) => [c.name, c] as const),
  )("%s: auto falls back to the normal approximation", (_n, c) => {
    expect(mannWhitneyU(c.x, c.y).method).toBe("asymptotic");
  });
});

describe("Hodges–Lehmann shift and its Moses interval", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    const check = (got: ReturnType<typeof hodgesLehmann>, want: Interval) => {
      expect(Math.abs(got.estimate - c.hl)).toBeLessThan(TOL);
      expect(got.k).toBe(want.k);
      for (const key of ["lower", "upper", "confidence"] as const) {
        if (want[key] === null) expect(got[key]).toBeNull();
        else expect(Math.abs((got[key] as number) - (want[key] as number))).toBeLessThan(TOL);
      }
    };
    check(hodgesLehmann(c.x, c.y, ref.alpha, "asymptotic"), c.ci_asymptotic);
    if (c.ci_exact) check(hodgesLehmann(c.x, c.y, ref.alpha, "exact"), c.ci_exact);
  });

  it("the exact interval covers at least the nominal level, and is null when no rank reaches it", () => {
    const covered = cases.filter((c) => c.ci_exact?.confidence != null);
    expect(covered.length).toBeGreaterThan(4);
    for (const c of covered) expect(c.ci_exact?.confidence).toBeGreaterThanOrEqual(0.95);
    // 3 vs 3: the smallest two-sided tail is 2/20 = 0.1 > 0.05
    expect(hodgesLehmann([1, 2, 3], [4, 5, 6], 0.05)).toMatchObject({ lower: null, upper: null, k: 0 });
    expect(hodgesLehmann([1, 2, 3], [4, 5, 6], 0.1)).toMatchObject({ lower: -5, upper: -1, k: 1 });
  });
});

describe("seeded randomness", () => {
  it("mulberry32 gives the reference sequence", () => {
    const next = mulberry32(ref.mulberry32.seed);
    for (const want of ref.mulberry32.first as number[]) expect(next()).toBe(want);
    expect(mulberry32(ref.mulberry32_large_seed.seed)()).toBe(ref.mulberry32_large_seed.first[0]);
  });

  it("the bootstrap of the difference of medians matches the reference resampling", () => {
    const b = ref.bootstrap;
    const r = bootstrapDifference(b.baseline, b.candidate, {
      seed: b.seed,
      resamples: b.resamples,
      alpha: b.alpha,
    });
    expect(Math.abs(r.estimate - b.estimate)).toBeLessThan(TOL);
    expect(Math.abs(r.lower - b.lower)).toBeLessThan(TOL);
    expect(Math.abs(r.upper - b.upper)).toBeLessThan(TOL);
    expect(r).toMatchObject({ seed: b.seed, resamples: b.resamples, confidence: 0.95 });
  });
});
