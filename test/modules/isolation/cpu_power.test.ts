/**
 * cpu_power on this machine's shell over a fixture sysfs tree in the kernel's layout
 * (test/lab/cpu-power-fixture.ts: intel_pstate policies, energy_perf_bias, intel_idle's states),
 * through the engine's own probe → plan → apply → re-plan loop; rollback through the sysfs
 * module's restore of every saved original, as rollback.yml does it.
 */
import { execFile } from "node:child_process";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { converge as engineConverge } from "../../../src/engine/converge.js";
import { type CpuPowerArgs, cpuPowerModule, refusalText } from "../../../src/modules/isolation/cpu_power.js";
import { parseRead, readScript } from "../../../src/modules/isolation/cpu-power-read.js";
import { errnoText } from "../../../src/modules/isolation/irq-proc.js";
import { sysfsModule } from "../../../src/modules/isolation/sysfs.js";
import { writeCpuPowerFixture } from "../../lab/cpu-power-fixture.js";
import { checkPlan, converge, scratchDir, testContext } from "../harness.js";

const exec = promisify(execFile);

/** Every file under `dir` with its bytes (links as their target), sorted: the tree byte for byte. */
async function tree(dir: string): Promise<string> {
  const { stdout } = await exec("sh", [
    "-c",
    'cd "$1" && find . | sort | while read -r f; do if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; elif [ -f "$f" ]; then echo "$f $(od -An -c "$f" | tr -s " ")"; else echo "$f/"; fi; done',
    "sh",
    dir,
  ]);
  return stdout;
}

/** tuned latency-performance's settings, as isolation.yml's defaults give them. */
const LATENCY_PERFORMANCE = {
  governor: "performance",
  energy_performance_preference: "performance",
  energy_perf_bias: "performance",
  idle_max_state: 1,
};

