/**
 * `cpu_power`: the CPU frequency governor, the energy/performance hints and the deep idle states
 * (C-states), as tuned's latency-performance profile sets them (`[cpu] governor=performance`,
 * `energy_perf_bias=performance`, `force_latency=cstate.id_no_zero:1|3`), through sysfs:
 * - `governor`: each cpufreq policy's `scaling_governor`, where the governor is in
 *   `scaling_available_governors` (else a warning naming the policy and its CPUs);
 * - `energy_performance_preference`: each policy's EPP (intel_pstate, amd-pstate), where the
 *   value is in `energy_performance_available_preferences`;
 * - `energy_perf_bias`: each CPU's `power/energy_perf_bias` (0 performance … 15 power save);
 * - `idle_max_state` / `idle_max_latency_us`: each idle state deeper than stateN, or whose exit
 *   latency exceeds N µs, gets `disable` = 1 (state0, polling, never). tuned holds
 *   /dev/cpu_dma_latency open from its daemon; tickless has none, and the per-CPU `disable` files
 *   keep their value until the next boot (the boot lines in `tmpfiles` set them again).
 *
 * A host without the files (a VM: no cpufreq, no cpuidle states) is left as it is, with one line
 * in `missing` saying what was not there. Every original is saved in the sysfs module's state
 * file (/var/lib/tickless/sysfs.json, keyed by absolute path, each entry once) before the first
 * write; `state: restored` (rollback.yml) gives them back in the order they were saved
 * (cpu-power-restore.ts): the governor before the preference, which intel_pstate refuses to
 * change (EBUSY) while the governor is `performance`. All writes go in one round trip (tee: the kernel's errno).
 */
import { posix } from "node:path";
import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { applyOriginals, originalsText, parseOriginals } from "../util/originals-file.js";
import {
  type CpuPowerRead,
  parseFiles,
  parseRead,
  readPathsScript,
  readScript,
  type SysRead,
} from "./cpu-power-read.js";
import { cpuPowerLabel, planCpuPowerRestore, savedCpuPowerPaths } from "./cpu-power-restore.js";
import { formatCpuList, parseCpuList } from "./cpus.js";
import { writeAll } from "./irq-proc.js";
import { DEFAULT_SYSFS_STATE_FILE, type SysfsSave } from "./sysfs.js";

export interface CpuPowerArgs {
  /** The CPUs whose settings are managed; every CPU when unset or "". */
  cpus?: string | number | number[];
  /** "" leaves the governor. */
  governor?: string;
  /** "" leaves it. */
  energy_performance_preference?: string;
  /** A name (performance, balance-performance, normal, balance-power, power) or 0-15; "" leaves it. */
  energy_perf_bias?: string | number;
  /** Idle states deeper than this index are disabled; -1 or "" leaves them. */
  idle_max_state?: string | number;
  /** Idle states whose exit latency exceeds this many µs are disabled; -1 or "" leaves them. */
  idle_max_latency_us?: string | number;
  /** restored: every original it saved written back (rollback.yml). */
  state?: "present" | "restored";
  sys_root?: string;
  state_file?: string;
}

export interface CpuPowerState extends CpuPowerRead {
  stateFile: { path: string; exists: boolean; content: string; data?: SysfsSave };
  /** restored: each saved path as read now (a path gone since is absent). */
  saved: Map<string, SysRead>;
}

/** One managed file: its path, what it holds, what it should hold, and its label in messages. */
export interface Wanted {
  path: string;
  now: string;
  want: string;
  label: string;
}

/** The kernel's names for energy_perf_bias values (arch/x86/kernel/cpu/intel_epb.c). */
const EPB_NAMES: Record<string, number> = {
  performance: 0,
  "balance-performance": 4,
  normal: 6,
  "balance-power": 8,
  power: 15,
};

const optionalInt = (v: string | number | undefined): number | undefined => {
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  return n < 0 ? undefined : n;
};

export function cpuPowerSettings(args: CpuPowerArgs) {
  const bias = args.energy_perf_bias;
  return {
    cpus: args.cpus === undefined || args.cpus === "" ? undefined : parseCpuList(args.cpus),
    governor: args.governor ?? "",
    epp: args.energy_performance_preference ?? "",
    epb: bias === undefined || bias === "" ? undefined : String(EPB_NAMES[String(bias)] ?? Number(bias)),
    idleMaxState: optionalInt(args.idle_max_state),
    idleMaxLatency: optionalInt(args.idle_max_latency_us),
    state: args.state ?? "present",
    sysRoot: posix.normalize(args.sys_root ?? "/sys").replace(/(.)\/+$/, "$1"),
    stateFile: args.state_file ?? DEFAULT_SYSFS_STATE_FILE,
  };
}

