/**
 * The thresholds of validate_isolation's noise report, pure: each limit (a per-second rate of an
 * interrupt kind, softirqs, tasks switched in, or an osnoise figure) against each isolated CPU's
 * raw numbers gives a status per CPU (in the report's `noise.cpus[N].limits` and its text line) and
 * one check per limit (the worst CPU's status: `failed` only for a limit whose severity is `fail`).
 * A host whose boot-time isolation is not in effect yet (`skip_boot_checks`) has every limit
 * skipped with that reason; a CPU the running kernel does not run tickless (not in nohz_full) has
 * the tick-driven ones (LOC, softirqs, RCU softirqs) skipped: its tick fires HZ times a second by design.
 */
import { formatCpuList } from "./cpus.js";
import type { NoiseReport } from "./noise.js";
import type { OsnoiseRun } from "./osnoise.js";

export type Severity = "fail" | "warn" | "off";

/** `max`: at most this much; `min` (osnoise_available_pct): at least. */
export interface Limit {
  max?: number;
  min?: number;
  severity: Severity;
}

export const LIMIT_NAMES = [
  "loc_per_s",
  "res_per_s",
  "cal_per_s",
  "tlb_per_s",
  "softirqs_per_s",
  "net_softirqs_per_s",
  "rcu_softirqs_per_s",
  "sched_softirqs_per_s",
  "other_switches_in_per_s",
  "osnoise_max_single_us",
  "osnoise_available_pct",
] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];
export type Limits = Record<LimitName, Limit>;

/** The defaults (docs/isolation.md gives the reason for each; playbooks/vars/isolation-tuning.yml the same values). */
export const DEFAULT_LIMITS: Limits = {
  loc_per_s: { max: 20, severity: "warn" },
  res_per_s: { max: 50, severity: "warn" },
  cal_per_s: { max: 5, severity: "warn" },
  tlb_per_s: { max: 5, severity: "warn" },
  softirqs_per_s: { max: 50, severity: "warn" },
  net_softirqs_per_s: { max: 0, severity: "warn" },
  rcu_softirqs_per_s: { max: 5, severity: "warn" },
  sched_softirqs_per_s: { max: 5, severity: "warn" },
  other_switches_in_per_s: { max: 5, severity: "warn" },
  osnoise_max_single_us: { max: 50, severity: "warn" },
  osnoise_available_pct: { min: 99.9, severity: "warn" },
};

/** What a user gave, over the defaults, limit by limit and field by field. */
export function resolveLimits(given: Partial<Record<LimitName, Partial<Limit>>> | undefined): Limits {
  const out = { ...DEFAULT_LIMITS };
  for (const name of LIMIT_NAMES) {
    const g = given?.[name];
    if (g) out[name] = { ...DEFAULT_LIMITS[name], ...g };
  }
  return out;
}

export type LimitStatus = "ok" | "warning" | "failed" | "skipped";

/** One limit on one CPU: the raw value (null: not measured), the bound, the status and why skipped. */
export interface CpuLimit {
  value: number | null;
  max?: number;
  min?: number;
  status: LimitStatus;
  reason?: string;
}

/** Pure: value against a limit. */
export function judge(value: number | null, limit: Limit, skip?: string): CpuLimit {
  const bound = limit.max !== undefined ? { max: limit.max } : { min: limit.min };
  if (limit.severity === "off") return { value, ...bound, status: "skipped", reason: "off" };
  if (skip !== undefined) return { value, ...bound, status: "skipped", reason: skip };
  if (value === null) return { value, ...bound, status: "skipped", reason: "not measured" };
  const over =
    (limit.max !== undefined && value > limit.max) || (limit.min !== undefined && value < limit.min);
  return { value, ...bound, status: over ? (limit.severity === "fail" ? "failed" : "warning") : "ok" };
}

const LABEL: Record<LimitName, string> = {
  loc_per_s: "LOC/s",
  res_per_s: "RES/s",
  cal_per_s: "CAL/s",
  tlb_per_s: "TLB/s",
  softirqs_per_s: "softirqs/s",
  net_softirqs_per_s: "NET_RX+NET_TX softirqs/s",
  rcu_softirqs_per_s: "RCU softirqs/s",
  sched_softirqs_per_s: "SCHED softirqs/s",
  other_switches_in_per_s: "other tasks switched in/s",
  osnoise_max_single_us: "osnoise max single noise (µs)",
  osnoise_available_pct: "osnoise % of CPU available",
};

export interface LimitInputs {
  limits: Limits;
  isolated: number[];
  /** The reason the boot-time isolation is not in effect yet (skip_boot_checks). */
  bootSkipped?: string;
  /** The running kernel's nohz_full list; undefined: the kernel lacks NO_HZ_FULL. */
  nohzFull?: number[];
  /** The one CPU Redis's main thread ran on (its affinity a single isolated CPU), if any. */
  redisCpu?: number;
  osnoise: OsnoiseRun;
}

const rate = (n: number, window: number) => (window > 0 ? Math.round((n / window) * 100) / 100 : n);

