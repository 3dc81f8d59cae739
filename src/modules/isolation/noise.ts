/**
 * The noise report of validate_isolation, pure: what reached each isolated CPU during the window,
 * from two reads of /proc/interrupts (every row: device IRQs and the named ones, LOC, RES, CAL,
 * TLB, …), /proc/softirqs (TIMER, RCU, NET_RX, SCHED, …) and /proc/schedstat (per CPU, the
 * tasks switched in after waiting in its run queue: the last field of the `cpuN` line, counted by
 * the kernel's sched_info whether or not schedstats are on), and of Redis's voluntary and
 * involuntary context switches. Raw deltas in JSON, and one line per CPU for people.
 */
import { parseInterrupts } from "../../facts/interrupts.js";
import { type CpuLimit, type LimitName, limitsText } from "./noise-limits.js";
import type { OsnoiseCpu } from "./osnoise.js";

/** Counts of one kind during the window: total, per second, and by kind (non-zero only). */
export interface KindCounts {
  total: number;
  per_s: number;
  by_kind: Record<string, number>;
}

export interface CpuNoise {
  /** null: the file could not be read, or has no column for the CPU (offline). */
  interrupts: KindCounts | null;
  softirqs: KindCounts | null;
  /** Tasks switched in on the CPU (/proc/schedstat); null when the kernel has no schedstat. */
  switches_in: number | null;
  /** The osnoise tracer's figure for the CPU, where it ran (validate_isolation adds it). */
  osnoise?: OsnoiseCpu;
  /** Each threshold against the numbers above (noise-limits.ts; validate_isolation adds them). */
  limits?: Partial<Record<LimitName, CpuLimit>>;
}

export interface NoiseReport {
  window_s: number;
  cpus: Record<string, CpuNoise>;
  /** Redis's main process over the window (from /proc/PID/status), when it ran. */
  redis?: { voluntary_switches: number; nonvoluntary_switches: number };
}

export interface NoiseReads {
  interrupts0?: string;
  interrupts1?: string;
  softirqs0?: string;
  softirqs1?: string;
  schedstat0?: string;
  schedstat1?: string;
  status0?: string;
  status1?: string;
}

const rate = (n: number, window: number) => (window > 0 ? Math.round((n / window) * 100) / 100 : n);

/**
 * Per-CPU deltas of each row of a /proc/interrupts- or /proc/softirqs-shaped table (a `CPUn`
 * header, then `NAME: count…`). A row without a column per CPU (ERR, MIS: one system-wide count)
 * is not a CPU's. Numbered rows are named `IRQ N (name)`.
 */
export function tableDeltas(before: string, after: string, cpu: number): Record<string, number> | undefined {
  const a = parseInterrupts(before);
  const b = parseInterrupts(after);
  const colA = a.cpus.indexOf(cpu);
  const colB = b.cpus.indexOf(cpu);
  const out: Record<string, number> = {};
  if (colA < 0 || colB < 0) return undefined;
  const old = new Map(a.rows.filter((r) => r.counts.length === a.cpus.length).map((r) => [r.irq, r]));
  for (const row of b.rows) {
    if (row.counts.length !== b.cpus.length) continue;
    const was = old.get(row.irq)?.counts[colA] ?? 0;
    const delta = (row.counts[colB] ?? 0) - was;
    if (delta <= 0) continue;
    const key = /^\d+$/.test(row.irq) ? `IRQ ${row.irq}${row.name ? ` (${row.name})` : ""}` : row.irq;
    out[key] = delta;
  }
  return out;
}

function kinds(
  before: string | undefined,
  after: string | undefined,
  cpu: number,
  window: number,
): KindCounts | null {
  if (before === undefined || after === undefined) return null;
  const byKind = tableDeltas(before, after, cpu);
  if (byKind === undefined) return null;
  const total = Object.values(byKind).reduce((s, n) => s + n, 0);
  return { total, per_s: rate(total, window), by_kind: byKind };
}

