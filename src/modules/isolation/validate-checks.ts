/**
 * validate_isolation's checks, pure: what the probe script read (a Snapshot) against the settings,
 * one Check per property (isolated and nohz_full lists, NIC IRQs' effective affinity, Redis's
 * Cpus_allowed_list, the other units' AllowedCPUs, interrupts and context switches over the window,
 * the kernel threads that could be moved off the isolated CPUs).
 */
import { type InterruptRow, parseInterrupts } from "../../facts/interrupts.js";
import { formatCpuList, parseCpuList } from "./cpus.js";
import { kthreadCheck } from "./kthreads.js";
import { type NoiseReads, type NoiseReport, noiseReport } from "./noise.js";
import { judgeNoise, resolveLimits } from "./noise-limits.js";
import { type OsnoiseRun, type OsnoiseSections, osnoiseRun } from "./osnoise.js";
import type { ValidateIsolationArgs } from "./validate_isolation.js";

/** `warning`: reported, never fails the host (the kernel threads that could be moved off). */
export type CheckStatus = "ok" | "failed" | "skipped" | "warning";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
}

/** What the probe script read, by section (`undefined` = the file did not exist). */
export interface Snapshot extends NoiseReads, OsnoiseSections {
  isolated?: string;
  nohzFull?: string;
  /** The irq_affinity save (for the IRQs it recorded as kernel-managed). */
  save?: string;
  systemd: boolean;
  /** `systemctl show` of Redis's unit and of each other unit. */
  redisShow?: string;
  unitShow: Record<string, string>;
  /** IRQ number → [effective_affinity_list, smp_affinity_list] ("" when unreadable). */
  irqAffinity: Record<string, [string, string]>;
  /** Every kernel thread: `PID<TAB>Cpus_allowed_list<TAB>its stat line` (kthreads.ts). */
  kthreads?: string;
}

export const DEFAULT_UNITS = ["system.slice", "user.slice", "init.scope"];

export function validateSettings(args: ValidateIsolationArgs) {
  const sysRoot = (args.sys_root ?? "/sys").replace(/\/+$/, "");
  return {
    isolated: parseCpuList(args.isolated_cpus),
    pattern: new RegExp(args.nic_irq_pattern),
    redisUnit: args.redis_unit ?? "redis-server.service",
    units: args.units ?? DEFAULT_UNITS,
    window: args.window ?? 10,
    maxDeviceInterrupts: args.max_device_interrupts ?? 0,
    maxSwitches: args.max_nonvoluntary_switches ?? 20,
    procRoot: (args.proc_root ?? "/proc").replace(/\/+$/, ""),
    sysRoot,
    /** tracefs: where the osnoise tracer is looked for (a fixture in tests, like sys_root). */
    tracefs: (args.tracefs ?? `${sysRoot}/kernel/tracing`).replace(/\/+$/, ""),
    osnoise: (args.osnoise ?? "auto") === "auto",
    osnoiseWindow: args.osnoise_window ?? 5,
    limits: resolveLimits(args.limits),
    saveFile: args.save_file ?? "/var/lib/tickless/irq-affinity.json",
    reportDir: args.report_dir ?? "/var/lib/tickless",
  };
}

/** The one-round-trip read: sections `@@NAME 1` (content follows) or `@@NAME 0` (absent). */
function showValue(show: string | undefined, key: string): string | undefined {
  const m = new RegExp(`^${key}=(.*)$`, "m").exec(show ?? "");
  return m?.[1];
}

/** "0-3 5-7" (systemctl) or "0-3,5-7" (sysfs) as CPU numbers; the kernel prints an empty nohz_full mask as "(null)". */
function cpus(text: string): number[] {
  const t = text.trim();
  return t === "(null)" ? [] : parseCpuList(t.replace(/\s+/g, ","));
}

function statusField(status: string | undefined, key: string): string | undefined {
  return new RegExp(`^${key}:\\s*(.*)$`, "m").exec(status ?? "")?.[1]?.trim();
}

const NO_SYSTEMD = "skipped: no systemd on this host";

