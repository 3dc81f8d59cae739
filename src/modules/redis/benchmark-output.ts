/** Parses redis-benchmark's full output (`--precision 3`, without `-q` or `--csv`) into latencies in µs. */

/** One test's latencies (µs) and throughput. */
export interface TestLatency {
  requests: number;
  rps: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
  /** The run's latency distribution as redis-benchmark prints it: [percentile, µs] ticks. */
  histogram?: Array<[number, number]>;
}

const SECTION = /^====== (.+?) ======$/gm;
const PERCENTILE_ROW = /^(\d+\.\d+)% <= (\d+\.\d+) milliseconds/;
const SUMMARY_ROW = /latency summary \(msec\):\s*\n\s*avg\s+min\s+p50\s+p95\s+p99\s+max\s*\n\s*([\d.\s]+)/;

const toUs = (ms: number) => Math.round(ms * 1000 * 1000) / 1000;

/** The value at percentile q from HDR's printed ticks: the first tick at or above q. */
function valueAt(rows: Array<[number, number]>, q: number): number | undefined {
  return rows.find(([pct]) => pct >= q)?.[1];
}

/** One `====== NAME ======` section. */
function parseSection(body: string): TestLatency | undefined {
  const rows: Array<[number, number]> = [];
  const dist =
    body.split("Latency by percentile distribution:")[1]?.split("Cumulative distribution")[0] ?? "";
  for (const line of dist.split("\n")) {
    const m = PERCENTILE_ROW.exec(line.trim());
    if (m) rows.push([Number(m[1]), Number(m[2])]);
  }
  const summary = SUMMARY_ROW.exec(body);
  const requests = /(\d+) requests completed/.exec(body);
  const rps = /throughput summary: ([\d.]+) requests per second/.exec(body);
  if (!summary || !requests || !rps || rows.length === 0) return undefined;
  const [, , p50, , p99, max] = summary[1].trim().split(/\s+/).map(Number);
  const p999 = valueAt(rows, 99.9) ?? max;
  return {
    requests: Number(requests[1]),
    rps: Number(rps[1]),
    p50_us: toUs(p50),
    p99_us: toUs(p99),
    p999_us: toUs(p999),
    max_us: toUs(max),
    histogram: rows.map(([pct, ms]) => [pct, toUs(ms)]),
  };
}

/** Every test section of one redis-benchmark run, keyed by test name (PING_INLINE, SET, GET, …). */
export function parseBenchmark(output: string): Record<string, TestLatency> {
  const text = output.replace(/\r/g, "\n");
  const heads = [...text.matchAll(SECTION)];
  const out: Record<string, TestLatency> = {};
  heads.forEach((h, i) => {
    const end = heads[i + 1]?.index ?? text.length;
    const parsed = parseSection(text.slice(h.index + h[0].length, end));
    if (parsed) out[h[1]] = parsed;
  });
  return out;
}
