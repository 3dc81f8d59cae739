import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** intel_idle's states on a Skylake-SP server, as the kernel lists them: name, exit latency (µs), target residency (µs). */
export const INTEL_IDLE_STATES: [string, number, number][] = [
  ["POLL", 0, 0],
  ["C1", 2, 2],
  ["C1E", 10, 20],
  ["C6", 133, 600],
];

export interface CpuPowerFixture {
  cpus?: number;
  /** false: no cpufreq driver (a VM): no cpufreq/ directory, no cpuN/cpufreq link. */
  cpufreq?: boolean;
  governor?: string;
  /** intel_pstate's two; acpi-cpufreq lists more. */
  availableGovernors?: string;
  /** false: a driver without EPP (acpi-cpufreq, intel_pstate in passive mode). */
  epp?: boolean;
  /** false: no power/energy_perf_bias (a CPU without EPB). */
  epb?: boolean;
  /** The cpuidle driver: intel_idle's four states, or none (no cpuN/cpuidle). */
  cpuidle?: "intel_idle" | "none";
}

/**
 * The CPU part of a sysfs tree under `sysDir` as an intel_pstate host with intel_idle lays it
 * out: `devices/system/cpu/cpufreq/policyN/` (one policy per CPU, each `cpuN/cpufreq` a link to
 * it) with the governor `powersave` and EPP `balance_performance`, `cpuN/power/energy_perf_bias`
 * (6, normal), `cpuN/cpuidle/stateK/` (POLL, C1, C1E, C6, none disabled), and
 * `cpuidle/current_driver`. Options take parts away as a VM or another driver has them.
 */
export async function writeCpuPowerFixture(sysDir: string, o: CpuPowerFixture = {}): Promise<void> {
  const n = o.cpus ?? 8;
  const cpu = join(sysDir, "devices/system/cpu");
  await mkdir(join(cpu, "cpuidle"), { recursive: true });
  await writeFile(join(cpu, "online"), `0-${n - 1}\n`);
  await writeFile(join(cpu, "cpuidle/current_driver"), `${o.cpuidle ?? "intel_idle"}\n`);
  await writeFile(join(cpu, "cpuidle/current_governor_ro"), "menu\n");
  for (let i = 0; i < n; i++) {
    const c = join(cpu, `cpu${i}`);
    await mkdir(join(c, "topology"), { recursive: true });
    await writeFile(join(c, "topology/thread_siblings_list"), `${i}\n`);
    if (o.cpufreq !== false) {
      const p = join(cpu, "cpufreq", `policy${i}`);
      await mkdir(p, { recursive: true });
      const files: Record<string, string> = {
        affected_cpus: `${i}`,
        related_cpus: `${i}`,
        cpuinfo_min_freq: "1000000",
        cpuinfo_max_freq: "3700000",
        scaling_min_freq: "1000000",
        scaling_max_freq: "3700000",
        scaling_driver: "intel_pstate",
        scaling_governor: o.governor ?? "powersave",
        scaling_available_governors: o.availableGovernors ?? "performance powersave",
      };
      if (o.epp !== false) {
        files.energy_performance_preference = "balance_performance";
        // intel_pstate prints the list with a trailing space
        files.energy_performance_available_preferences =
          "default performance balance_performance balance_power power ";
      }
      for (const [name, text] of Object.entries(files)) await writeFile(join(p, name), `${text}\n`);
      await symlink(`../cpufreq/policy${i}`, join(c, "cpufreq"));
    }
    if (o.epb !== false) {
      await mkdir(join(c, "power"), { recursive: true });
      await writeFile(join(c, "power/energy_perf_bias"), "6\n");
    }
    if ((o.cpuidle ?? "intel_idle") === "intel_idle") {
      for (const [k, [name, latency, residency]] of INTEL_IDLE_STATES.entries()) {
        const s = join(c, "cpuidle", `state${k}`);
        await mkdir(s, { recursive: true });
        const files: Record<string, string> = {
          name,
          desc: name === "POLL" ? "CPUIDLE CORE POLL IDLE" : `MWAIT 0x${(k - 1) * 16}`,
          latency: String(latency),
          residency: String(residency),
          disable: "0",
          usage: String(1000 * (k + 1) + i),
          time: String(500000 * (k + 1)),
        };
        for (const [f, text] of Object.entries(files)) await writeFile(join(s, f), `${text}\n`);
      }
    }
  }
}
