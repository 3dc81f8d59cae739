/**
 * The gate over time, pure: the samples latency-monitor.yml's timer appends (one JSON line each:
 * time, each run's p99, Redis's memory), each judged against the stored baseline as perf_gate
 * judges an A/B, the pass rate over a window, the failure-spike alarm, and RSS growth per hour
 * (least squares, with a normal-approximation interval) with a leak verdict.
 */
import { normalQuantile } from "../../stats/normal.js";
import { median } from "../../stats/percentile.js";
import { judge, type Verdict } from "./gate.js";

export interface Sample {
  /** Unix time (s). */
  t: number;
  p99_us: number[];
  rss_bytes: number | null;
  used_memory: number | null;
  allocator_allocated: number | null;
  /** jemalloc's own totals from `MEMORY MALLOC-STATS` (allocated, active, metadata, resident, mapped, retained); null when not jemalloc. */
  jemalloc: Record<string, number> | null;
  /** What redis-benchmark said when a run gave no number ("" when all ran). */
  error: string;
}

export interface ParsedSamples {
  samples: Sample[];
  /** Lines that are not a sample (e.g. cut off by a power loss), by number. */
  bad_lines: number[];
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const numOrNull = (v: unknown) => (isNum(v) ? v : null);
const JEMALLOC_TOTALS = ["allocated", "active", "metadata", "resident", "mapped", "retained"];
const jemallocOrNull = (v: unknown): Record<string, number> | null => {
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  return JEMALLOC_TOTALS.every((k) => isNum(o[k]))
    ? Object.fromEntries(JEMALLOC_TOTALS.map((k) => [k, o[k] as number]))
    : null;
};

/** The samples file, line by line; what is not a sample is counted, not fatal. */
export function parseSamples(text: string): ParsedSamples {
  const samples: Sample[] = [];
  const bad: number[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line) as Record<string, unknown>;
    } catch {
      bad.push(i + 1);
      return;
    }
    if (!isNum(v.t) || !Array.isArray(v.p99_us) || !v.p99_us.every(isNum)) {
      bad.push(i + 1);
      return;
    }
    samples.push({
      t: v.t,
      p99_us: v.p99_us as number[],
      rss_bytes: numOrNull(v.rss_bytes),
      used_memory: numOrNull(v.used_memory),
      allocator_allocated: numOrNull(v.allocator_allocated),
      jemalloc: jemallocOrNull(v.jemalloc),
      error: typeof v.error === "string" ? v.error : "",
    });
  });
  return { samples, bad_lines: bad };
}

export interface RssTrend {
  n: number;
  hours: number;
  first_bytes: number;
  last_bytes: number;
  /** Least-squares slope of RSS over time. */
  bytes_per_hour: number;
  /** The slope relative to the first sample's RSS, and its interval at level 1 − alpha. */
  pct_per_hour: number;
  ci_pct_per_hour: [number, number] | null;
}

/** RSS growth per hour by least squares; null with fewer than 2 samples or no time between them. */
export function rssTrend(samples: readonly Sample[], alpha = 0.05): RssTrend | null {
  const pts = samples.filter((s) => s.rss_bytes !== null).map((s) => [s.t / 3600, s.rss_bytes as number]);
  if (pts.length < 2) return null;
  const n = pts.length;
  const mx = pts.reduce((a, [x]) => a + x, 0) / n;
  const my = pts.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = pts.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  if (sxx === 0) return null;
  const slope = pts.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
  const first = pts[0][1];
  const pct = (b: number) => (first > 0 ? (b / first) * 100 : 0);
  let ci: [number, number] | null = null;
  if (n >= 3) {
    const intercept = my - slope * mx;
    const sse = pts.reduce((a, [x, y]) => a + (y - intercept - slope * x) ** 2, 0);
    const se = Math.sqrt(sse / (n - 2) / sxx);
    const z = normalQuantile(1 - alpha / 2);
    ci = [pct(slope - z * se), pct(slope + z * se)];
  }
  return {
    n,
    hours: pts[n - 1][0] - pts[0][0],
    first_bytes: first,
    last_bytes: pts[n - 1][1],
    bytes_per_hour: slope,
    pct_per_hour: pct(slope),
    ci_pct_per_hour: ci,
  };
}