/** Pure: every check from a snapshot. */
export function evaluate(args: ValidateIsolationArgs, snap: Snapshot): Check[] {
  const s = validateSettings(args);
  const want = formatCpuList(s.isolated);
  const checks: Check[] = [];
  const add = (name: string, status: CheckStatus, detail: string) => checks.push({ name, status, detail });
  const overlap = (list: number[]) => list.filter((c) => s.isolated.includes(c));

  if (args.skip_boot_checks) {
    add("isolated", "skipped", args.skip_boot_checks);
    add("nohz_full", "skipped", args.skip_boot_checks);
  } else {
    const isolated = formatCpuList(cpus(snap.isolated ?? ""));
    if (snap.isolated === undefined)
      add("isolated", "failed", `${s.sysRoot}/devices/system/cpu/isolated is missing`);
    else if (isolated === want) add("isolated", "ok", `isolated CPUs are ${want}`);
    else add("isolated", "failed", `isolated CPUs are "${isolated}", expected ${want}`);
    if (snap.nohzFull === undefined) {
      add(
        "nohz_full",
        "skipped",
        `the kernel lacks NO_HZ_FULL (no ${s.sysRoot}/devices/system/cpu/nohz_full): the isolated CPUs keep the scheduler tick`,
      );
    } else {
      const nohz = formatCpuList(cpus(snap.nohzFull));
      if (nohz === want) add("nohz_full", "ok", `nohz_full CPUs are ${want}`);
      else add("nohz_full", "failed", `nohz_full CPUs are "${nohz}", expected ${want}`);
    }
  }

  checks.push(irqCheck(s, snap, overlap));
  checks.push(...systemdChecks(s, snap, want, overlap));
  checks.push(interruptCheck(s, snap));
  checks.push(switchCheck(s, snap));
  checks.push(kthreadCheck(s.isolated, snap.kthreads, s.procRoot));
  checks.push(...noiseFindings(args, snap).checks);
  return checks;
}

/**
 * The noise report with the osnoise figures and each limit's status per CPU, and the checks: the
 * osnoise run itself (failed when the tracer could not be run or put back), then one per limit.
 */
export function noiseFindings(
  args: ValidateIsolationArgs,
  snap: Snapshot,
): { noise: NoiseReport; osnoise: OsnoiseRun; checks: Check[] } {
  const s = validateSettings(args);
  const noise = noiseReport(s.isolated, s.window, snap);
  const osnoise = osnoiseRun(s.tracefs, s.osnoiseWindow, s.osnoise, snap);
  for (const [cpu, figure] of Object.entries(osnoise.cpus)) {
    const n = noise.cpus[cpu];
    if (n) n.osnoise = figure;
  }
  const allowed = statusField(snap.status0, "Cpus_allowed_list");
  const redisCpus = allowed === undefined ? [] : cpus(allowed);
  const limitChecks = judgeNoise(noise, {
    limits: s.limits,
    isolated: s.isolated,
    bootSkipped: args.skip_boot_checks || undefined,
    nohzFull: snap.nohzFull === undefined ? undefined : cpus(snap.nohzFull),
    redisCpu: redisCpus.length === 1 ? redisCpus[0] : undefined,
    osnoise,
  });
  const osnoiseCheck: Check = {
    name: "osnoise",
    status: osnoise.state === "ran" ? "ok" : osnoise.state === "failed" ? "failed" : "skipped",
    detail: `${osnoise.state === "ran" ? "" : `${osnoise.state}: `}${osnoise.detail}`,
  };
  return { noise, osnoise, checks: [osnoiseCheck, ...limitChecks] };
}

type Settings = ReturnType<typeof validateSettings>;