/** Each limit on each isolated CPU (written into `noise.cpus[N].limits`), and one check per limit. */
export function judgeNoise(
  noise: NoiseReport,
  inp: LimitInputs,
): { name: string; status: LimitStatus; detail: string }[] {
  const w = noise.window_s;
  for (const cpu of inp.isolated) {
    const n = noise.cpus[String(cpu)];
    if (!n) continue;
    const tickless =
      inp.nohzFull === undefined
        ? "the kernel lacks NO_HZ_FULL: the tick runs"
        : inp.nohzFull.includes(cpu)
          ? undefined
          : `CPU ${cpu} is not nohz_full on the running kernel: the tick runs`;
    const kind = (k: string) => (n.interrupts ? rate(n.interrupts.by_kind[k] ?? 0, w) : null);
    const soft = n.softirqs;
    const softKind = (...ks: string[]) =>
      soft
        ? rate(
            ks.reduce((t, k) => t + (soft.by_kind[k] ?? 0), 0),
            w,
          )
        : null;
    const redis =
      inp.redisCpu === cpu && noise.redis
        ? noise.redis.voluntary_switches + noise.redis.nonvoluntary_switches
        : 0;
    const others = n.switches_in === null ? null : rate(Math.max(0, n.switches_in - redis), w);
    const os = inp.osnoise.cpus[String(cpu)];
    const osSkip =
      inp.osnoise.state === "ran"
        ? os
          ? undefined
          : `no osnoise summary for CPU ${cpu} in ${inp.osnoise.window_s} s (a period longer than the window?)`
        : `osnoise ${inp.osnoise.state}: ${inp.osnoise.detail}`;
    const b = inp.bootSkipped;
    const L = inp.limits;
    n.limits = {
      loc_per_s: judge(kind("LOC"), L.loc_per_s, b ?? tickless),
      res_per_s: judge(kind("RES"), L.res_per_s, b),
      cal_per_s: judge(kind("CAL"), L.cal_per_s, b),
      tlb_per_s: judge(kind("TLB"), L.tlb_per_s, b),
      softirqs_per_s: judge(soft ? soft.per_s : null, L.softirqs_per_s, b ?? tickless),
      net_softirqs_per_s: judge(softKind("NET_RX", "NET_TX"), L.net_softirqs_per_s, b),
      // raised from the tick (rcu_sched_clock_irq): as LOC
      rcu_softirqs_per_s: judge(softKind("RCU"), L.rcu_softirqs_per_s, b ?? tickless),
      // load balancing, which isolcpus=domain takes away
      sched_softirqs_per_s: judge(softKind("SCHED"), L.sched_softirqs_per_s, b),
      other_switches_in_per_s: judge(others, L.other_switches_in_per_s, b),
      osnoise_max_single_us: judge(os?.max_single_noise_us ?? null, L.osnoise_max_single_us, b ?? osSkip),
      osnoise_available_pct: judge(os?.available_pct ?? null, L.osnoise_available_pct, b ?? osSkip),
    };
  }
  return LIMIT_NAMES.map((name) => limitCheck(name, noise, inp));
}

const RANK: Record<LimitStatus, number> = { skipped: 0, ok: 1, warning: 2, failed: 3 };

function bound(l: CpuLimit): string {
  return l.max !== undefined ? `at most ${l.max}` : `at least ${l.min}`;
}

function limitCheck(name: LimitName, noise: NoiseReport, inp: LimitInputs) {
  const per = inp.isolated
    .map((cpu) => [cpu, noise.cpus[String(cpu)]?.limits?.[name]] as const)
    .filter((x): x is readonly [number, CpuLimit] => x[1] !== undefined);
  const worst = per.reduce<LimitStatus>((s, [, l]) => (RANK[l.status] > RANK[s] ? l.status : s), "skipped");
  const label = `${LABEL[name]} (${bound(per[0]?.[1] ?? judge(null, inp.limits[name]))})`;
  const check = `noise ${name}`;
  if (per.length === 0)
    return { name: check, status: "skipped" as const, detail: `${label}: no isolated CPU measured` };
  if (worst === "skipped") {
    const reasons = [...new Set(per.map(([, l]) => l.reason))];
    return { name: check, status: worst, detail: `${label}: ${reasons.join("; ")}` };
  }
  const shown = per
    .filter(([, l]) => l.status !== "skipped")
    .map(([cpu, l]) => `CPU ${cpu} ${l.value}${l.status === "ok" ? "" : ` (${l.status})`}`);
  const where = `on CPU ${formatCpuList(inp.isolated)}${name.startsWith("osnoise") ? ` (osnoise, ${inp.osnoise.window_s} s)` : ` in ${noise.window_s} s`}`;
  return { name: check, status: worst, detail: `${label} ${where}: ${shown.join(", ")}` };
}

/** `ok: LOC/s 0.4, RES/s 0; warning: TLB/s 12 (at most 5)`: a CPU's limits for its text line. */
export function limitsText(limits: Partial<Record<LimitName, CpuLimit>> | undefined): string {
  if (!limits) return "";
  const groups: Record<LimitStatus, string[]> = { failed: [], warning: [], ok: [], skipped: [] };
  for (const name of LIMIT_NAMES) {
    const l = limits[name];
    if (!l) continue;
    const v = l.value === null ? "not measured" : String(l.value);
    groups[l.status].push(
      l.status === "ok" || l.status === "skipped"
        ? `${LABEL[name]} ${v}`
        : `${LABEL[name]} ${v} (${bound(l)})`,
    );
  }
  return (["failed", "warning", "ok", "skipped"] as const)
    .filter((s) => groups[s].length > 0)
    .map((s) => `${s}: ${groups[s].join(", ")}`)
    .join("; ");
}
