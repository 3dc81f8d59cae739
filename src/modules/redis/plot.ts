/**
 * The A/B gate's picture, as an SVG that any browser opens: the two latency distributions
 * (HdrHistogram style: latency against percentile on a log scale of 1/(1 − q), each side's median
 * over its runs with the band between the runs' 10th and 90th values), and each run's metric in
 * the order it was measured (interleaved blocks show as alternating sides). Drawn by Vega-Lite,
 * loaded when a picture is drawn (Vega and Vega-Lite cost more to load than the rest of tickless).
 */
import type { TopLevelSpec } from "vega-lite";
import { quantile } from "../../stats/percentile.js";
import type { LatencyRun } from "./redis_latency.js";

/** One side as perf_gate read it. */
export interface PlotSide {
  name: string;
  runs: LatencyRun[];
  /** Interleaved records: each block's order, "BC" = baseline first. */
  order?: string[];
}

export interface PlotInput {
  test: string;
  metric: string;
  metricLabel: string;
  baseline: PlotSide;
  candidate: PlotSide;
  /** The host's own latency floor (µs), drawn as a rule when known. */
  noiseFloorUs?: number;
  title: string;
}

/** HdrHistogram's halving percentile grid: 0, 50, 75, 87.5, … up to what the runs resolved. */
export function percentileGrid(maxPct: number): number[] {
  const grid = [0];
  for (let k = 1; k < 40; k++) {
    const q = 100 - 100 / 2 ** k;
    if (q > maxPct) break;
    grid.push(q);
  }
  if (grid[grid.length - 1] < maxPct && maxPct < 100) grid.push(maxPct);
  return grid;
}

/** The value at percentile q of one run's printed ticks: the first tick at or above q. */
function tickAt(histogram: ReadonlyArray<[number, number]>, q: number): number | undefined {
  return histogram.find(([pct]) => pct >= q)?.[1];
}

interface DistRow {
  side: string;
  q: number;
  x: number;
  median: number;
  low: number;
  high: number;
}

/** Per side and percentile: median, 10th and 90th value over the side's runs. */
export function distributionRows(side: PlotSide, test: string): DistRow[] {
  const hists = side.runs
    .map((r) => r[test]?.histogram)
    .filter((h): h is Array<[number, number]> => Array.isArray(h) && h.length > 0);
  if (hists.length === 0) return [];
  // the deepest percentile every run resolved below 100 %
  const resolved = Math.min(...hists.map((h) => Math.max(...h.map(([p]) => p).filter((p) => p < 100), 0)));
  const rows: DistRow[] = [];
  for (const q of percentileGrid(resolved)) {
    const values = hists.map((h) => tickAt(h, q)).filter((v): v is number => v !== undefined);
    if (values.length === 0) continue;
    rows.push({
      side: side.name,
      q,
      x: 1 / (1 - q / 100),
      median: quantile(values, 0.5),
      low: quantile(values, 0.1),
      high: quantile(values, 0.9),
    });
  }
  return rows;
}

interface RunRow {
  side: string;
  seq: number;
  value: number;
}

/** Each run's metric with its place in the measurement sequence. */
export function runRows(input: PlotInput): RunRow[] {
  const value = (r: LatencyRun) =>
    (r[input.test] as unknown as Record<string, number> | undefined)?.[input.metric];
  const rows: RunRow[] = [];
  const order = input.candidate.order;
  if (order && order.length === input.candidate.runs.length && order.length === input.baseline.runs.length) {
    const next = { B: 0, C: 0 };
    let seq = 0;
    for (const block of order) {
      for (const s of block) {
        const side = s === "B" ? input.baseline : input.candidate;
        const v = value(side.runs[next[s as "B" | "C"]++]);
        if (typeof v === "number") rows.push({ side: side.name, seq: seq, value: v });
        seq++;
      }
    }
    return rows;
  }
  let seq = 0;
  for (const side of [input.baseline, input.candidate]) {
    for (const r of side.runs) {
      const v = value(r);
      if (typeof v === "number") rows.push({ side: side.name, seq, value: v });
      seq++;
    }
  }
  return rows;
}

const PERCENT_LABEL = "format(100 - 100 / datum.value, '.4~f') + '%'";

/** The Vega-Lite spec (exported for tests that check what is drawn). */
export function plotSpec(input: PlotInput): TopLevelSpec {
  const dist = [
    ...distributionRows(input.baseline, input.test),
    ...distributionRows(input.candidate, input.test),
  ];
  const runs = runRows(input);
  const sides = [input.baseline.name, input.candidate.name];
  const color = {
    field: "side",
    type: "nominal",
    title: null,
    scale: { domain: sides, range: ["#4c78a8", "#e45756"] },
  };
  const panels: unknown[] = [];
  if (dist.length > 0) {
    const x = {
      field: "x",
      type: "quantitative",
      title: "percentile",
      scale: { type: "log" },
      axis: {
        labelExpr: PERCENT_LABEL,
        values: [2, 10, 100, 1000, 10000, 100000].filter(
          (v) => v <= Math.max(...dist.map((d) => d.x)) * 1.01,
        ),
      },
    };
    panels.push({
      title: `${input.test} latency by percentile (median of runs; band: 10th–90th run)`,
      width: 560,
      height: 260,
      data: { values: dist },
      layer: [
        {
          mark: { type: "area", opacity: 0.2 },
          encoding: { x, y: { field: "low", type: "quantitative" }, y2: { field: "high" }, color },
        },
        {
          mark: { type: "line", point: true },
          encoding: {
            x,
            y: { field: "median", type: "quantitative", title: "latency (µs)", scale: { type: "log" } },
            color,
          },
        },
      ],
    });
  }
  const layer: unknown[] = [
    {
      mark: { type: "point", filled: true },
      encoding: {
        x: { field: "seq", type: "quantitative", title: "run, in the order measured" },
        y: {
          field: "value",
          type: "quantitative",
          title: `${input.metricLabel} (µs)`,
          scale: { zero: false },
        },
        color,
      },
    },
  ];
  if (input.noiseFloorUs !== undefined) {
    layer.push({
      data: { values: [{ floor: input.noiseFloorUs }] },
      mark: { type: "rule", strokeDash: [4, 4], color: "#888" },
      encoding: { y: { field: "floor", type: "quantitative", scale: { type: "log" } } },
    });
  }
  panels.push({
    title: `${input.test} ${input.metricLabel} per run${input.noiseFloorUs !== undefined ? " (dashed: the host's intrinsic latency)" : ""}`,
    width: 560,
    height: 200,
    data: { values: runs },
    layer,
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: input.title.split("; "), anchor: "start" },
    vconcat: panels,
    config: { font: "sans-serif" },
  } as unknown as TopLevelSpec;
}

/** The SVG text of the gate's picture. */
export async function gatePlotSvg(input: PlotInput): Promise<string> {
  const [{ logger, None, parse, View }, { compile }] = await Promise.all([
    import("vega"),
    import("vega-lite"),
  ]);
  // Vega's warnings would land in the middle of tickless's own output
  const quiet = logger(None);
  const view = new View(parse(compile(plotSpec(input), { logger: quiet }).spec), {
    renderer: "none",
    logLevel: None,
  });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