/** No IRQ the pattern selects has an isolated CPU in its effective affinity (kernel-managed ones excepted). */
function irqCheck(s: Settings, snap: Snapshot, overlap: (l: number[]) => number[]): Check {
  const rows = parseInterrupts(snap.interrupts0 ?? "").rows.filter((r) => /^\d+$/.test(r.irq));
  const selected = rows.filter((r) => s.pattern.test(r.name));
  if (selected.length === 0) {
    return {
      name: "nic_irqs",
      status: "failed",
      detail: `nic_irq_pattern ${s.pattern.source} selects no IRQ`,
    };
  }
  const managed = managedIrqs(snap.save);
  const later = new Map(parseInterrupts(snap.interrupts1 ?? "").rows.map((r) => [r.irq, r.total] as const));
  const bad: string[] = [];
  const kept: string[] = [];
  for (const r of selected) {
    const [effective, list] = snap.irqAffinity[r.irq] ?? ["", ""];
    const where = effective || list;
    const on = overlap(where === "" ? [] : cpus(where));
    if (on.length === 0) continue;
    const label = `IRQ ${r.irq} (${r.name}) on CPU ${formatCpuList(on)}`;
    // Without interrupt remapping the kernel moves an IRQ at its next interrupt: one whose list
    // leaves the isolated CPUs out and that did not fire in the window (a NIC's config-change
    // IRQ, seen on the VM) delivered nothing there, and its first interrupt completes the move.
    const listOk = list !== "" && overlap(cpus(list)).length === 0;
    if (managed.has(r.irq)) kept.push(`${label}, kernel-managed`);
    else if (listOk && later.get(r.irq) === r.total)
      kept.push(
        `${label}, its move pending until its next interrupt (none in the window; its list is ${list})`,
      );
    else bad.push(label);
  }
  const names = selected.map((r) => `${r.irq} (${r.name})`).join(", ");
  if (bad.length > 0) {
    return {
      name: "nic_irqs",
      status: "failed",
      detail: `effective affinity on an isolated CPU: ${bad.join(", ")}`,
    };
  }
  const note = kept.length > 0 ? `; left where the kernel keeps them: ${kept.join(", ")}` : "";
  return {
    name: "nic_irqs",
    status: "ok",
    detail: `no isolated CPU in the effective affinity of ${names}${note}`,
  };
}

function managedIrqs(save: string | undefined): Set<string> {
  try {
    return new Set(Object.keys((JSON.parse(save ?? "{}") as { unchangeable?: object }).unchangeable ?? {}));
  } catch {
    return new Set();
  }
}

/** Redis's process affinity and the other units' AllowedCPUs, through systemd. */
function systemdChecks(
  s: Settings,
  snap: Snapshot,
  want: string,
  overlap: (l: number[]) => number[],
): Check[] {
  if (!snap.systemd) {
    return [
      { name: "redis_affinity", status: "skipped", detail: NO_SYSTEMD },
      ...s.units.map((u) => ({ name: `${u} AllowedCPUs`, status: "skipped" as const, detail: NO_SYSTEMD })),
    ];
  }
  const out: Check[] = [];
  const pid = showValue(snap.redisShow, "MainPID") ?? "0";
  const allowed = statusField(snap.status0, "Cpus_allowed_list");
  if (pid === "0" || allowed === undefined) {
    out.push({
      name: "redis_affinity",
      status: "failed",
      detail: `${s.redisUnit} is not running (ActiveState=${showValue(snap.redisShow, "ActiveState") ?? "?"})`,
    });
  } else {
    const got = formatCpuList(cpus(allowed));
    out.push(
      got === want
        ? {
            name: "redis_affinity",
            status: "ok",
            detail: `${s.redisUnit} (PID ${pid}) Cpus_allowed_list ${got}`,
          }
        : {
            name: "redis_affinity",
            status: "failed",
            detail: `${s.redisUnit} (PID ${pid}) has Cpus_allowed_list ${got}, expected ${want}`,
          },
    );
  }
  for (const u of s.units) {
    const name = `${u} AllowedCPUs`;
    const value = showValue(snap.unitShow[u], "AllowedCPUs") ?? "";
    if (value.trim() === "") {
      out.push({
        name,
        status: "failed",
        detail: `${u} has no AllowedCPUs: it may run on every CPU, ${want} included`,
      });
      continue;
    }
    const on = overlap(cpus(value));
    out.push(
      on.length === 0
        ? { name, status: "ok", detail: `${u} AllowedCPUs ${formatCpuList(cpus(value))}` }
        : {
            name,
            status: "failed",
            detail: `${u} AllowedCPUs ${formatCpuList(cpus(value))} includes ${formatCpuList(on)}`,
          },
    );
  }
  return out;
}

