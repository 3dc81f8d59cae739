import { describe, expect, it } from "vitest";
import { judge } from "../../src/modules/redis/gate.js";
import { compareAll, metricValues } from "../../src/modules/redis/perf_gate.js";
import { gaussian, mulberry32 } from "../../src/stats/random.js";

const opts = { label: "p99", maxRegressionPct: 5, alpha: 0.05, requireImprovement: false, seed: 1 };

/** Per-run p99s around `center` µs with a relative spread `sd` (log-normal), from a seed. */
function planted(seed: number, n: number, center: number, sd: number, round = false): number[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const v = center * Math.exp(sd * gaussian(rng));
    return round ? Math.round(v) : v;
  });
}

/** The human line's shape (also asserted by the lab and VM tests). */
const LINE =
  /^p99 [\d.]+ µs → [\d.]+ µs, shift [−+][\d.]+ µs = [−+][\d.]+ % \((?:[\d.]+ % CI [−+][\d.]+ … [−+][\d.]+ %|no interval at this level from \d+ and \d+ runs)\), p [=<] [\d.]+, (PASS|NO CHANGE|FAIL)/;

describe("judge on planted distributions (100 baseline runs, 50 candidate runs, 20 seeds each)", () => {
  it.each([
    // name, candidate center, relative spread, round to whole µs (ties), verdicts expected over 20 seeds
    ["equal", 60, 0.03, false, { "NO CHANGE": [18, 20] }],
    ["shifted up 10 %", 66, 0.03, false, { FAIL: [20, 20] }],
    ["shifted down 10 %", 54, 0.03, false, { PASS: [20, 20] }],
    ["shifted up 10 %, whole µs (ties)", 66, 0.03, true, { FAIL: [20, 20] }],
    ["shifted up 3 % (within the 5 % budget)", 61.8, 0.01, false, { "NO CHANGE": [20, 20] }],
    ["noisy (spread 60 %), shifted up 10 %", 66, 0.6, false, { "NO CHANGE": [12, 20] }],
  ] as const)("%s", (_name, center, sd, round, want) => {
    const counts: Record<string, number> = {};
    for (let s = 0; s < 20; s++) {
      const base = planted(1000 + s, 100, 60, sd, round);
      const cand = planted(2000 + s, 50, center, sd, round);
      const r = judge(base, cand, { ...opts, seed: s, resamples: 200 });
      counts[r.verdict] = (counts[r.verdict] ?? 0) + 1;
      expect(r.line).toMatch(LINE);
      // the verdict follows the evidence it reports
      if (r.verdict === "FAIL") {
        expect(r.p_value).toBeLessThan(0.05);
        expect(r.shift.lower).toBeGreaterThan(0);
        expect(r.change_pct).toBeGreaterThan(5);
      }
      if (r.verdict === "PASS") {
        expect(r.p_value).toBeLessThan(0.05);
        expect(r.shift.upper).toBeLessThan(0);
      }
    }
    for (const [verdict, [lo, hi]] of Object.entries(want)) {
      expect(counts[verdict] ?? 0).toBeGreaterThanOrEqual(lo);
      expect(counts[verdict] ?? 0).toBeLessThanOrEqual(hi);
    }
  });

  it("a 10 % shift up is estimated as about +10 %, its interval holds it, the bootstrap agrees", () => {
    const r = judge(planted(7, 100, 60, 0.03), planted(8, 50, 66, 0.03), { ...opts, seed: 42 });
    expect(r.verdict).toBe("FAIL");
    expect(r.change_pct).toBeGreaterThan(8);
    expect(r.change_pct).toBeLessThan(12);
    const [lo, hi] = r.change_ci_pct as [number, number];
    expect(lo).toBeLessThan(10);
    expect(hi).toBeGreaterThan(10);
    expect(r.bootstrap.lower).toBeGreaterThan(0);
    expect(r.bootstrap.lower).toBeLessThan(6);
    expect(r.bootstrap.upper).toBeGreaterThan(6);
    expect(r).toMatchObject({
      n_baseline: 100,
      n_candidate: 50,
      seed: 42,
      method: expect.stringMatching(/asymptotic/),
    });
    expect(r.bootstrap).toMatchObject({ seed: 42, resamples: 2000, confidence: 0.95 });
    expect(r.shift.method).toBe("Hodges–Lehmann, Moses interval (asymptotic)");
  });

  it("replays: the same seed gives the same report, another seed moves only the bootstrap", () => {
    const base = planted(3, 100, 60, 0.05);
    const cand = planted(4, 50, 63, 0.05);
    const a = judge(base, cand, { ...opts, seed: 9 });
    expect(judge(base, cand, { ...opts, seed: 9 })).toEqual(a);
    const b = judge(base, cand, { ...opts, seed: 10 });
    expect(b.bootstrap).not.toEqual(a.bootstrap);
    expect({ ...b, bootstrap: a.bootstrap, seed: 9 }).toEqual(a);
  });
});

