/**
 * validate_isolation's osnoise run: where tracefs offers the osnoise tracer (its
 * `available_tracers` names it), the probe saves `current_tracer`, `tracing_on` and
 * `osnoise/cpus`, runs the tracer on the isolated CPUs for `osnoise_window` seconds, reads
 * `trace` (one summary line per CPU and period: runtime, noise, % of CPU available, max single
 * noise, the HW/NMI/IRQ/SIRQ/THREAD interference counts) and writes the three files back as they
 * were, on a failed write and on SIGHUP/SIGINT/SIGPIPE/SIGTERM too. A tracer someone else set
 * (`current_tracer` other than `nop`) is left alone: the run is reported as not made.
 * The sh part and the parser of what it prints; the judging is in noise-limits.ts.
 */
import { quote } from "shell-quote";
import { formatCpuList } from "./cpus.js";

/** What the tracer reported for one CPU over the periods that ended in the window. */
export interface OsnoiseCpu {
  periods: number;
  runtime_us: number;
  noise_us: number;
  /** 100 × (1 − noise / runtime) over the window, 5 decimals as the tracer prints it. */
  available_pct: number;
  /** The lowest % of one period. */
  worst_period_available_pct: number;
  max_single_noise_us: number;
  interference: { hw: number; nmi: number; irq: number; sirq: number; thread: number };
}

export interface OsnoiseRun {
  /** ran: the tracer ran and was put back; the others say why there is no figure. */
  state: "ran" | "not available" | "in use" | "failed" | "off";
  tracefs: string;
  detail: string;
  window_s: number;
  /** The three files before the run and after the restore (where the run started). */
  saved?: OsnoiseState;
  restored?: OsnoiseState;
  /** CPU → its figure; a CPU the trace has no summary line for is absent. */
  cpus: Record<string, OsnoiseCpu>;
}

export interface OsnoiseState {
  current_tracer: string;
  tracing_on: string;
  cpus: string;
}

/**
 * The sh lines of the run (after the counting window: the tracer's thread shares the CPU with what
 * runs there, so it must not be counted as that window's noise). Sections, as the rest of the
 * probe: `@@osnoise_saved`, `@@osnoise_in_use`, `@@osnoise_error` (the failed write), `@@osnoise_trace`,
 * `@@osnoise_restored`, `@@osnoise_restore_error`; none when tracefs lacks the tracer.
 */
export function osnoiseScript(tracefs: string, cpus: number[], window: number): string[] {
  const q = (v: string) => quote([v]);
  return [
    `T=${q(tracefs)}`,
    `if [ -r "$T/available_tracers" ] && [ -r "$T/osnoise/cpus" ] && grep -qw osnoise "$T/available_tracers" 2>/dev/null; then`,
    `  ot=$(cat "$T/current_tracer"); oo=$(cat "$T/tracing_on"); oc=$(cat "$T/osnoise/cpus")`,
    `  printf '@@osnoise_saved 1\\ncurrent_tracer=%s\\ntracing_on=%s\\ncpus=%s\\n' "$ot" "$oo" "$oc"`,
    `  if [ "$ot" != nop ]; then printf '@@osnoise_in_use 1\\n'; else`,
    // one write; on failure its target and the shell's message, and a non-zero status
    `  ow() { e=$( { printf '%s\\n' "$2" > "$T/$1"; } 2>&1 ) && return 0; printf '@@%s 1\\nwriting "%s" to %s: %s\\n' "$3" "$2" "$1" "$e"; return 1; }`,
    `  orestore() { trap - HUP INT TERM; trap '' PIPE; r=ok; ow tracing_on 0 osnoise_restore_error || r=; ow current_tracer "$ot" osnoise_restore_error || r=; ow osnoise/cpus "$oc" osnoise_restore_error || r=; ow tracing_on "$oo" osnoise_restore_error || r=;`,
    `    printf '@@osnoise_restored 1\\ncurrent_tracer=%s\\ntracing_on=%s\\ncpus=%s\\n' "$(cat "$T/current_tracer")" "$(cat "$T/tracing_on")" "$(cat "$T/osnoise/cpus")"; }`,
    // a connection gone (SIGHUP, or SIGPIPE at the next write to it) or a stop: put the tracer back first
    `  trap 'orestore; exit 129' HUP; trap 'orestore; exit 130' INT; trap 'orestore; exit 141' PIPE; trap 'orestore; exit 143' TERM`,
    `  if ow tracing_on 0 osnoise_error && ow osnoise/cpus ${q(formatCpuList(cpus))} osnoise_error && ow current_tracer osnoise osnoise_error && ow trace "" osnoise_error && ow tracing_on 1 osnoise_error; then`,
    `    sleep ${window}; ow tracing_on 0 osnoise_error; printf '@@osnoise_trace 1\\n'; cat "$T/trace"`,
    "  fi",
    "  orestore; fi",
    "fi",
  ];
}

