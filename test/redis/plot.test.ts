/** The gate's SVG: what is drawn from the runs, and that Vega renders it without a browser. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { parseBenchmark } from "../../src/modules/redis/benchmark-output.js";
import {
  distributionRows,
  gatePlotSvg,
  type PlotInput,
  percentileGrid,
  runRows,
} from "../../src/modules/redis/plot.js";
import type { LatencyRun } from "../../src/modules/redis/redis_latency.js";

// Recorded from redis-benchmark 7.0.15 (Debian): -c 1 -P 1 --precision 3 -n 1000 -t ping,get,set
const recorded = readFileSync(join(import.meta.dirname, "fixtures", "benchmark-7.0.15.txt"), "utf8");

const run = (p99: number, scale = 1): LatencyRun => ({
  GET: {
    requests: 1000,
    rps: 1,
    p50_us: 20 * scale,
    p99_us: p99,
    p999_us: p99 * 2,
    max_us: 900,
    histogram: [
      [0, 10 * scale],
      [50, 20 * scale],
      [75, 25 * scale],
      [99.219, p99],
      [99.902, p99 * 2],
      [100, 900],
    ],
  },
});

describe("the percentile grid", () => {
  it("halves the distance to 100 % each step, as HdrHistogram prints it, up to what the runs resolved", () => {
    expect(percentileGrid(99)).toEqual([0, 50, 75, 87.5, 93.75, 96.875, 98.4375, 99]);
    expect(percentileGrid(99.902).slice(-2)).toEqual([99.8046875, 99.902]);
    expect(percentileGrid(0)).toEqual([0]);
  });
});

describe("the distribution rows", () => {
  it("keeps the histogram redis-benchmark printed for each run, in µs", () => {
    const parsed = parseBenchmark(recorded);
    expect(parsed.GET.histogram?.[0]?.[0]).toBe(0);
    expect(parsed.GET.histogram?.at(-1)).toEqual([100, parsed.GET.max_us]);
    const pcts = parsed.GET.histogram?.map(([p]) => p) ?? [];
    expect(pcts).toEqual([...pcts].sort((a, b) => a - b));
  });

  it("takes, per percentile, the median and the 10th/90th value over the side's runs", () => {
    const rows = distributionRows({ name: "base", runs: [run(100), run(200), run(300)] }, "GET");
    const at50 = rows.find((r) => r.q === 50);
    expect(at50).toMatchObject({ side: "base", x: 2, median: 20, low: 20, high: 20 });
    // 99.21875 % → the first tick at or above it is 99.219 %: each run's p99
    const deep = rows.find((r) => r.q === 99.21875);
    expect(deep).toMatchObject({ median: 200, low: 120, high: 280 });
    expect(Math.max(...rows.map((r) => r.q))).toBeLessThan(100);
  });

  it("draws no distribution for runs kept before histograms were recorded", () => {
    const old = run(100);
    delete old.GET.histogram;
    expect(distributionRows({ name: "old", runs: [old] }, "GET")).toEqual([]);
  });
});

describe("the runs in the order measured", () => {
  const input = (order?: string[]): PlotInput => ({
    test: "GET",
    metric: "p99_us",
    metricLabel: "p99",
    baseline: { name: "stock", runs: [run(1), run(2)] },
    candidate: { name: "custom", runs: [run(11), run(12)], order },
    title: "t",
  });

  it("follows the interleaved blocks' order (BC: baseline first)", () => {
    expect(runRows(input(["CB", "BC"])).map((r) => [r.seq, r.side, r.value])).toEqual([
      [0, "custom", 11],
      [1, "stock", 1],
      [2, "stock", 2],
      [3, "custom", 12],
    ]);
  });

  it("puts the baseline's runs before the candidate's when they were measured apart", () => {
    expect(runRows(input()).map((r) => r.value)).toEqual([1, 2, 11, 12]);
  });

  it("renders an SVG with both sides, the percentile axis and the noise floor", async () => {
    const spies = (["log", "warn", "error", "info"] as const).map((k) => vi.spyOn(console, k));
    const svg = await gatePlotSvg({ ...input(["BC", "CB"]), noiseFloorUs: 15, title: "lab-1: GET p99" });
    // Vega's own warnings (e.g. a log scale's zero) must not land in tickless's output
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    for (const spy of spies) spy.mockRestore();
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("lab-1: GET p99");
    expect(svg).toContain("stock");
    expect(svg).toContain("custom");
    expect(svg).toMatch(/>50%</);
    expect(svg).toMatch(/>99%</);
    expect(svg).toContain("intrinsic latency");
  });
});