type Settings = ReturnType<typeof cpuPowerSettings>;

/** The saved file's data, or a located error when it is not what tickless wrote. */
function saveData(content: string, file: string): SysfsSave {
  const data = parseOriginals<SysfsSave>(content, file, `the saved sysfs state ${file} is not valid`);
  return { version: 1, originals: { ...data.originals } };
}

/** restored: the state file first, then exactly the cpu_power paths it holds. */
async function probeRestore(host: HostReader, s: Settings): Promise<CpuPowerState> {
  const read = await host.readFile(s.stateFile);
  const content = read.content?.toString("utf8") ?? "";
  const data = read.exists ? saveData(content, s.stateFile) : undefined;
  const res = await host.run(readPathsScript(savedCpuPowerPaths(data)), { env: { LC_ALL: "C" } });
  const saved = parseFiles(res.stdout);
  for (const path of savedCpuPowerPaths(data)) {
    const p = host.plannedAt?.(path);
    if (p?.type === "file") saved.set(path, { value: (p.content?.toString("utf8") ?? "").trim() });
  }
  return {
    cpus: [],
    policies: [],
    epb: new Map(),
    idle: [],
    saved,
    stateFile: { path: s.stateFile, exists: read.exists, content, data },
  };
}

export async function probeCpuPower(host: HostReader, args: CpuPowerArgs): Promise<CpuPowerState> {
  const s = cpuPowerSettings(args);
  if (s.state === "restored") return probeRestore(host, s);
  const [res, read] = await Promise.all([
    host.run(readScript(s.sysRoot), { env: { LC_ALL: "C" } }),
    host.readFile(s.stateFile),
  ]);
  if (res.rc !== 0) {
    throw new TicklessError(
      "TASK",
      `cannot read ${s.sysRoot}/devices/system/cpu on ${host.name}: ${res.stderr.trim() || `rc ${res.rc}`}`,
    );
  }
  const content = read.content?.toString("utf8") ?? "";
  const state: CpuPowerState = {
    ...parseRead(res.stdout, s.sysRoot),
    saved: new Map(),
    stateFile: {
      path: s.stateFile,
      exists: read.exists,
      content,
      data: read.exists ? saveData(content, s.stateFile) : undefined,
    },
  };

  // a check run: the value an earlier task planned for a file, not the one the host has now
  const planned = (r: SysRead | undefined, path: string): SysRead | undefined => {
    const p = host.plannedAt?.(path);
    return p?.type === "file" ? { value: (p.content?.toString("utf8") ?? "").trim() } : r;
  };
  for (const p of state.policies) {
    p.governor = planned(p.governor, `${p.dir}/scaling_governor`);
    p.epp = planned(p.epp, `${p.dir}/energy_performance_preference`);
  }
  for (const [, e] of state.epb) e.read = planned(e.read, e.path) ?? e.read;
  for (const i of state.idle) i.disable = planned(i.disable, `${i.dir}/disable`);
  return state;
}

const cpuText = (cpus: number[]) => (cpus.length === 1 ? `CPU ${cpus[0]}` : `CPUs ${formatCpuList(cpus)}`);

/**
 * Pure: every file the args manage with the value it should hold (in the order it is written:
 * governor, then the preference, per policy; the biases; the idle states), and the warnings and
 * skips that say what was left and why.
 */