/**
 * A summary line of the tracer: the usual TASK-PID [CPU] flags TIMESTAMP: columns, then RUNTIME,
 * NOISE, % OF CPU AVAILABLE, MAX SINGLE NOISE and the five counters. The tracepoint lines
 * (`irq_noise: …`, `sample_threshold: …`) have a word after the timestamp and do not match.
 */
const SUMMARY =
  /\[(\d+)\]\s+\S+\s+\d+\.\d+:\s+(\d+)\s+(\d+)\s+(\d+(?:\.\d+)?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/;

const round5 = (n: number) => Math.round(n * 1e5) / 1e5;

/** The `trace` file as the tracer writes it → each CPU's figure over its periods. */
export function parseOsnoiseTrace(text: string): Record<string, OsnoiseCpu> {
  const out: Record<string, OsnoiseCpu> = {};
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = SUMMARY.exec(line);
    if (!m) continue;
    const [runtime, noise, avail, single, hw, nmi, irq, sirq, thread] = m.slice(2).map(Number);
    const cpu = String(Number(m[1]));
    out[cpu] ??= {
      periods: 0,
      runtime_us: 0,
      noise_us: 0,
      available_pct: 100,
      worst_period_available_pct: 100,
      max_single_noise_us: 0,
      interference: { hw: 0, nmi: 0, irq: 0, sirq: 0, thread: 0 },
    };
    const c = out[cpu];
    c.periods += 1;
    c.runtime_us += runtime;
    c.noise_us += noise;
    c.worst_period_available_pct = Math.min(c.worst_period_available_pct, avail);
    c.max_single_noise_us = Math.max(c.max_single_noise_us, single);
    c.interference.hw += hw;
    c.interference.nmi += nmi;
    c.interference.irq += irq;
    c.interference.sirq += sirq;
    c.interference.thread += thread;
    c.available_pct = c.runtime_us > 0 ? round5(100 * (1 - c.noise_us / c.runtime_us)) : 0;
  }
  return out;
}

function state(text: string | undefined): OsnoiseState | undefined {
  if (text === undefined) return undefined;
  const get = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(text)?.[1] ?? "";
  return { current_tracer: get("current_tracer"), tracing_on: get("tracing_on"), cpus: get("cpus") };
}

export interface OsnoiseSections {
  osnoiseSaved?: string;
  osnoiseInUse?: boolean;
  osnoiseError?: string;
  osnoiseTrace?: string;
  osnoiseRestored?: string;
  osnoiseRestoreError?: string;
}

/** What the probe's osnoise sections say, as the report's `osnoise`. */
export function osnoiseRun(
  tracefs: string,
  window: number,
  enabled: boolean,
  s: OsnoiseSections,
): OsnoiseRun {
  const base = { tracefs, window_s: window, cpus: {} };
  if (!enabled) return { ...base, state: "off", detail: "osnoise is off" };
  const saved = state(s.osnoiseSaved);
  if (saved === undefined) {
    return {
      ...base,
      state: "not available",
      detail: `${tracefs}/available_tracers has no osnoise tracer (or tracefs is not mounted there)`,
    };
  }
  if (s.osnoiseInUse) {
    return {
      ...base,
      state: "in use",
      saved,
      detail: `current_tracer is ${saved.current_tracer}: another user's tracer, left as it is`,
    };
  }
  const restored = state(s.osnoiseRestored);
  const same =
    restored !== undefined &&
    restored.current_tracer === saved.current_tracer &&
    restored.tracing_on === saved.tracing_on &&
    restored.cpus === saved.cpus;
  const put = same
    ? ""
    : `; the tracer was NOT put back: ${s.osnoiseRestoreError?.trim() || "no restore"} (before: current_tracer=${saved.current_tracer} tracing_on=${saved.tracing_on} osnoise/cpus=${saved.cpus}; now: ${restored ? `current_tracer=${restored.current_tracer} tracing_on=${restored.tracing_on} osnoise/cpus=${restored.cpus}` : "unknown"})`;
  if (s.osnoiseError !== undefined || s.osnoiseTrace === undefined || !same) {
    return {
      ...base,
      state: "failed",
      saved,
      restored,
      cpus: s.osnoiseTrace === undefined ? {} : parseOsnoiseTrace(s.osnoiseTrace),
      detail: `${s.osnoiseError?.trim() || "the tracer did not run"}${put}`,
    };
  }
  return {
    ...base,
    state: "ran",
    saved,
    restored,
    cpus: parseOsnoiseTrace(s.osnoiseTrace),
    detail: "ran on the isolated CPUs and was put back as it was",
  };
}