describe("cpu_power on a local host (fixture sys_root)", () => {
  const host = new LocalConnection();
  let dir: string;
  let sys: string;
  let cleanup: () => Promise<void>;
  let stateFile: string;
  let args: CpuPowerArgs;
  const cpu = (p: string) => join(sys, "devices/system/cpu", p);

  beforeEach(async () => {
    ({ dir, cleanup } = await scratchDir());
    sys = join(dir, "sys");
    stateFile = join(dir, "var/lib/tickless/sysfs.json");
    args = { ...LATENCY_PERFORMANCE, cpus: "0-1", sys_root: sys, state_file: stateFile };
  });
  afterEach(async () => {
    await exec("chattr", ["-i", cpu("cpu1/cpuidle/state3/disable")]).catch(() => undefined);
    await cleanup();
  });

  it("reads policies, biases and idle states in one command, in the kernel's formats", async () => {
    await writeCpuPowerFixture(sys, { cpus: 2 });
    const res = await host.run(readScript(sys));
    expect(res.rc).toBe(0);
    const read = parseRead(res.stdout, sys);
    expect(read.cpus).toEqual([0, 1]);
    expect(read.cpufreqDriver).toBe("intel_pstate");
    expect(read.idleDriver).toBe("intel_idle");
    expect(read.policies[1]).toEqual({
      name: "policy1",
      dir: cpu("cpufreq/policy1"),
      cpus: [1],
      governor: { value: "powersave" },
      availableGovernors: ["performance", "powersave"],
      epp: { value: "balance_performance" },
      availableEpp: ["default", "performance", "balance_performance", "balance_power", "power"],
    });
    expect(read.epb.get(1)).toEqual({ path: cpu("cpu1/power/energy_perf_bias"), read: { value: "6" } });
    expect(read.idle.filter((i) => i.cpu === 1).map((i) => [i.index, i.name, i.latency, i.disable])).toEqual([
      [0, "POLL", 0, { value: "0" }],
      [1, "C1", 2, { value: "0" }],
      [2, "C1E", 10, { value: "0" }],
      [3, "C6", 133, { value: "0" }],
    ]);
  });

  it("check mode predicts the saves and every write and touches nothing; the run converges and a second run changes nothing", async () => {
    await writeCpuPowerFixture(sys, { cpus: 4 });
    const before = await tree(dir);
    const plan = await checkPlan(cpuPowerModule, args, host);
    expect(plan.map((c) => c.summary)).toEqual([
      "save the originals of 10 CPU power settings (policy0 (CPU 0) governor powersave, policy0 (CPU 0) energy_performance_preference balance_performance, policy1 (CPU 1) governor powersave, policy1 (CPU 1) energy_performance_preference balance_performance, CPU 0 energy_perf_bias 6, CPU 1 energy_perf_bias 6, CPU 0 state2 (C1E, 10 µs) disable 0, CPU 0 state3 (C6, 133 µs) disable 0, CPU 1 state2 (C1E, 10 µs) disable 0, CPU 1 state3 (C6, 133 µs) disable 0)",
      "policy0 (CPU 0) governor: powersave → performance",
      "policy0 (CPU 0) energy_performance_preference: balance_performance → performance",
      "policy1 (CPU 1) governor: powersave → performance",
      "policy1 (CPU 1) energy_performance_preference: balance_performance → performance",
      "CPU 0 energy_perf_bias: 6 → 0",
      "CPU 1 energy_perf_bias: 6 → 0",
      "CPU 0 state2 (C1E, 10 µs) disable: 0 → 1",
      "CPU 0 state3 (C6, 133 µs) disable: 0 → 1",
      "CPU 1 state2 (C1E, 10 µs) disable: 0 → 1",
      "CPU 1 state3 (C6, 133 µs) disable: 0 → 1",
    ]);
    expect(plan[1]).toMatchObject({
      target: cpu("cpufreq/policy0/scaling_governor"),
      before: "powersave\n",
      after: "performance\n",
    });
    expect(await tree(dir)).toBe(before);

    const first = await converge(cpuPowerModule, args, host);
    expect(first.changes).toEqual(plan);
    expect(first.replan).toEqual([]);
    expect(first.result?.msg).toBe(`10 CPU power settings written (originals in ${stateFile})`);
    expect(await readFile(cpu("cpufreq/policy1/scaling_governor"), "utf8")).toBe("performance\n");
    expect(await readFile(cpu("cpu1/cpuidle/state2/disable"), "utf8")).toBe("1\n");
    // CPUs 2-3 are not in cpus: left
    expect(await readFile(cpu("cpufreq/policy2/scaling_governor"), "utf8")).toBe("powersave\n");
    expect(await readFile(cpu("cpu2/cpuidle/state3/disable"), "utf8")).toBe("0\n");
    expect(await readFile(cpu("cpu0/cpuidle/state1/disable"), "utf8")).toBe("0\n");
    const saved = JSON.parse(await readFile(stateFile, "utf8"));
    // the governor is saved (and so restored) before the preference, which intel_pstate locks under performance
    expect(Object.keys(saved.originals).slice(0, 2)).toEqual([
      cpu("cpufreq/policy0/scaling_governor"),
      cpu("cpufreq/policy0/energy_performance_preference"),
    ]);
    expect(saved.originals[cpu("cpu0/cpuidle/state3/disable")]).toBe("0");
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    expect(first.report).toMatchObject({
      cpufreq_driver: "intel_pstate",
      cpuidle_driver: "intel_idle",
      warnings: [],
      missing: [],
      not_holding: [],
      disabled_states: ["CPU 0 state2 (C1E)", "CPU 0 state3 (C6)", "CPU 1 state2 (C1E)", "CPU 1 state3 (C6)"],
    });
    expect(first.report?.tmpfiles).toEqual(
      expect.arrayContaining([
        `w ${cpu("cpufreq/policy0/scaling_governor")} - - - - performance`,
        `w ${cpu("cpu1/power/energy_perf_bias")} - - - - 0`,
        `w ${cpu("cpu1/cpuidle/state3/disable")} - - - - 1`,
      ]),
    );
    expect(first.report?.tmpfiles).toHaveLength(10);

    const second = await converge(cpuPowerModule, args, host);
    expect(second.changes).toEqual([]);
  });

  it("a drifted governor is named (check mode, as validate.yml reads it) and set again; the first original is kept; the restore gives back every byte", async () => {
    await writeCpuPowerFixture(sys, { cpus: 2 });
    const before = await tree(sys);
    await converge(cpuPowerModule, args, host);
    await writeFile(cpu("cpufreq/policy1/scaling_governor"), "powersave\n");
    const drift = await converge(cpuPowerModule, args, host);
    expect(drift.changes.map((c) => c.summary)).toEqual([
      "policy1 (CPU 1) governor: powersave → performance",
    ]);
    await writeFile(cpu("cpufreq/policy1/scaling_governor"), "schedutil\n");
    const { report } = await engineConverge(cpuPowerModule, args, testContext(), async () => host, true);
    expect(report?.not_holding).toEqual(["policy1 (CPU 1) governor is schedutil, not performance"]);
    const saved = JSON.parse(await readFile(stateFile, "utf8"));
    expect(saved.originals[cpu("cpufreq/policy1/scaling_governor")]).toBe("powersave");

    // rollback.yml: check mode predicts the restore, which writes each original back in the order saved
    const restored: CpuPowerArgs = { state: "restored", state_file: stateFile };
    const plan = await checkPlan(cpuPowerModule, restored, host);
    expect(plan.map((c) => c.summary).slice(0, 3)).toEqual([
      "restore cpufreq/policy0/scaling_governor: performance → powersave",
      "restore cpufreq/policy0/energy_performance_preference: performance → balance_performance",
      "restore cpufreq/policy1/scaling_governor: schedutil → powersave",
    ]);
    expect(plan.at(-1)?.summary).toBe(`drop the saved CPU power settings; remove ${stateFile} (empty)`);
    const back = await converge(cpuPowerModule, restored, host);
    expect(back.changes).toEqual(plan);
    expect(back.replan).toEqual([]);
    expect(await tree(sys)).toBe(before);
    await expect(stat(stateFile)).rejects.toThrow(/ENOENT/);
    const none = await converge(cpuPowerModule, restored, host);
    expect(none.changes).toEqual([]);
    expect(none.report?.msg).toBe(`no saved CPU power settings in ${stateFile}: nothing (left) to restore`);
  });

  it("a restore leaves the other saved originals (the workqueue mask's) and names a CPU gone since; a refused original keeps the save", async () => {
    await writeCpuPowerFixture(sys, { cpus: 2, cpufreq: false, epb: false });
    const mask = join(dir, "cpumask");
    await writeFile(mask, "ff\n");
    await converge(
      sysfsModule,
      { path: mask, sys_root: "/", value: "0-3", format: "cpumask", state_file: stateFile },
      host,
    );
    await converge(cpuPowerModule, args, host);
    const restored: CpuPowerArgs = { state: "restored", state_file: stateFile };
    await exec("chattr", ["+i", cpu("cpu1/cpuidle/state3/disable")]);
    const refused = await converge(cpuPowerModule, restored, host);
    expect(refused.result).toMatchObject({
      failed: true,
      msg: `the kernel refused "0" to ${cpu("cpu1/cpuidle/state3/disable")}: Operation not permitted (a locked-down attribute, or become: true is missing) (originals kept in ${stateFile})`,
    });
    expect(Object.keys(JSON.parse(await readFile(stateFile, "utf8")).originals)).toHaveLength(5);
    await exec("chattr", ["-i", cpu("cpu1/cpuidle/state3/disable")]);
    await rm(cpu("cpu1/cpuidle"), { recursive: true });
    const back = await converge(cpuPowerModule, restored, host);
    // the refused run wrote back every original the kernel took: what is left is to drop the entries
    expect(back.changes.map((c) => c.summary)).toEqual([
      "drop the saved CPU power settings (gone since: cpu1/cpuidle/state2/disable, cpu1/cpuidle/state3/disable)",
    ]);
    expect(await readFile(cpu("cpu0/cpuidle/state3/disable"), "utf8")).toBe("0\n");
    expect(JSON.parse(await readFile(stateFile, "utf8")).originals).toEqual({ [mask]: "ff" });
  });

  it("a VM (no cpufreq, no cpuidle states) is left as it is, with one line for each", async () => {
    await writeCpuPowerFixture(sys, { cpus: 2, cpufreq: false, epb: false, cpuidle: "none" });
    const before = await tree(dir);
    const r = await converge(cpuPowerModule, { ...args, cpus: "" }, host);
    expect(r.changes).toEqual([]);
    expect(r.report).toMatchObject({
      cpufreq_driver: null,
      cpuidle_driver: "none",
      warnings: [],
      missing: [
        `no cpufreq policy under ${sys}/devices/system/cpu/cpufreq (a VM, or no cpufreq driver): the frequency is the hypervisor's or the firmware's; governor and energy preference left`,
        `no cpuidle states under ${sys}/devices/system/cpu/cpu*/cpuidle (driver: none): idle states left`,
      ],
      tmpfiles: [],
    });
    expect(await tree(dir)).toBe(before);
  });

  it("a governor the driver does not offer is a warning naming the policy and its CPU; energy_perf_bias is still set", async () => {
    await writeCpuPowerFixture(sys, {
      cpus: 2,
      availableGovernors: "conservative ondemand userspace powersave schedutil",
      epp: false,
      cpuidle: "none",
    });
    const r = await converge(cpuPowerModule, { ...args, idle_max_state: "" }, host);
    expect(r.changes.map((c) => c.target)).toEqual([
      stateFile,
      cpu("cpu0/power/energy_perf_bias"),
      cpu("cpu1/power/energy_perf_bias"),
    ]);
    expect(r.report?.warnings).toEqual([
      "policy0 (CPU 0): governor performance is not available (conservative ondemand userspace powersave schedutil): left at powersave",
      "policy1 (CPU 1): governor performance is not available (conservative ondemand userspace powersave schedutil): left at powersave",
    ]);
  });

  it("idle_max_latency_us disables each state whose exit latency is over it, and only those", async () => {
    await writeCpuPowerFixture(sys, { cpus: 1, cpufreq: false, epb: false });
    const plan = await checkPlan(
      cpuPowerModule,
      { idle_max_latency_us: 10, sys_root: sys, state_file: stateFile },
      host,
    );
    expect(plan.slice(1).map((c) => c.summary)).toEqual(["CPU 0 state3 (C6, 133 µs) disable: 0 → 1"]);
  });

  it("a write the kernel refuses fails the task naming the file and the errno; the originals are saved first", async () => {
    await writeCpuPowerFixture(sys, { cpus: 2 });
    // immutable: even root's write fails (EPERM), as a locked-down attribute's would
    await exec("chattr", ["+i", cpu("cpu1/cpuidle/state3/disable")]);
    const r = await converge(cpuPowerModule, args, host);
    expect(r.result).toMatchObject({
      failed: true,
      msg: `the kernel refused "1" to ${cpu("cpu1/cpuidle/state3/disable")}: Operation not permitted (a locked-down attribute, or become: true is missing) (originals in ${stateFile})`,
    });
    expect(await readFile(cpu("cpu1/cpuidle/state2/disable"), "utf8")).toBe("1\n");
    expect(JSON.parse(await readFile(stateFile, "utf8")).originals[cpu("cpu1/cpuidle/state3/disable")]).toBe(
      "0",
    );
  });
});

