/**
 * What `cpu_power` reads under `<sys_root>/devices/system/cpu`, in one command: each cpufreq
 * policy (`cpufreq/policyN/`: `affected_cpus`, `scaling_governor`, `scaling_available_governors`,
 * `energy_performance_preference`, `energy_performance_available_preferences`; every
 * `cpuN/cpufreq` is a link to its policy, so a policy shared by several CPUs is one file, not
 * one per CPU), each CPU's `power/energy_perf_bias`, and each CPU's idle states
 * (`cpuN/cpuidle/stateK/{name,latency,disable}`). A file that does not exist is not printed: a
 * VM without cpufreq or cpuidle reads as no policies, no states.
 */
import { quote } from "shell-quote";
import { errnoText } from "./irq-proc.js";

/** One file as read: its text (trimmed), or the errno text of the read. */
export interface SysRead {
  value?: string;
  error?: string;
}

export interface CpufreqPolicy {
  /** `policy4` */
  name: string;
  dir: string;
  cpus: number[];
  governor?: SysRead;
  availableGovernors?: string[];
  epp?: SysRead;
  availableEpp?: string[];
}

export interface IdleState {
  cpu: number;
  index: number;
  dir: string;
  name: string;
  /** Exit latency in µs, as the kernel reports it. */
  latency: number;
  disable?: SysRead;
}

export interface CpuPowerRead {
  /** The CPUs that have a `cpuN` directory. */
  cpus: number[];
  policies: CpufreqPolicy[];
  /** CPU → its energy_perf_bias file (absolute path) as read. */
  epb: Map<number, { path: string; read: SysRead }>;
  idle: IdleState[];
  /** `cpuidle/current_driver` ("intel_idle", "acpi_idle", "haltpoll", "none"), when present. */
  idleDriver?: string;
  /** `cpufreq` driver of the first policy (`scaling_driver`), when present. */
  cpufreqDriver?: string;
}

const POLICY_FILES = [
  "affected_cpus",
  "scaling_driver",
  "scaling_governor",
  "scaling_available_governors",
  "energy_performance_preference",
  "energy_performance_available_preferences",
];

/**
 * `@@ok<TAB>path<TAB>text` or `@@err<TAB>path<TAB>error` for each file that exists. The shell's
 * own `read` takes each file (no process per file on a host with hundreds of CPUs); a file it
 * cannot read is read again with `cat` for the errno text.
 */
export function readScript(sysRoot: string): string {
  const cpu = `${quote([sysRoot])}/devices/system/cpu`;
  const files = [
    `$C/cpuidle/current_driver`,
    ...POLICY_FILES.map((f) => `$C/cpufreq/policy[0-9]*/${f}`),
    "$C/cpu[0-9]*/power/energy_perf_bias",
    "$C/cpu[0-9]*/cpuidle/state[0-9]*/name",
    "$C/cpu[0-9]*/cpuidle/state[0-9]*/latency",
    "$C/cpu[0-9]*/cpuidle/state[0-9]*/disable",
  ];
  return [
    `C=${cpu}`,
    `for d in $C/cpu[0-9]*; do [ -d "$d" ] && printf '@@cpu\\t%s\\n' "\${d##*/cpu}"; done`,
    `for f in ${files.join(" ")}; do`,
    '  [ -e "$f" ] || continue',
    `  if v=""; IFS= read -r v < "$f" 2>/dev/null || [ -n "$v" ]; then printf '@@ok\\t%s\\t%s\\n' "$f" "$v";`,
    `  else e=$(cat -- "$f" 2>&1 >/dev/null); printf '@@err\\t%s\\t%s\\n' "$f" "\${e:-unreadable}"; fi`,
    "done",
    "true",
  ].join("\n");
}

const words = (r: SysRead | undefined) => (r?.value ?? "").trim().split(/\s+/).filter(Boolean);