export function wantedFiles(
  s: Settings,
  st: CpuPowerRead,
): { files: Wanted[]; warnings: string[]; skipped: string[] } {
  const files: Wanted[] = [];
  const warnings: string[] = [];
  const skipped: string[] = [];
  const chosen = (cpu: number) => s.cpus === undefined || s.cpus.includes(cpu);
  // a policy whose CPUs are all offline lists none in affected_cpus: inactive, left
  const policies = st.policies.filter((p) => p.cpus.some(chosen));
  const unreadable = (what: string, path: string, r: SysRead | undefined) => {
    if (r?.error !== undefined) warnings.push(`${what}: ${path} cannot be read (${r.error}): left as it is`);
    return r?.value === undefined;
  };
  if ((s.governor !== "" || s.epp !== "") && st.policies.length === 0)
    skipped.push(
      `no cpufreq policy under ${s.sysRoot}/devices/system/cpu/cpufreq (a VM, or no cpufreq driver): the frequency is the hypervisor's or the firmware's; governor and energy preference left`,
    );
  for (const p of policies) {
    const where = `${p.name} (${cpuText(p.cpus)})`;
    if (s.governor !== "" && !unreadable(where, `${p.dir}/scaling_governor`, p.governor)) {
      if (p.availableGovernors && !p.availableGovernors.includes(s.governor))
        warnings.push(
          `${where}: governor ${s.governor} is not available (${p.availableGovernors.join(" ")}): left at ${p.governor?.value}`,
        );
      else
        files.push({
          path: `${p.dir}/scaling_governor`,
          now: p.governor?.value ?? "",
          want: s.governor,
          label: `${where} governor`,
        });
    }
    if (
      s.epp !== "" &&
      p.epp !== undefined &&
      !unreadable(where, `${p.dir}/energy_performance_preference`, p.epp)
    ) {
      if (p.availableEpp && !p.availableEpp.includes(s.epp))
        warnings.push(
          `${where}: energy_performance_preference ${s.epp} is not available (${p.availableEpp.join(" ")}): left at ${p.epp.value}`,
        );
      else
        files.push({
          path: `${p.dir}/energy_performance_preference`,
          now: p.epp.value ?? "",
          want: s.epp,
          label: `${where} energy_performance_preference`,
        });
    }
  }
  if (s.epb !== undefined) {
    for (const [cpu, e] of [...st.epb].sort((a, b) => a[0] - b[0])) {
      if (!chosen(cpu) || unreadable(`CPU ${cpu}`, e.path, e.read)) continue;
      files.push({
        path: e.path,
        now: e.read.value ?? "",
        want: s.epb,
        label: `CPU ${cpu} energy_perf_bias`,
      });
    }
  }
  if (s.idleMaxState !== undefined || s.idleMaxLatency !== undefined) {
    const states = st.idle.filter((i) => chosen(i.cpu));
    if (states.length === 0)
      skipped.push(
        `no cpuidle states under ${s.sysRoot}/devices/system/cpu/cpu*/cpuidle (driver: ${st.idleDriver ?? "none"}): idle states left`,
      );
    for (const i of states) {
      const deep =
        i.index > 0 &&
        ((s.idleMaxState !== undefined && i.index > s.idleMaxState) ||
          (s.idleMaxLatency !== undefined && i.latency > s.idleMaxLatency));
      const path = `${i.dir}/disable`;
      if (!deep || unreadable(`CPU ${i.cpu}`, path, i.disable)) continue;
      files.push({
        path,
        now: i.disable?.value ?? "",
        want: "1",
        label: `CPU ${i.cpu} state${i.index} (${i.name}, ${i.latency} µs) disable`,
      });
    }
  }
  return { files, warnings, skipped };
}

function saveChange(current: CpuPowerState, after: SysfsSave, summary: string): Change {
  const text = originalsText(after);
  return {
    target: current.stateFile.path,
    summary,
    before: current.stateFile.content,
    after: text,
    effect: { path: current.stateFile.path, type: "file", content: text },
  };
}

/** Pure: the originals saved first (those not saved yet), then each write. */
export function planCpuPower(args: CpuPowerArgs, current: CpuPowerState): Change[] {
  if (cpuPowerSettings(args).state === "restored") return planCpuPowerRestore(current);
  const { files } = wantedFiles(cpuPowerSettings(args), current);
  const writes: Change[] = files
    .filter((f) => f.now !== f.want)
    .map((f) => ({
      target: f.path,
      summary: `${f.label}: ${f.now || '""'} → ${f.want}`,
      before: `${f.now}\n`,
      after: `${f.want}\n`,
      effect: { path: f.path, type: "file", content: `${f.want}\n` },
    }));
  if (writes.length === 0) return [];
  const save = current.stateFile.data;
  const fresh = files.filter((f) => f.now !== f.want && save?.originals[f.path] === undefined);
  if (fresh.length === 0) return writes;
  const originals = { ...save?.originals };
  for (const f of fresh) originals[f.path] = f.now;
  const summary = `save the originals of ${fresh.length} CPU power setting${fresh.length === 1 ? "" : "s"} (${fresh.map((f) => `${f.label} ${f.now}`).join(", ")})`;
  return [saveChange(current, { version: 1, originals }, summary), ...writes];
}

/** Why the kernel refuses a write here, beside its errno text. */
const REFUSALS: Record<string, string> = {
  "Invalid argument": "the driver does not take this value",
  "Device or resource busy":
    "intel_pstate keeps energy_performance_preference at performance while the governor is performance",
  "Operation not permitted": "a locked-down attribute, or become: true is missing",
  "Permission denied": "become: true may be needed",
};

/** The errno text with the reason the kernel gives it here, when one is known. */
export function refusalText(errno: string): string {
  const why = REFUSALS[errno];
  return why ? `${errno} (${why})` : errno;
}

