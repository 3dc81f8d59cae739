import { describe, expect, it } from "vitest";
import { metricValues } from "../../src/modules/perf_gate.js";
import { judge } from "../../src/modules/redis/gate.js";

const opts = { label: "p99", maxRegressionPct: 5, alpha: 0.05, requireImprovement: false };

describe("judge", () => {
  it("passes a significant improvement, with the human line", () => {
    const r = judge([9.81, 9.9, 10.2, 9.7, 10.1], [8.02, 8.4, 9.75, 8.1, 8.3], opts);
    expect(r.verdict).toBe("PASS");
    expect(r.p_value).toBeCloseTo(0.015873015873015872, 10); // scipy, exact
    expect(r.line).toBe("p99 9.9 µs → 8.3 µs, −16.2 %, p = 0.016, PASS");
    expect(r.pass_rate).toBe(1);
  });

  it("fails a significant regression over the budget", () => {
    const r = judge([10, 10.1, 9.9, 10.2, 9.8], [12, 12.5, 11.9, 13, 12.2], opts);
    expect(r.verdict).toBe("FAIL");
    expect(r.line).toMatch(/^p99 10 µs → 12\.2 µs, \+22\.0 %, p = 0\.008, FAIL \(regression over 5 %\)$/);
    expect(r.pass_rate).toBe(0);
  });

  it("does not claim an improvement that is not significant", () => {
    const r = judge([10, 12, 9, 11], [9.5, 11.5, 10.5, 9.8], opts);
    expect(r.p_value).toBeGreaterThan(0.05);
    expect(r.verdict).toBe("NO CHANGE");
  });

  it("does not fail a regression within the budget, even a significant one", () => {
    const r = judge([10, 10, 10, 10, 10.01], [10.3, 10.3, 10.31, 10.32, 10.33], opts);
    expect(r.p_value).toBeLessThan(0.05);
    expect(r.change_pct).toBeLessThan(5);
    expect(r.verdict).toBe("NO CHANGE");
  });

  it("with require_improvement, no significant improvement fails", () => {
    const r = judge([10, 12, 9, 11], [9.5, 11.5, 10.5, 9.8], { ...opts, requireImprovement: true });
    expect(r.verdict).toBe("FAIL");
    expect(r.line).toContain("(no significant improvement)");
  });
});

describe("metricValues", () => {
  it("picks one test's metric from each run, and names what is missing", () => {
    const runs = [{ GET: { p99_us: 10 } }, { GET: { p99_us: 12 } }] as never;
    expect(metricValues(runs, "GET", "p99_us", "baseline")).toEqual([10, 12]);
    expect(() => metricValues(runs, "SET", "p99_us", "candidate")).toThrow(
      /the candidate runs have no SET p99_us/,
    );
  });
});