/** /proc/schedstat: cpuN → the last field of its line (sched_info's pcount). */
export function schedstatSwitches(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of text.matchAll(/^cpu(\d+)((?: \d+)+)\s*$/gm)) {
    const fields = m[2].trim().split(" ");
    // version 15 and later: yld_count, 0, sched_count, sched_goidle, ttwu_count, ttwu_local,
    // rq_cpu_time, run_delay, pcount
    if (fields.length >= 9) out.set(Number(m[1]), Number(fields[8]));
  }
  return out;
}

function statusNumber(status: string | undefined, key: string): number | undefined {
  const v = new RegExp(`^${key}:\\s*(\\d+)`, "m").exec(status ?? "")?.[1];
  return v === undefined ? undefined : Number(v);
}

export function noiseReport(isolated: number[], window: number, reads: NoiseReads): NoiseReport {
  const s0 = reads.schedstat0 === undefined ? undefined : schedstatSwitches(reads.schedstat0);
  const s1 = reads.schedstat1 === undefined ? undefined : schedstatSwitches(reads.schedstat1);
  const cpus: Record<string, CpuNoise> = {};
  for (const cpu of isolated) {
    const a = s0?.get(cpu);
    const b = s1?.get(cpu);
    cpus[String(cpu)] = {
      interrupts: kinds(reads.interrupts0, reads.interrupts1, cpu, window),
      softirqs: kinds(reads.softirqs0, reads.softirqs1, cpu, window),
      switches_in: a === undefined || b === undefined ? null : b - a,
    };
  }
  const report: NoiseReport = { window_s: window, cpus };
  const v0 = statusNumber(reads.status0, "voluntary_ctxt_switches");
  const v1 = statusNumber(reads.status1, "voluntary_ctxt_switches");
  const n0 = statusNumber(reads.status0, "nonvoluntary_ctxt_switches");
  const n1 = statusNumber(reads.status1, "nonvoluntary_ctxt_switches");
  if (v0 !== undefined && v1 !== undefined && n0 !== undefined && n1 !== undefined)
    report.redis = { voluntary_switches: v1 - v0, nonvoluntary_switches: n1 - n0 };
  return report;
}

function kindText(label: string, k: KindCounts | null): string {
  if (k === null) return `${label}: not read (no file, or no column for the CPU)`;
  const parts = Object.entries(k.by_kind)
    .sort((x, y) => y[1] - x[1])
    .map(([name, n]) => `${name} ${n}`);
  return `${k.total} ${label} (${k.per_s}/s)${parts.length > 0 ? `: ${parts.join(", ")}` : ""}`;
}

function osnoiseText(o: OsnoiseCpu): string {
  const i = o.interference;
  return `osnoise: max single noise ${o.max_single_noise_us} µs, ${o.available_pct}% available over ${o.periods} period${o.periods === 1 ? "" : "s"} (HW ${i.hw}, NMI ${i.nmi}, IRQ ${i.irq}, SIRQ ${i.sirq}, THREAD ${i.thread})`;
}

/** One line per isolated CPU (and one for Redis): `CPU 4 in 10 s: 25 interrupts (2.5/s): LOC 20, …`. */
export function noiseText(report: NoiseReport): string[] {
  const lines = Object.entries(report.cpus).map(
    ([cpu, n]) =>
      `CPU ${cpu} in ${report.window_s} s: ${kindText("interrupts", n.interrupts)}; ${kindText("softirqs", n.softirqs)}; ${
        n.switches_in === null
          ? "task switches: not read (no /proc/schedstat, or no line for the CPU)"
          : `${n.switches_in} tasks switched in`
      }${n.osnoise ? `; ${osnoiseText(n.osnoise)}` : ""}${n.limits ? ` — ${limitsText(n.limits)}` : ""}`,
  );
  if (report.redis)
    lines.push(
      `Redis in ${report.window_s} s: ${report.redis.voluntary_switches} voluntary and ${report.redis.nonvoluntary_switches} involuntary context switches`,
    );
  return lines;
}