/** Per-row deltas of device interrupts on the isolated CPUs between the two reads. */
export function interruptDeltas(
  s: Settings,
  before: string,
  after: string,
): { row: InterruptRow; delta: number }[] {
  const a = parseInterrupts(before);
  const b = parseInterrupts(after);
  const cols = (cpusOf: number[]) => s.isolated.map((c) => cpusOf.indexOf(c)).filter((i) => i >= 0);
  const beforeRows = new Map(a.rows.map((r) => [r.irq, r]));
  return b.rows.map((row) => {
    const old = beforeRows.get(row.irq);
    const now = cols(b.cpus).reduce((sum, i) => sum + (row.counts[i] ?? 0), 0);
    const was = old ? cols(a.cpus).reduce((sum, i) => sum + (old.counts[i] ?? 0), 0) : 0;
    return { row, delta: now - was };
  });
}

function interruptCheck(s: Settings, snap: Snapshot): Check {
  const name = "interrupts_on_isolated";
  if (snap.interrupts0 === undefined || snap.interrupts1 === undefined) {
    return { name, status: "failed", detail: `${s.procRoot}/interrupts is missing` };
  }
  const deltas = interruptDeltas(s, snap.interrupts0, snap.interrupts1).filter((d) => d.delta > 0);
  // An IRQ allowed only on isolated CPUs (a kernel-managed per-CPU queue such as virtio1-req.4 or
  // nvme0q5, whose affinity cannot be changed, or one pinned there on purpose) fires only for work
  // that runs on those CPUs, e.g. Redis's own disk writes: reported, not counted. Every other
  // device IRQ could run on a housekeeping CPU, so each of its interrupts here counts.
  const bound = (d: (typeof deltas)[number]) => {
    const allowed = cpus(snap.irqAffinity[d.row.irq]?.[1] ?? "");
    return allowed.length > 0 && allowed.every((c) => s.isolated.includes(c));
  };
  const numbered = deltas.filter((d) => /^\d+$/.test(d.row.irq));
  const device = numbered.filter((d) => !bound(d));
  const own = numbered.filter(bound);
  const total = device.reduce((sum, d) => sum + d.delta, 0);
  const list = (ds: typeof deltas) =>
    ds.map((d) =>
      /^\d+$/.test(d.row.irq) ? `IRQ ${d.row.irq} (${d.row.name}) +${d.delta}` : `${d.row.irq} +${d.delta}`,
    );
  const other = deltas.filter((d) => !/^\d+$/.test(d.row.irq));
  const info =
    (own.length > 0
      ? `; IRQs allowed only on the isolated CPUs (per-CPU queues, not counted): ${list(own).join(", ")}`
      : "") + (other.length > 0 ? `; other counters: ${list(other).join(", ")}` : "");
  const where = `on CPU ${formatCpuList(s.isolated)} in ${s.window} s`;
  if (total > s.maxDeviceInterrupts) {
    return {
      name,
      status: "failed",
      detail: `${total} device interrupts ${where} (at most ${s.maxDeviceInterrupts}): ${list(device).join(", ")}${info}`,
    };
  }
  return { name, status: "ok", detail: `${total} device interrupts ${where}${info}` };
}

function switchCheck(s: Settings, snap: Snapshot): Check {
  const name = "redis_nonvoluntary_switches";
  if (!snap.systemd) return { name, status: "skipped", detail: NO_SYSTEMD };
  const a = statusField(snap.status0, "nonvoluntary_ctxt_switches");
  const b = statusField(snap.status1, "nonvoluntary_ctxt_switches");
  if (a === undefined || b === undefined) {
    return { name, status: "failed", detail: `${s.redisUnit} is not running (or exited during the window)` };
  }
  const delta = Number(b) - Number(a);
  const detail = `${delta} involuntary context switches of Redis's main thread in ${s.window} s (at most ${s.maxSwitches})`;
  return { name, status: delta > s.maxSwitches ? "failed" : "ok", detail };
}

/** `2026-11-24T08:45:00.123Z` → `20261124T084500Z`. */