/** `w <path> - - - - <value>` lines for systemd-tmpfiles: the same writes at every boot. */
export function tmpfilesLines(args: CpuPowerArgs, current: CpuPowerRead): string[] {
  return wantedFiles(cpuPowerSettings(args), current).files.map((f) => `w ${f.path} - - - - ${f.want}`);
}

export const cpuPowerModule = defineModule<CpuPowerArgs, CpuPowerState>({
  name: "cpu_power",
  kind: "state",
  description:
    "Set the cpufreq governor, the energy/performance hints and disable deep idle states (tuned's latency-performance), saving the originals.",
  args: {
    type: "object",
    properties: {
      cpus: {
        anyOf: [
          { type: "string" },
          { type: "integer", minimum: 0 },
          { type: "array", items: { type: "integer", minimum: 0 } },
        ],
      },
      governor: { type: "string", pattern: "^[A-Za-z0-9_-]*$" },
      energy_performance_preference: { type: "string", pattern: "^[A-Za-z0-9_-]*$" },
      energy_perf_bias: {
        anyOf: [
          { enum: ["", ...Object.keys(EPB_NAMES)] },
          { type: "string", pattern: "^([0-9]|1[0-5])$" },
          { type: "integer", minimum: 0, maximum: 15 },
        ],
      },
      idle_max_state: { anyOf: [{ type: "integer" }, { type: "string", pattern: "^(-?[0-9]+)?$" }] },
      idle_max_latency_us: { anyOf: [{ type: "integer" }, { type: "string", pattern: "^(-?[0-9]+)?$" }] },
      state: { enum: ["present", "restored"] },
      sys_root: { type: "string", pattern: "^/" },
      state_file: { type: "string", pattern: "^/" },
    },
    additionalProperties: false,
  },
  normalize(args) {
    cpuPowerSettings(args);
    return args;
  },
  probe: probeCpuPower,
  plan: planCpuPower,
  async apply(host, args, changes, current): Promise<ModuleResult> {
    const s = cpuPowerSettings(args);
    const save = changes.find((c) => c.target === current.stateFile.path);
    const writes = changes.filter((c) => c !== save);
    // present: the originals first, nothing is written unsaved; restored: the entries go last
    if (s.state === "present") {
      const failed =
        save && (await applyOriginals(host, save, current.stateFile.exists, "every CPU power setting"));
      if (failed) return failed;
    }
    const outcomes = await writeAll(
      host,
      writes.map((w) => ({ key: w.target, path: w.target, value: (w.after ?? "").trim() })),
    );
    const bad = outcomes.filter((o) => !o.ok);
    if (bad.length > 0) {
      const line = (o: (typeof bad)[number]) => {
        const w = writes.find((x) => x.target === o.key);
        return `${JSON.stringify((w?.after ?? "").trim())} to ${o.key}: ${refusalText(o.error ?? "")}`;
      };
      return {
        failed: true,
        msg: `the kernel refused ${bad.map(line).join("; ")} (originals ${s.state === "present" ? "in" : "kept in"} ${s.stateFile})`,
      };
    }
    if (s.state === "restored") {
      const failed = save && (await applyOriginals(host, save, current.stateFile.exists));
      return failed || { msg: `${writes.length} CPU power settings restored from ${s.stateFile}` };
    }
    return { msg: `${writes.length} CPU power settings written (originals in ${s.stateFile})` };
  },
  report(args, state) {
    const s = cpuPowerSettings(args);
    if (s.state === "restored") {
      const left = savedCpuPowerPaths(state.stateFile.data);
      return left.length > 0
        ? { saved: left.map(cpuPowerLabel) }
        : { saved: [], msg: `no saved CPU power settings in ${s.stateFile}: nothing (left) to restore` };
    }
    const { files, warnings, skipped } = wantedFiles(s, state);
    const drifted = files.filter((f) => f.now !== f.want);
    return {
      cpufreq_driver: state.cpufreqDriver ?? null,
      cpuidle_driver: state.idleDriver ?? null,
      governors: Object.fromEntries(state.policies.map((p) => [p.name, p.governor?.value ?? null])),
      disabled_states: state.idle
        .filter((i) => i.disable?.value === "1")
        .map((i) => `CPU ${i.cpu} state${i.index} (${i.name})`),
      warnings,
      missing: skipped,
      // what validate.yml names in check mode: each setting that does not hold
      not_holding: drifted.map((f) => `${f.label} is ${f.now || '""'}, not ${f.want}`),
      tmpfiles: tmpfilesLines(args, state),
    };
  },
});
