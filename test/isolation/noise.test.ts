/**
 * validate_isolation's noise report: /proc/interrupts (device rows and the named ones), /proc/softirqs
 * and /proc/schedstat in the kernel's own layouts, read twice by the real probe script over a
 * fixture /proc whose counters move during the window.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import { noiseReport, noiseText, schedstatSwitches, tableDeltas } from "../../src/modules/isolation/noise.js";
import { validateIsolationModule } from "../../src/modules/isolation/validate_isolation.js";
import { coreContext } from "../support/module-context.js";

const CPUS = 8;
const col = (n: number) => String(n).padStart(11);
/** 8 CPUs; `on4` gives CPU 4's count of a row, the other CPUs count 1000 + the row's index. */
const cells = (i: number, cpu4: number) =>
  Array.from({ length: CPUS }, (_, c) => col(c === 4 ? cpu4 : 1000 + i)).join("");

/** /proc/interrupts as x86's arch_show_interrupts prints it: device rows, then the named counters. */
function procInterrupts(cpu4: { nic: number; loc: number; res: number; cal: number; tlb: number }): string {
  const header = `${" ".repeat(4)}${Array.from({ length: CPUS }, (_, c) => `CPU${c}`.padStart(11)).join("")}`;
  return [
    header,
    `  1:${cells(0, 0)}  IO-APIC   1-edge      i8042`,
    ` 24:${cells(1, cpu4.nic)}  PCI-MSI 49152-edge      virtio0-input.0`,
    ` 25:${cells(2, 0)}  PCI-MSI 49153-edge      virtio0-output.0`,
    `NMI:${cells(3, 0)}   Non-maskable interrupts`,
    `LOC:${cells(4, cpu4.loc)}   Local timer interrupts`,
    `SPU:${cells(5, 0)}   Spurious interrupts`,
    `IWI:${cells(6, 0)}   IRQ work interrupts`,
    `RES:${cells(7, cpu4.res)}   Rescheduling interrupts`,
    `CAL:${cells(8, cpu4.cal)}   Function call interrupts`,
    `TLB:${cells(9, cpu4.tlb)}   TLB shootdowns`,
    `MCP:${cells(10, 7)}   Machine check polls`,
    "ERR:          3",
    "MIS:          0",
    "",
  ].join("\n");
}

/** /proc/softirqs: the header, then one `%12s:` row per softirq. */
function procSoftirqs(cpu4: { timer: number; rcu: number; sched: number }): string {
  const names = [
    "HI",
    "TIMER",
    "NET_TX",
    "NET_RX",
    "BLOCK",
    "IRQ_POLL",
    "TASKLET",
    "SCHED",
    "HRTIMER",
    "RCU",
  ];
  const own: Record<string, number> = { TIMER: cpu4.timer, RCU: cpu4.rcu, SCHED: cpu4.sched };
  const header = `${" ".repeat(20)}${Array.from({ length: CPUS }, (_, c) => `CPU${c}`.padEnd(11)).join("")}`;
  const rows = names.map(
    (n, i) =>
      `${`${n}:`.padStart(13)}${Array.from({ length: CPUS }, (_, c) => ` ${String(c === 4 ? (own[n] ?? 0) : 500 + i).padStart(10)}`).join("")}`,
  );
  return `${[header.trimEnd(), ...rows].join("\n")}\n`;
}

/** /proc/schedstat, version 15: a cpuN line (its last field, pcount, given for CPU 4) and its domains. */
function procSchedstat(cpu4Pcount: number): string {
  const lines = ["version 15", "timestamp 4297405871"];
  for (let c = 0; c < CPUS; c++) {
    lines.push(`cpu${c} 0 0 0 0 0 0 98765432100 1234567 ${c === 4 ? cpu4Pcount : 40000 + c}`);
    lines.push(`domain0 ff 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0`);
  }
  return `${lines.join("\n")}\n`;
}

