/** The gate over time, pure: samples against a baseline, pass rate, spike alarm, RSS growth. */
import { describe, expect, it } from "vitest";
import { monitorReport, parseSamples, rssTrend, type Sample } from "../../src/modules/redis/monitor.js";

const sample = (t: number, p99: number[], rss: number | null = 1_000_000): Sample => ({
  t,
  p99_us: p99,
  rss_bytes: rss,
  used_memory: null,
  allocator_allocated: null,
  jemalloc: null,
  error: "",
});
const baseline = [100, 101, 99, 102, 98, 100, 103, 97, 101, 99];
const opts = {
  windowHours: 24,
  now: 100 * 3600,
  maxRegressionPct: 5,
  alpha: 0.05,
  spikePct: 10,
  leakPctPerHour: 1,
  seed: 1,
};

describe("the samples file", () => {
  it("reads each line as a sample and counts what is not one (a line cut off by a power loss)", () => {
    const text = [
      '{"t":10,"p99_us":[100.5,99],"rss_bytes":5,"used_memory":4,"allocator_allocated":3,"error":""}',
      '{"t":11,"p99_us":[],"rss_bytes":null,"used_memory":null,"allocator_allocated":null,"error":"Could not connect"}',
      '{"t":12,"p99_us":[1',
      '{"p99_us":[1]}',
      "",
    ].join("\n");
    const p = parseSamples(text);
    expect(p.samples.map((s) => s.t)).toEqual([10, 11]);
    expect(p.samples[1]).toMatchObject({ p99_us: [], rss_bytes: null, error: "Could not connect" });
    expect(p.bad_lines).toEqual([3, 4]);
  });

  it("reads jemalloc's totals when the sample has them all; null otherwise (older samples, another allocator)", () => {
    const totals = { allocated: 1, active: 2, metadata: 3, resident: 4, mapped: 5, retained: 6 };
    const line = (jemalloc: unknown) =>
      JSON.stringify({
        t: 1,
        p99_us: [1],
        rss_bytes: 1,
        used_memory: 1,
        allocator_allocated: 1,
        jemalloc,
        error: "",
      });
    const p = parseSamples(
      [line(totals), line({ ...totals, retained: "x" }), line(null), line(undefined)].join("\n"),
    );
    expect(p.samples.map((s) => s.jemalloc)).toEqual([totals, null, null, null]);
  });
});

describe("RSS growth", () => {
  it("is the least-squares slope per hour, relative to the first sample", () => {
    const s = [0, 1, 2, 3].map((h) => sample(h * 3600, [1], 1_000_000 + h * 20_000));
    const r = rssTrend(s);
    expect(r?.bytes_per_hour).toBeCloseTo(20_000, 6);
    expect(r?.pct_per_hour).toBeCloseTo(2, 9);
    // a perfect line: the interval has no width
    expect(r?.ci_pct_per_hour?.[0]).toBeCloseTo(2, 6);
    expect(r?.hours).toBe(3);
  });

  it("needs two samples at different times, and three for an interval", () => {
    expect(rssTrend([sample(0, [1])])).toBeNull();
    expect(rssTrend([sample(5, [1]), sample(5, [1])])).toBeNull();
    expect(rssTrend([sample(0, [1], 10), sample(3600, [1], 20)])?.ci_pct_per_hour).toBeNull();
  });
});

describe("the report over a window", () => {
  it("judges each sample against the baseline and counts only the window's samples", () => {
    const samples = [
      sample(opts.now - 30 * 3600, [500, 500, 500, 500, 500]), // outside 24 h
      sample(opts.now - 3 * 3600, [100, 99, 101, 100, 102]),
      sample(opts.now - 2 * 3600, [150, 160, 155, 149, 171]),
      sample(opts.now - 3600, [99, 100, 98, 101, 100]),
    ];
    const r = monitorReport(baseline, { samples, bad_lines: [] }, opts);
    expect(r.samples).toBe(3);
    expect(r.verdicts.map((v) => v.verdict)).toEqual(["NO CHANGE", "FAIL", "NO CHANGE"]);
    expect(r.pass_rate).toBeCloseTo(2 / 3, 12);
    expect(r.spike_alarm).toBe(true);
    expect(r.line).toMatch(/^3 samples in the last 24 h: gate pass rate 66.7 % \(1 failed\); ALARM/);
  });

  it("over 7 days (168 h) the same samples include the one 30 h old, and a sample 8 days old stays out", () => {
    const samples = [
      sample(opts.now - 8 * 24 * 3600, [900, 900, 900, 900, 900]), // outside 7 days
      sample(opts.now - 30 * 3600, [500, 500, 500, 500, 500]),
      sample(opts.now - 3 * 3600, [100, 99, 101, 100, 102]),
      sample(opts.now - 2 * 3600, [150, 160, 155, 149, 171]),
      sample(opts.now - 3600, [99, 100, 98, 101, 100]),
    ];
    const week = monitorReport(baseline, { samples, bad_lines: [] }, { ...opts, windowHours: 168 });
    expect(week.samples).toBe(4);
    expect(week.verdicts.map((v) => v.verdict)).toEqual(["FAIL", "NO CHANGE", "FAIL", "NO CHANGE"]);
    expect(week.pass_rate).toBeCloseTo(2 / 4, 12);
    expect(week.line).toMatch(/^4 samples in the last 168 h: gate pass rate 50 % \(2 failed\); ALARM/);
    expect(monitorReport(baseline, { samples, bad_lines: [] }, opts).samples).toBe(3);
  });

  it("counts a sample with no measurement as a failure, and names it", () => {
    const s = { ...sample(opts.now - 10, []), error: "Could not connect to Redis" };
    const r = monitorReport(baseline, { samples: [s], bad_lines: [] }, opts);
    expect(r.verdicts[0]).toMatchObject({ verdict: "ERROR", error: "Could not connect to Redis" });
    expect(r.line).toContain("1 with no measurement");
  });

  it("calls a leak when RSS grows faster than the budget with its interval above zero", () => {
    const grow = [0, 1, 2, 3, 4].map((h) =>
      sample(opts.now - (5 - h) * 3600, [100, 100, 101, 99, 100], 1_000_000 + h * 50_000 + (h % 2) * 1000),
    );
    const r = monitorReport(baseline, { samples: grow, bad_lines: [] }, opts);
    expect(r.rss?.pct_per_hour).toBeGreaterThan(4.9);
    expect(r.leak).toBe(true);
    expect(r.line).toContain(": LEAK");
    const flat = grow.map((g, i) => ({ ...g, rss_bytes: 1_000_000 + (i % 2) * 1000 }));
    expect(monitorReport(baseline, { samples: flat, bad_lines: [] }, opts).leak).toBe(false);
  });

  it("says so when the window holds nothing", () => {
    const r = monitorReport(baseline, { samples: [], bad_lines: [] }, opts);
    expect(r).toMatchObject({ samples: 0, pass_rate: null, spike_alarm: false, leak: false });
    expect(r.line).toBe("no samples in the last 24 h; RSS growth: too few samples");
  });
});