/** The files a restore reads: exactly the saved paths, each printed as readScript prints it. */
export function readPathsScript(paths: string[]): string {
  if (paths.length === 0) return "true";
  return [
    `for f in ${paths.map((p) => quote([p])).join(" ")}; do`,
    '  [ -e "$f" ] || continue',
    `  if v=""; IFS= read -r v < "$f" 2>/dev/null || [ -n "$v" ]; then printf '@@ok\\t%s\\t%s\\n' "$f" "$v";`,
    `  else e=$(cat -- "$f" 2>&1 >/dev/null); printf '@@err\\t%s\\t%s\\n' "$f" "\${e:-unreadable}"; fi`,
    "done",
  ].join("\n");
}

/** Each file a script printed: path → its text, or the errno text of its read. */
export function parseFiles(stdout: string): Map<string, SysRead> {
  const files = new Map<string, SysRead>();
  for (const m of stdout.matchAll(/^@@(ok|err)\t([^\t\n]+)(?:\t(.*))?$/gm))
    files.set(m[2], m[1] === "ok" ? { value: (m[3] ?? "").trim() } : { error: errnoText(m[3] ?? "") });
  return files;
}

/** Parses the script's output; `sysRoot` only to name the files. */
export function parseRead(stdout: string, sysRoot: string): CpuPowerRead {
  const files = parseFiles(stdout);
  const cpus = [...stdout.matchAll(/^@@cpu\t(\d+)$/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
  const root = `${sysRoot.replace(/(.)\/+$/, "$1")}/devices/system/cpu`.replace(/^\/\//, "/");
  const policies = new Map<string, CpufreqPolicy>();
  const epb = new Map<number, { path: string; read: SysRead }>();
  const idle = new Map<string, IdleState>();
  for (const [path, read] of files) {
    const rel = path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
    const policy = /^cpufreq\/(policy\d+)\/(\w+)$/.exec(rel);
    if (policy) {
      const [, name, file] = policy;
      const p = policies.get(name) ?? { name, dir: `${root}/cpufreq/${name}`, cpus: [] };
      policies.set(name, p);
      if (file === "affected_cpus") p.cpus = words(read).map(Number);
      if (file === "scaling_governor") p.governor = read;
      if (file === "scaling_available_governors") p.availableGovernors = words(read);
      if (file === "energy_performance_preference") p.epp = read;
      if (file === "energy_performance_available_preferences") p.availableEpp = words(read);
      continue;
    }
    const bias = /^cpu(\d+)\/power\/energy_perf_bias$/.exec(rel);
    if (bias) {
      epb.set(Number(bias[1]), { path, read });
      continue;
    }
    const state = /^cpu(\d+)\/cpuidle\/state(\d+)\/(name|latency|disable)$/.exec(rel);
    if (state) {
      const key = `${state[1]}/${state[2]}`;
      const s = idle.get(key) ?? {
        cpu: Number(state[1]),
        index: Number(state[2]),
        dir: `${root}/cpu${state[1]}/cpuidle/state${state[2]}`,
        name: "",
        latency: Number.NaN,
      };
      idle.set(key, s);
      if (state[3] === "name") s.name = read.value ?? "";
      if (state[3] === "latency") s.latency = read.value === undefined ? Number.NaN : Number(read.value);
      if (state[3] === "disable") s.disable = read;
    }
  }
  const byNumber = (a: string, b: string) => Number(a.replace(/\D/g, "")) - Number(b.replace(/\D/g, ""));
  const sortedPolicies = [...policies.values()].sort((a, b) => byNumber(a.name, b.name));
  return {
    cpus,
    policies: sortedPolicies,
    epb,
    idle: [...idle.values()].sort((a, b) => a.cpu - b.cpu || a.index - b.index),
    idleDriver: files.get(`${root}/cpuidle/current_driver`)?.value,
    cpufreqDriver:
      sortedPolicies.length > 0 ? files.get(`${sortedPolicies[0].dir}/scaling_driver`)?.value : undefined,
  };
}