const BEFORE = {
  interrupts: procInterrupts({ nic: 3, loc: 120, res: 10, cal: 4, tlb: 2 }),
  softirqs: procSoftirqs({ timer: 50, rcu: 30, sched: 8 }),
  schedstat: procSchedstat(900),
};
const AFTER = {
  interrupts: procInterrupts({ nic: 3, loc: 130, res: 13, cal: 4, tlb: 5 }),
  softirqs: procSoftirqs({ timer: 54, rcu: 31, sched: 8 }),
  schedstat: procSchedstat(912),
};

describe("the noise report, from the kernel's layouts", () => {
  it("counts each named row and device IRQ on the isolated CPU; ERR and MIS are no CPU's", () => {
    expect(tableDeltas(BEFORE.interrupts, AFTER.interrupts, 4)).toEqual({ LOC: 10, RES: 3, TLB: 3 });
    const nicAndErrors = procInterrupts({ nic: 11, loc: 130, res: 13, cal: 4, tlb: 5 }).replace(
      "ERR:          3",
      "ERR:          9",
    );
    expect(tableDeltas(BEFORE.interrupts, nicAndErrors, 4)).toEqual({
      "IRQ 24 (virtio0-input.0)": 8,
      LOC: 10,
      RES: 3,
      TLB: 3,
    });
    expect(tableDeltas(BEFORE.softirqs, AFTER.softirqs, 4)).toEqual({ TIMER: 4, RCU: 1 });
    expect(schedstatSwitches(AFTER.schedstat).get(4)).toBe(912);
  });

  it("keeps raw numbers in JSON and gives one line per CPU", () => {
    const report = noiseReport([4], 2, {
      interrupts0: BEFORE.interrupts,
      interrupts1: AFTER.interrupts,
      softirqs0: BEFORE.softirqs,
      softirqs1: AFTER.softirqs,
      schedstat0: BEFORE.schedstat,
      schedstat1: AFTER.schedstat,
      status0: "voluntary_ctxt_switches:\t100\nnonvoluntary_ctxt_switches:\t7\n",
      status1: "voluntary_ctxt_switches:\t160\nnonvoluntary_ctxt_switches:\t9\n",
    });
    expect(report).toEqual({
      window_s: 2,
      cpus: {
        "4": {
          interrupts: { total: 16, per_s: 8, by_kind: { LOC: 10, RES: 3, TLB: 3 } },
          softirqs: { total: 5, per_s: 2.5, by_kind: { TIMER: 4, RCU: 1 } },
          switches_in: 12,
        },
      },
      redis: { voluntary_switches: 60, nonvoluntary_switches: 2 },
    });
    expect(noiseText(report)).toEqual([
      "CPU 4 in 2 s: 16 interrupts (8/s): LOC 10, RES 3, TLB 3; 5 softirqs (2.5/s): TIMER 4, RCU 1; 12 tasks switched in",
      "Redis in 2 s: 60 voluntary and 2 involuntary context switches",
    ]);
  });

  it("says what it could not read rather than reporting zero", () => {
    const report = noiseReport([4, 5], 1, { interrupts0: BEFORE.interrupts, interrupts1: BEFORE.interrupts });
    expect(report.cpus["5"]).toEqual({
      interrupts: { total: 0, per_s: 0, by_kind: {} },
      softirqs: null,
      switches_in: null,
    });
    expect(noiseText(report)[1]).toBe(
      "CPU 5 in 1 s: 0 interrupts (0/s); softirqs: not read (no file, or no column for the CPU); task switches: not read (no /proc/schedstat, or no line for the CPU)",
    );
    // a CPU the table has no column for (offline, or not on this host) is not a CPU without noise
    expect(
      noiseReport([9], 1, { interrupts0: BEFORE.interrupts, interrupts1: BEFORE.interrupts }).cpus["9"]
        ?.interrupts,
    ).toBeNull();
  });
});