export interface MonitorOptions {
  /** Only samples taken in the last `windowHours` before `now` (Unix s). */
  windowHours: number;
  now: number;
  maxRegressionPct: number;
  alpha: number;
  /** Alarm when more than this share (%) of the window's samples failed. */
  spikePct: number;
  /** A leak: RSS growing faster than this (% of the first sample per hour), the interval above zero. */
  leakPctPerHour: number;
  seed: number;
}

export interface SampleVerdict {
  t: number;
  verdict: Verdict | "ERROR";
  median_us: number | null;
  change_pct: number | null;
  error?: string;
}

export interface MonitorReport {
  window_hours: number;
  samples: number;
  errors: number;
  bad_lines: number[];
  passed: number;
  failed: number;
  /** Share of samples (errors included) the gate did not fail. */
  pass_rate: number | null;
  failure_pct: number | null;
  spike_alarm: boolean;
  rss: RssTrend | null;
  leak: boolean;
  /** jemalloc's totals at the window's first and last sample that has them (null: none has). */
  jemalloc: { first: Record<string, number>; last: Record<string, number> } | null;
  verdicts: SampleVerdict[];
  line: string;
}

const round = (v: number, d = 2) => Number(v.toFixed(d));

function jemallocSpan(samples: Sample[]): MonitorReport["jemalloc"] {
  const withStats = samples.filter((s) => s.jemalloc !== null);
  if (withStats.length === 0) return null;
  return {
    first: withStats[0].jemalloc as Record<string, number>,
    last: withStats[withStats.length - 1].jemalloc as Record<string, number>,
  };
}

/** Every sample of the window against the baseline, and what they show together. */
export function monitorReport(
  baseline: readonly number[],
  parsed: ParsedSamples,
  o: MonitorOptions,
): MonitorReport {
  const since = o.now - o.windowHours * 3600;
  const inWindow = parsed.samples.filter((s) => s.t >= since && s.t <= o.now).sort((a, b) => a.t - b.t);
  const verdicts: SampleVerdict[] = inWindow.map((s) => {
    if (s.p99_us.length === 0) {
      return { t: s.t, verdict: "ERROR", median_us: null, change_pct: null, error: s.error || "no run" };
    }
    const r = judge(baseline, s.p99_us, {
      label: "p99",
      maxRegressionPct: o.maxRegressionPct,
      alpha: o.alpha,
      requireImprovement: false,
      seed: o.seed,
      resamples: 200,
    });
    return { t: s.t, verdict: r.verdict, median_us: median(s.p99_us), change_pct: r.change_pct };
  });
  const failed = verdicts.filter((v) => v.verdict === "FAIL" || v.verdict === "ERROR").length;
  const errors = verdicts.filter((v) => v.verdict === "ERROR").length;
  const n = verdicts.length;
  const failurePct = n === 0 ? null : (failed / n) * 100;
  const rss = rssTrend(inWindow, o.alpha);
  const leak =
    rss !== null &&
    rss.ci_pct_per_hour !== null &&
    rss.pct_per_hour > o.leakPctPerHour &&
    rss.ci_pct_per_hour[0] > 0;
  const spike = failurePct !== null && failurePct > o.spikePct;
  const parts = [
    n === 0
      ? `no samples in the last ${o.windowHours} h`
      : `${n} samples in the last ${o.windowHours} h: gate pass rate ${round(((n - failed) / n) * 100, 1)} % (${failed} failed${errors ? `, ${errors} with no measurement` : ""})`,
    spike ? `ALARM: more than ${o.spikePct} % of samples failed` : undefined,
    rss === null
      ? "RSS growth: too few samples"
      : `RSS ${rss.first_bytes} → ${rss.last_bytes} bytes, ${rss.pct_per_hour >= 0 ? "+" : ""}${round(rss.pct_per_hour, 3)} %/h${leak ? ": LEAK" : ""}`,
  ].filter((p): p is string => p !== undefined);
  return {
    window_hours: o.windowHours,
    samples: n,
    errors,
    bad_lines: parsed.bad_lines,
    passed: n - failed,
    failed,
    pass_rate: n === 0 ? null : (n - failed) / n,
    failure_pct: failurePct,
    spike_alarm: spike,
    rss,
    leak,
    jemalloc: jemallocSpan(inWindow),
    verdicts,
    line: parts.join("; "),
  };
}