describe("cpu_power's refusals (message level: a plain file cannot give EINVAL or EBUSY)", () => {
  it("names the cause of the kernel's errno as tee reports it", () => {
    const governor = "tee: /sys/devices/system/cpu/cpufreq/policy0/scaling_governor: Invalid argument";
    expect(refusalText(errnoText(governor))).toBe("Invalid argument (the driver does not take this value)");
    const epp =
      "tee: /sys/devices/system/cpu/cpufreq/policy0/energy_performance_preference: Device or resource busy";
    expect(refusalText(errnoText(epp))).toBe(
      "Device or resource busy (intel_pstate keeps energy_performance_preference at performance while the governor is performance)",
    );
    expect(refusalText("No space left on device")).toBe("No space left on device");
  });
});

describe("cpu_power's plan, pure", () => {
  it("leaves a policy whose CPUs are all offline (affected_cpus empty: the kernel's inactive policy)", () => {
    const dir = "/sys/devices/system/cpu/cpufreq";
    const policy = (n: number, cpus: number[]) => ({
      name: `policy${n}`,
      dir: `${dir}/policy${n}`,
      cpus,
      governor: { value: "powersave" },
      availableGovernors: ["performance", "powersave"],
    });
    const state = {
      cpus: [0],
      policies: [policy(0, [0]), policy(1, [])],
      epb: new Map(),
      idle: [],
      saved: new Map(),
      stateFile: { path: "/s.json", exists: false, content: "" },
    };
    expect(
      cpuPowerModule.plan({ governor: "performance", state_file: "/s.json" }, state).map((c) => c.target),
    ).toEqual(["/s.json", `${dir}/policy0/scaling_governor`]);
  });
});