describe("the noise report read by the probe over a fixture /proc (real shell, counters moving in the window)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-noise-"));
    await mkdir(join(dir, "proc"), { recursive: true });
    await mkdir(join(dir, "sys/devices/system/cpu"), { recursive: true });
    await writeFile(join(dir, "sys/devices/system/cpu/isolated"), "4\n");
    await writeFile(join(dir, "sys/devices/system/cpu/nohz_full"), "4\n");
    for (const [name, text] of Object.entries(BEFORE)) await writeFile(join(dir, "proc", name), text);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reports the deltas between the reads at the window's ends, in the JSON report and as text", async () => {
    const ctx = { ...coreContext(), host: "fixture" };
    const running = validateIsolationModule.apply(
      new LocalConnection(),
      {
        isolated_cpus: "4",
        nic_irq_pattern: "^virtio0-(input|output)\\.\\d+$",
        window: 2,
        proc_root: `${dir}/proc`,
        sys_root: `${dir}/sys`,
        save_file: `${dir}/save.json`,
        report_dir: `${dir}/host-reports`,
      },
      ctx,
    );
    // the first reads happen at once; the counters move well inside the 2 s window
    await new Promise((r) => setTimeout(r, 700));
    for (const [name, text] of Object.entries(AFTER)) await writeFile(join(dir, "proc", name), text);
    const r = await running;
    const noOsnoise = `osnoise not available: ${dir}/sys/kernel/tracing/available_tracers has no osnoise tracer (or tracefs is not mounted there)`;
    expect((r.report as { noise: unknown }).noise).toEqual({
      window_s: 2,
      cpus: {
        "4": {
          interrupts: { total: 16, per_s: 8, by_kind: { LOC: 10, RES: 3, TLB: 3 } },
          softirqs: { total: 5, per_s: 2.5, by_kind: { TIMER: 4, RCU: 1 } },
          switches_in: 12,
          // each limit with the raw per-second value it judged (no Redis here: every switch-in is another task's)
          limits: {
            loc_per_s: { value: 5, max: 20, status: "ok" },
            res_per_s: { value: 1.5, max: 50, status: "ok" },
            cal_per_s: { value: 0, max: 5, status: "ok" },
            tlb_per_s: { value: 1.5, max: 5, status: "ok" },
            softirqs_per_s: { value: 2.5, max: 50, status: "ok" },
            net_softirqs_per_s: { value: 0, max: 0, status: "ok" },
            rcu_softirqs_per_s: { value: 0.5, max: 5, status: "ok" },
            sched_softirqs_per_s: { value: 0, max: 5, status: "ok" },
            other_switches_in_per_s: { value: 6, max: 5, status: "warning" },
            osnoise_max_single_us: { value: null, max: 50, status: "skipped", reason: noOsnoise },
            osnoise_available_pct: { value: null, min: 99.9, status: "skipped", reason: noOsnoise },
          },
        },
      },
    });
    expect(r.noise_text).toEqual([
      "CPU 4 in 2 s: 16 interrupts (8/s): LOC 10, RES 3, TLB 3; 5 softirqs (2.5/s): TIMER 4, RCU 1; 12 tasks switched in — warning: other tasks switched in/s 6 (at most 5); ok: LOC/s 5, RES/s 1.5, CAL/s 0, TLB/s 1.5, softirqs/s 2.5, NET_RX+NET_TX softirqs/s 0, RCU softirqs/s 0.5, SCHED softirqs/s 0; skipped: osnoise max single noise (µs) not measured, osnoise % of CPU available not measured",
    ]);
    // a warning does not fail the host; the message names it
    expect(r.failed).toBe(false);
    expect(String(r.msg)).toContain(
      "noise other_switches_in_per_s: other tasks switched in/s (at most 5) on CPU 4 in 2 s: CPU 4 6 (warning)",
    );
  });
});