describe("judge: the verdict and its line", () => {
  it("passes a significant improvement (exact test, 5 a side)", () => {
    const r = judge([9.81, 9.9, 10.2, 9.7, 10.1], [8.02, 8.4, 9.75, 8.1, 8.3], opts);
    expect(r.verdict).toBe("PASS");
    expect(r.p_value).toBeCloseTo(0.015873015873015872, 12); // scipy, exact
    expect(r.u).toBe(1);
    // Hodges–Lehmann of candidate − baseline, Moses interval k = 3 of 25 (96.8 %)
    expect(r.shift).toMatchObject({ estimate: -1.68, lower: -2.08, upper: -0.15, confidence: 0.9683 });
    expect(r.line).toBe(
      "p99 9.9 µs → 8.3 µs, shift −1.68 µs = −17.0 % (96.8 % CI −21.0 … −1.5 %), p = 0.016, PASS",
    );
    expect(r.pass_rate).toBe(1);
  });

  it("fails a significant regression over the budget", () => {
    const r = judge([10, 10.1, 9.9, 10.2, 9.8], [12, 12.5, 11.9, 13, 12.2], opts);
    expect(r.verdict).toBe("FAIL");
    expect(r.finding).toBe("regression");
    expect(r.line).toMatch(/, p = 0\.008, FAIL \(regression over 5 %\)$/);
    expect(r.pass_rate).toBe(0);
  });

  it("does not claim an improvement that is not significant", () => {
    const r = judge([10, 12, 9, 11], [9.5, 11.5, 10.5, 9.8], opts);
    expect(r.p_value).toBeGreaterThan(0.05);
    expect(r.shift.lower).toBeLessThan(0);
    expect(r.shift.upper).toBeGreaterThan(0);
    expect(r.verdict).toBe("NO CHANGE");
  });

  it("does not fail a significant regression within the budget, and says so", () => {
    const r = judge([10, 10, 10, 10, 10.01], [10.3, 10.3, 10.31, 10.32, 10.33], opts);
    expect(r.p_value).toBeLessThan(0.05);
    expect(r.change_pct).toBeLessThan(5);
    expect(r.verdict).toBe("NO CHANGE");
    expect(r.finding).toBe("regression within budget");
    expect(r.line).toMatch(/NO CHANGE \(within the 5 % budget\)$/);
  });

  it("with too few runs for an interval at this level, nothing is significant", () => {
    const r = judge([10, 10.1, 10.2], [20, 21, 22], opts);
    expect(r.shift).toMatchObject({ lower: null, upper: null, confidence: null });
    expect(r.change_ci_pct).toBeNull();
    expect(r.verdict).toBe("NO CHANGE");
    expect(r.line).toContain("(no interval at this level from 3 and 3 runs)");
  });

  it("with require_improvement, no significant improvement fails", () => {
    const r = judge([10, 12, 9, 11], [9.5, 11.5, 10.5, 9.8], { ...opts, requireImprovement: true });
    expect(r.verdict).toBe("FAIL");
    expect(r.line).toContain("(no significant improvement)");
  });
});

describe("metricValues and compareAll", () => {
  it("picks one test's metric from each run, and names what is missing", () => {
    const runs = [{ GET: { p99_us: 10 } }, { GET: { p99_us: 12 } }] as never;
    expect(metricValues(runs, "GET", "p99_us", "baseline")).toEqual([10, 12]);
    expect(() => metricValues(runs, "SET", "p99_us", "candidate")).toThrow(
      /the candidate runs have no SET p99_us/,
    );
  });

  it("compares every metric both sides carry", () => {
    const run = (p99_us: number, max_us: number) => ({ GET: { p50_us: 20, p99_us, max_us } });
    const base = [run(10, 100), run(10.2, 90), run(9.9, 120), run(10.1, 95), run(10, 110)] as never;
    const cand = [run(13, 100), run(13.2, 91), run(12.9, 119), run(13.1, 96), run(13.4, 108)] as never;
    const all = compareAll(base, cand, "GET", 0.05, 5);
    expect(Object.keys(all)).toEqual(["p50_us", "p99_us", "max_us"]);
    expect(all.p99_us.finding).toBe("regression");
    expect(all.max_us.finding).toBe("no significant change");
    expect(all.p50_us).toMatchObject({ p_value: 1, change_pct: 0 });
  });
});
