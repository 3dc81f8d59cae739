/**
 * A tracefs directory as an 8-CPU Debian kernel with CONFIG_OSNOISE_TRACER shows it before anyone
 * traced: `nop` as the current tracer, tracing on, the osnoise tracer's options at their defaults
 * (every CPU, a 1 s period and runtime), and the `trace` file's header for `nop`. The summary
 * lines the osnoise tracer writes into `trace` follow the layout of Linux's
 * Documentation/trace/osnoise-tracer.rst.
 */

export const AVAILABLE_TRACERS =
  "timerlat osnoise hwlat blk mmiotrace function_graph wakeup_dl wakeup_rt wakeup function nop\n";

const NOP_TRACE = [
  "# tracer: nop",
  "#",
  "# entries-in-buffer/entries-written: 0/0   #P:8",
  "#",
  "#                                _-----=> irqs-off/BH-disabled",
  "#                               / _----=> need-resched",
  "#                              | / _---=> hardirq/softirq",
  "#                              || / _--=> preempt-depth",
  "#                              ||| / _-=> migrate-disable",
  "#                              |||| /     delay",
  "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION",
  "#              | |         |   |||||     |         |",
  "",
].join("\n");

/** Relative path → content of each file the validation reads or writes. */
export function tracefsFiles(
  opts: { osnoise?: boolean; currentTracer?: string } = {},
): Record<string, string> {
  return {
    available_tracers: opts.osnoise === false ? AVAILABLE_TRACERS.replace("osnoise ", "") : AVAILABLE_TRACERS,
    current_tracer: `${opts.currentTracer ?? "nop"}\n`,
    tracing_on: "1\n",
    trace: NOP_TRACE,
    "osnoise/cpus": "0-7\n",
    "osnoise/period_us": "1000000\n",
    "osnoise/runtime_us": "1000000\n",
    "osnoise/stop_tracing_us": "0\n",
    "osnoise/stop_tracing_total_us": "0\n",
  };
}

export interface Period {
  cpu: number;
  noise: number;
  available: string;
  single: number;
  hw: number;
  nmi: number;
  irq: number;
  sirq: number;
  thread: number;
}

/** The `trace` file while the osnoise tracer runs: its header, then a summary line per CPU and period. */
export function osnoiseTrace(periods: Period[], tracepoints: string[] = []): string {
  const header = [
    "# tracer: osnoise",
    "#",
    "#                                _-----=> irqs-off",
    "#                               / _----=> need-resched",
    "#                              | / _---=> hardirq/softirq",
    "#                              || / _--=> preempt-depth                            MAX",
    "#                              || /                                             SINGLE     Interference counters:",
    "#                              ||||               RUNTIME      NOISE   % OF CPU  NOISE    +-----------------------------+",
    "#           TASK-PID      CPU# ||||   TIMESTAMP    IN US       IN US  AVAILABLE  IN US     HW    NMI    IRQ   SIRQ THREAD",
    "#              | |         |   ||||      |           |             |    |            |      |      |      |      |      |",
  ];
  const lines = periods.map(
    (p, i) =>
      `           <...>-${859 + p.cpu}     [${String(p.cpu).padStart(3, "0")}] ....    ${(81.63722 + i).toFixed(6)}: 1000000 ${String(p.noise).padStart(10)}  ${p.available} ${String(p.single).padStart(7)} ${[p.hw, p.nmi, p.irq, p.sirq, p.thread].map((n) => String(n).padStart(6)).join("")}`,
  );
  return `${[...header, ...tracepoints, ...lines].join("\n")}\n`;
}
