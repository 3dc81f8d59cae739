/**
 * isolation.yml, rollback.yml and validate.yml on the 3 lab hosts (real sshd, fixture /proc/irq,
 * no systemd, no boot loader: grub.cfg is written by the grub-mkconfig fixture), serial: 1.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { hostStatus } from "../../src/index.js";
import { plannedContent, run } from "../e2e/helpers.js";
import { expectCheckPredicts } from "../e2e/predicts.js";
import { INTEL_IDLE_STATES, writeCpuPowerFixture } from "../lab/cpu-power-fixture.js";
import { writeNetFixture } from "../lab/irq-fixture.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";
import { ISOLATED_4, snippetGrub } from "../modules/isolation/record-fixture.js";

const ROOT = join(import.meta.dirname, "../..");
const FIXTURE = join(import.meta.dirname, "fixtures/grub-mkconfig.sh");
/** Where the fixture is installed on each host: the hosts have a private /tmp, so a clone under /tmp is not visible there. */
const HOST_FIXTURE = "/opt/tickless-test/grub-mkconfig.sh";
/**
 * The hosts' sys_root: a fixture with the unbound workqueue cpumask of an 8-CPU host. The lab
 * hosts see this machine's real /sys, which the playbooks must never write.
 */
const HOST_SYS = "/opt/tickless-test/sys";
const WORKQUEUE_MASK = `${HOST_SYS}/devices/virtual/workqueue/cpumask`;
/** The hosts' sysctl_proc_root: a fixture proc/sys (the lab hosts share this machine's kernel). */
const HOST_PROC = "/opt/tickless-test/proc";
const THP = `${HOST_SYS}/kernel/mm/transparent_hugepage/enabled`;
const KSM = `${HOST_SYS}/kernel/mm/ksm/run`;
const SYSCTL_CONF = "/etc/sysctl.d/90-tickless-isolation.conf";
const CPU = `${HOST_SYS}/devices/system/cpu`;
const CPU_POWER_CONF = "/etc/tmpfiles.d/tickless-cpu-power.conf";
/**
 * What cpu_power saves on the fixture's 8 CPUs (intel_pstate, intel_idle), in the order it saves
 * them: each policy's governor and energy preference, each CPU's energy_perf_bias, then each CPU's
 * idle states deeper than C1 (C1E, C6).
 */
const CPU_POWER_ORIGINALS: [string, string][] = [
  ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((n): [string, string][] => [
    [`${CPU}/cpufreq/policy${n}/scaling_governor`, "powersave"],
    [`${CPU}/cpufreq/policy${n}/energy_performance_preference`, "balance_performance"],
  ]),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((n): [string, string] => [`${CPU}/cpu${n}/power/energy_perf_bias`, "6"]),
  ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((n) =>
    INTEL_IDLE_STATES.slice(2).map((_, k): [string, string] => [
      `${CPU}/cpu${n}/cpuidle/state${k + 2}/disable`,
      "0",
    ]),
  ),
];
const HOST_CMDLINE = "/opt/tickless-test/cmdline";
/** Each sysctl isolation.yml sets: a stock kernel's value (the fixture) → the play's default. */
const SYSCTLS: [string, string, string][] = [
  ["kernel.timer_migration", "1", "0"],
  ["vm.stat_interval", "1", "10"],
  ["kernel.numa_balancing", "1", "0"],
  ["kernel.hung_task_timeout_secs", "120", "600"],
  ["kernel.nmi_watchdog", "1", "0"],
  ["vm.swappiness", "60", "10"],
  ["vm.overcommit_memory", "0", "1"],
  ["net.core.somaxconn", "4096", "4096"],
];
const sysctlFile = (name: string) => `${HOST_PROC}/sys/${name.replace(/\./g, "/")}`;
/** Every kernel parameter of isolation.yml's defaults, in the order it writes them. */
const KERNEL_WORDS =
  "isolcpus=managed_irq,domain,4 nohz_full=4 rcu_nocbs=4 irqaffinity=0-3,5-7 skew_tick=1 nosoftlockup nowatchdog transparent_hugepage=never";
const KERNEL_PARAMS = {
  isolcpus: "managed_irq,domain,4",
  nohz_full: "4",
  rcu_nocbs: "4",
  irqaffinity: "0-3,5-7",
  skew_tick: "1",
  nosoftlockup: "",
  nowatchdog: "",
  transparent_hugepage: "never",
};
const lab = sharedLab();
const HOSTS = ["lab1", "lab2", "lab3"];
/** The validation's measurement (a command check mode does not run) and the tasks that read its report. */
const VALIDATION = "validate CPU isolation (report under /var/lib/tickless and results_dir)";
const AFTER_VALIDATION = {
  "validation report": "prints the report of a measurement check mode does not make",
  "every isolation check holds": "fails when that measurement does",
  "noise on the isolated CPUs": "prints the noise that measurement counts",
};
/**
 * The record of a run as compared: its id and time are the run's own (the rest, the files' hashes
 * too, is predicted); of history.jsonl, the line the run appends (what check mode's diff shows).
 */
const recordFree = (path: string, text: string, saveHash = false) =>
  path === "/var/lib/tickless/applied.json"
    ? runFree(text, saveHash)
    : path === "/var/lib/tickless/history.jsonl"
      ? runFree(text.trimEnd().split("\n").at(-1) ?? "", saveHash)
      : text;
/** recordFree with the saved IRQ state's hash compared too (a run whose IRQ writes the kernel all takes). */
const recordFreeSaveHash = (path: string, text: string) => recordFree(path, text, true);

/**
 * Every path the playbooks may touch (grub.cfg aside: it is generated), hashed in one command.
 * The fixture's transparent_hugepage/enabled is a plain file, not the kernel's choice list: its
 * setting (the bracketed word, or the whole text) is compared, not its bytes (the VM test compares
 * the kernel's own file byte for byte).
 */
const SNAPSHOT = [
  "cd / && for p in /etc/default/grub /etc/default/grub.d /etc/default/irqbalance /etc/systemd/system/hft.slice",
  "/etc/systemd/system/system.slice.d /etc/systemd/system/user.slice.d /etc/systemd/system/init.scope.d",
  "/etc/systemd/system/redis-server.service.d /proc/irq /var/lib/tickless/irq-affinity.json /var/lib/tickless/net-queues.json",
  `${HOST_SYS} /etc/tmpfiles.d/tickless-workqueue.conf ${CPU_POWER_CONF} /var/lib/tickless/sysfs.json ${HOST_PROC} ${SYSCTL_CONF}; do`,
  `  if [ -e "$p" ]; then find "$p" | sort | while read -r f; do if [ "$f" = ${THP} ]; then v=$(cat "$f"); case "$v" in *[[]*) v=\${v#*[}; v=\${v%%]*};; esac; echo "$f setting $v"; elif [ -f "$f" ]; then echo "$f $(sha256sum < "$f")"; else echo "$f dir"; fi; done; else echo "$p absent"; fi`,
  "done",
].join(" ");

/**
 * What a check run must leave exactly as it was, beyond SNAPSHOT: grub.cfg and all of /boot, every
 * state file, the GRUB defaults, the hosts' /tmp and the mount table (the grub.cfg prediction runs
 * the generator in a namespace of its own, on a tmpfs that must not outlive it).
 */
const CHECK_SNAPSHOT = `${SNAPSHOT}; for p in /boot /var/lib/tickless /etc/default /tmp; do find "$p" | sort | while read -r f; do if [ -f "$f" ]; then echo "$f $(sha256sum < "$f")"; else echo "$f"; fi; done; done; cat /proc/self/mounts`;
const SAVE = "/var/lib/tickless/irq-affinity.json";

const RESULTS = join(tmpdir(), `tickless-isolation-results-${process.pid}`);

const vars = {
  require_systemd: false,
  validate_window: 1,
  results_dir: RESULTS,
  housekeeping_cpus: "0-3,5-7",
  nic_irq_pattern: "^(eth0-TxRx-\\d+|nvme0q0)$",
  grub_mkconfig_command: `sh ${HOST_FIXTURE} -o /boot/grub/grub.cfg`,
  sys_root: HOST_SYS,
  sysctl_proc_root: HOST_PROC,
};

describe.skipIf(!lab)("isolation playbooks on the lab hosts", () => {
  let conns: Connection[] = [];
  let home: Awaited<ReturnType<typeof isolateHome>>;
  const snapshot = () => Promise.all(conns.map(async (c) => (await c.run(SNAPSHOT)).stdout));
  const checkSnapshot = () => Promise.all(conns.map(async (c) => (await c.run(CHECK_SNAPSHOT)).stdout));
  const readOn = async (host: string, path: string) =>
    (await conns[HOSTS.indexOf(host)].readFile(path)).content?.toString();
  const play = (name: string, check = false, extra: Record<string, unknown> = {}, limit?: string) =>
    run({
      playbook: join(ROOT, "playbooks", name),
      inventory: lab!.inventoryFile,
      extraVars: { ...vars, ...extra },
      check,
      diff: true,
      ...(limit ? { limit } : {}),
    });

  let netTar: Buffer;
  beforeAll(async () => {
    netTar = await netFixtureTar();
    home = await isolateHome();
    conns = await Promise.all(lab!.hosts.map((h) => openSsh(labSettings(lab!, h))));
    const script = await readFile(FIXTURE);
    await Promise.all(
      conns.map(async (c) => {
        await c.run(`mkdir -p /opt/tickless-test ${HOST_SYS}/devices/virtual/workqueue`);
        await c.writeFile(WORKQUEUE_MASK, "ff\n", { mode: "0644" });
        // a stock kernel's sysctls, transparent hugepages on madvise and KSM running (ksmtuned)
        await c.run(
          `mkdir -p ${SYSCTLS.map(([n]) => sysctlFile(n).replace(/\/[^/]+$/, "")).join(" ")} ${THP.replace(/\/enabled$/, "")} ${KSM.replace(/\/run$/, "")}`,
        );
        for (const [name, value] of SYSCTLS)
          await c.writeFile(sysctlFile(name), `${value}\n`, { mode: "0644" });
        await c.writeFile(THP, "always [madvise] never\n", { mode: "0644" });
        await c.writeFile(KSM, "1\n", { mode: "0644" });
        // A stock Debian kernel's command line, bound over /proc/cmdline in the host's mount
        // namespace: this machine's own (its boot loader is not the fixture GRUB) carries words such
        // as nowatchdog that the playbooks would take for a reboot still pending.
        await c.writeFile(
          HOST_CMDLINE,
          "BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=3c1f0b4e-8a4d-4f52-9e0b-5d2c6a7e9f10 ro quiet\n",
          {
            mode: "0644",
          },
        );
        await c.run(`mount --bind ${HOST_CMDLINE} /proc/cmdline`);
        // an 8-CPU host without SMT (each CPU its own thread sibling): what cpu_sets reads
        await c.run(
          `cd ${HOST_SYS}/devices/system 2>/dev/null || mkdir -p ${HOST_SYS}/devices/system; cd ${HOST_SYS}/devices/system && mkdir -p cpu && echo 0-7 > cpu/online && for n in 0 1 2 3 4 5 6 7; do mkdir -p cpu/cpu$n/topology && echo $n > cpu/cpu$n/topology/thread_siblings_list; done`,
        );
        await c.writeFile(HOST_FIXTURE, script, { mode: "0755" });
      }),
    );
    // the network part of a sysfs tree (eth0 with four queues, lo and br0 with one): the queues'
    // steering masks, which isolation.yml changes and rollback.yml gives back
    await Promise.all(conns.map((c) => c.writeFile("/opt/tickless-test/net.tar", netTar, { mode: "0644" })));
    await Promise.all(conns.map((c) => c.run(`tar -C ${HOST_SYS} -xf /opt/tickless-test/net.tar`)));
    // the CPU part: intel_pstate policies (powersave, EPP balance_performance), energy_perf_bias 6,
    // intel_idle's POLL, C1, C1E and C6 on each of the 8 CPUs
    const cpuTar = await fixtureTar(writeCpuPowerFixture);
    await Promise.all(conns.map((c) => c.writeFile("/opt/tickless-test/cpu.tar", cpuTar, { mode: "0644" })));
    await Promise.all(conns.map((c) => c.run(`tar -C ${HOST_SYS} -xf /opt/tickless-test/cpu.tar`)));
  });
  afterAll(async () => {
    await rm(RESULTS, { recursive: true, force: true });
    await Promise.all(conns.map((c) => c.run("umount /proc/cmdline")));
    await Promise.all(conns.map((c) => c.close()));
    await home.release();
  });

  test("check mode changes nothing and shows the GRUB, drop-in and IRQ diffs; the run converges one host at a time; a second run changes nothing; rollback restores byte for byte", async () => {
    const before = await snapshot();
    expect(before[0]).toContain("/proc/irq/24/smp_affinity_list");

    // check mode predicts the real run on these fresh hosts (predicts.ts), with these exceptions
    const { check, real } = await expectCheckPredicts({
      check: () => play("isolation.yml", true),
      real: () => play("isolation.yml"),
      snapshot: checkSnapshot,
      hosts: HOSTS,
      read: readOn,
      measured: {
        [VALIDATION]:
          "a measurement of the host after the change: check mode says it would run; the real run's boot-time checks wait for the reboot",
      },
      unpredictable: AFTER_VALIDATION,
      normalize: recordFree,
      notWritten: {
        "/proc/irq/28/smp_affinity_list":
          "IRQ 28 is kernel-managed in the fixture: only the write itself learns that the kernel refuses it",
        [SAVE]:
          "the real run adds IRQ 28 to the save's unchangeable IRQs once the kernel refuses it (checked below)",
      },
    });
    // the save of the originals is predicted with its diff: the real run's bytes are the planned
    // ones plus what only the refused write learned, which the real run's result names
    for (const host of HOSTS) {
      const planned = plannedContent(check, host).get(SAVE);
      expect(planned, host).toBeDefined();
      expect(JSON.parse(planned ?? "").irqs).toHaveProperty("24");
      expect(JSON.parse(planned ?? "").unchangeable).toEqual({});
      const written = JSON.parse((await readOn(host, SAVE)) ?? "");
      expect(written, host).toEqual({
        ...JSON.parse(planned ?? ""),
        unchangeable: { "28": "nvme0q0: Read-only file system" },
      });
      // the record hashes the save as each run had it: the planned bytes in the check run, the written ones for real
      const recordOf = (r: Awaited<ReturnType<typeof play>>) =>
        JSON.parse(plannedContent(r, host).get("/var/lib/tickless/applied.json") ?? "{}");
      const hashOf = (record: { settings?: { state_files?: { path: string; sha256: string }[] } }) =>
        record.settings?.state_files?.find((f) => f.path === SAVE)?.sha256;
      expect(hashOf(recordOf(check)), host).toBe(
        createHash("sha256")
          .update(planned ?? "")
          .digest("hex"),
      );
      expect(hashOf(JSON.parse((await readOn(host, "/var/lib/tickless/applied.json")) ?? "{}")), host).toBe(
        createHash("sha256")
          .update((await readOn(host, SAVE)) ?? "")
          .digest("hex"),
      );
      // grub.cfg's diff: the bytes the fixture generator then wrote, predicted by the generator itself
      const cfg = check.results
        .filter((r) => r.host === host)
        .flatMap((r) => r.result.changes ?? [])
        .find((c) => c.target === "/boot/grub/grub.cfg");
      expect(cfg?.after, host).toBe(await readOn(host, "/boot/grub/grub.cfg"));
      expect(cfg?.after, host).toContain(KERNEL_WORDS);
      const cmdlineTask = real.results.find(
        (r) => r.host === host && r.task.startsWith("kernel command line"),
      );
      expect(cmdlineTask?.result, host).toMatchObject({ regenerated: true, cfg_as_predicted: true });
    }
    const planned = check.results.filter((r) => r.host === "lab1" && r.status === "changed");
    const targets = planned.flatMap((r) => (r.result.changes ?? []).map((c) => c.target));
    expect(targets).toEqual(
      expect.arrayContaining([
        "/etc/default/grub.d/99-tickless.cfg",
        "/boot/grub/grub.cfg",
        SAVE,
        "/proc/irq/24/smp_affinity_list",
        "/proc/irq/default_smp_affinity",
        "/etc/default/irqbalance",
        "/etc/systemd/system/hft.slice",
        "/etc/systemd/system/system.slice.d/50-tickless-allowedcpus.conf",
        "/etc/systemd/system/redis-server.service.d/50-tickless-cpuaffinity.conf",
        "/var/lib/tickless/sysfs.json",
        WORKQUEUE_MASK,
        "/etc/tmpfiles.d/tickless-workqueue.conf",
        "/var/lib/tickless/applied.json",
        "/var/lib/tickless/history.jsonl",
        SYSCTL_CONF,
        sysctlFile("kernel.timer_migration"),
        THP,
        KSM,
        `${CPU}/cpufreq/policy4/scaling_governor`,
        `${CPU}/cpu4/cpuidle/state3/disable`,
        CPU_POWER_CONF,
      ]),
    );
    // tuned latency-performance's [cpu]: governor and hints on every CPU, idle states deeper than C1 off
    const cpuPower = (r: Awaited<ReturnType<typeof play>>, host: string) =>
      r.results.find(
        (x) => x.host === host && x.task === "CPU frequency governor, energy hints and deep idle states",
      );
    expect(cpuPower(check, "lab1")?.result.changes?.map((c) => c.summary)).toEqual(
      expect.arrayContaining([
        "policy4 (CPU 4) governor: powersave → performance",
        "policy4 (CPU 4) energy_performance_preference: balance_performance → performance",
        "CPU 4 energy_perf_bias: 6 → 0",
        "CPU 4 state2 (C1E, 10 µs) disable: 0 → 1",
        "CPU 4 state3 (C6, 133 µs) disable: 0 → 1",
      ]),
    );
    expect(cpuPower(check, "lab1")?.result.changes).toHaveLength(1 + CPU_POWER_ORIGINALS.length);
    // the sysctl already at its value (somaxconn) is no change; THP's diff shows the kernel's choice list
    expect(targets).not.toContain(sysctlFile("net.core.somaxconn"));
    const thpTask = (r: Awaited<ReturnType<typeof play>>, host: string) =>
      r.results.find(
        (x) => x.host === host && x.task === "transparent hugepages and KSM now (originals saved first)",
      );
    expect(
      thpTask(check, "lab1")?.result.results?.[0]?.changes?.map((c: { summary: string }) => c.summary),
    ).toEqual([
      `save the original of ${THP} (madvise)`,
      "kernel/mm/transparent_hugepage/enabled: always [madvise] never → never",
    ]);
    // the sysfs task predicts the mask write (and the save of the original) with its diff
    const workqueueTask = (r: Awaited<ReturnType<typeof play>>, host: string) =>
      r.results.find((x) => x.host === host && x.task === "unbound workqueues to the housekeeping CPUs");
    const predicted = workqueueTask(check, "lab1");
    expect(predicted?.status).toBe("changed");
    expect(predicted?.result.changes?.map((c) => c.summary)).toEqual([
      `save the original of ${WORKQUEUE_MASK} (ff)`,
      "devices/virtual/workqueue/cpumask: ff → ef (CPUs 0-7 → 0-3,5-7)",
    ]);
    expect(predicted?.result.changes?.find((c) => c.target === WORKQUEUE_MASK)).toMatchObject({
      before: "ff\n",
      after: "ef\n",
    });
    const grubDiff = planned
      .flatMap((r) => r.result.changes ?? [])
      .find((c) => c.target.endsWith("99-tickless.cfg"));
    expect(grubDiff?.after).toContain(`GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX ${KERNEL_WORDS}"`);

    for (const host of HOSTS) expect(plannedContent(check, host).size).toBeGreaterThan(5);
    const refused = real.results
      .filter((r) => r.task.startsWith("NIC IRQs"))
      .map((r) => String(r.result.msg));
    for (const msg of refused) expect(msg).toContain("IRQ 28 (nvme0q0) is kernel-managed");
    // serial: 1 — every task of lab1 ends before lab2's first task starts
    const hostsInOrder = real.results.filter((r) => r.task !== "Gathering Facts").map((r) => r.host);
    expect(hostsInOrder.indexOf("lab2")).toBeGreaterThan(hostsInOrder.lastIndexOf("lab1"));
    const irq = real.results.find((r) => r.host === "lab2" && r.task.startsWith("NIC IRQs"));
    expect(String(irq?.result.msg)).toContain(
      "IRQ 28 (nvme0q0) is kernel-managed: the kernel refused the affinity write (Read-only file system); left as it is (managed: skip)",
    );
    const after = await Promise.all(
      conns.map(
        async (c) =>
          (
            await c.run(
              "cat /proc/irq/25/smp_affinity_list /etc/default/grub.d/99-tickless.cfg /boot/grub/grub.cfg",
            )
          ).stdout,
      ),
    );
    for (const out of after) {
      expect(out.startsWith("0-3,5-7\n")).toBe(true);
      expect(out).toMatch(new RegExp(`\tlinux\t\\S+ root=\\S+ ro\\s+${KERNEL_WORDS}`));
    }
    // unbound workqueues: off CPU 4 now and at every boot; the original mask saved (0600) for rollback
    expect(workqueueTask(real, "lab1")?.result.changes).toEqual(predicted?.result.changes);
    expect(workqueueTask(real, "lab3")?.result).toMatchObject({
      value: "ef",
      cpus: "0-3,5-7",
      original: "ff",
    });
    const workqueue = await Promise.all(
      conns.map(
        async (c) =>
          (
            await c.run(
              `cat ${WORKQUEUE_MASK} /etc/tmpfiles.d/tickless-workqueue.conf && stat -c %a /var/lib/tickless/sysfs.json && cat /var/lib/tickless/sysfs.json`,
            )
          ).stdout,
      ),
    );
    for (const out of workqueue) {
      const lines = out.split("\n").filter((l) => !l.startsWith("#"));
      expect(lines.slice(0, 3)).toEqual(["ef", `w ${WORKQUEUE_MASK} - - - - ef`, "600"]);
      expect(JSON.parse(lines.slice(3).join("\n"))).toEqual({
        version: 1,
        originals: {
          [WORKQUEUE_MASK]: "ff",
          ...Object.fromEntries(SYSCTLS.filter(([, o, v]) => o !== v).map(([n, o]) => [sysctlFile(n), o])),
          [THP]: "madvise",
          [KSM]: "1",
          ...Object.fromEntries(CPU_POWER_ORIGINALS),
        },
      });
    }
    // set now, and at every boot by systemd-tmpfiles; C1 and the polling state stay enabled
    const cpuNow = await Promise.all(
      conns.map(
        async (c) =>
          (
            await c.run(
              `cat ${CPU}/cpufreq/policy7/scaling_governor ${CPU}/cpufreq/policy7/energy_performance_preference ${CPU}/cpu7/power/energy_perf_bias ${CPU}/cpu7/cpuidle/state*/disable && grep -c '^w ' ${CPU_POWER_CONF} && grep policy0/scaling_governor ${CPU_POWER_CONF}`,
            )
          ).stdout,
      ),
    );
    for (const out of cpuNow)
      expect(out).toBe(
        `performance\nperformance\n0\n0\n0\n1\n1\n${CPU_POWER_ORIGINALS.length}\nw ${CPU}/cpufreq/policy0/scaling_governor - - - - performance\n`,
      );
    // packet steering: eth0's rx-1 RPS mask and tx-0 XPS mask lose CPU 4 (the other queues have
    // none of it; lo's and br0's xps_cpus read ENOENT, one queue each), the originals saved first
    const steering = (r: Awaited<ReturnType<typeof play>>, host: string) =>
      r.results.find(
        (x) =>
          x.host === host &&
          x.task === "packet steering (RPS/XPS masks of every NIC queue) off the isolated CPUs",
      );
    expect(steering(check, "lab2")?.result.changes?.map((c) => c.summary)).toEqual([
      "save the original masks of eth0 rx-1 rps_cpus, eth0 tx-0 xps_cpus",
      "eth0 rx-1 rps_cpus: f0 → e0 (CPUs 4-7 → 5-7)",
      "eth0 tx-0 xps_cpus: 11 → 01 (CPUs 0,4 → 0)",
    ]);
    expect(steering(real, "lab2")?.result.changes).toEqual(steering(check, "lab2")?.result.changes);
    expect(steering(real, "lab2")?.result).toMatchObject({
      single_queue: ["br0 tx-0 xps_cpus", "lo tx-0 xps_cpus"],
      unsupported: [],
    });
    const queues = `${HOST_SYS}/class/net/eth0/queues`;
    for (const c of conns) {
      expect(
        (await c.run(`cat ${queues}/rx-1/rps_cpus ${queues}/tx-0/xps_cpus ${queues}/tx-1/xps_cpus`)).stdout,
      ).toBe("e0\n01\n22\n");
      expect(JSON.parse((await c.run("cat /var/lib/tickless/net-queues.json")).stdout)).toEqual({
        version: 1,
        originals: { [`${queues}/rx-1/rps_cpus`]: "f0", [`${queues}/tx-0/xps_cpus`]: "11" },
      });
    }
    // the sysctls live (read back) and in one sysctl.d file for every boot; THP never, KSM stopped
    const tuning = await Promise.all(
      conns.map(
        async (c) =>
          (await c.run(`cat ${SYSCTLS.map(([n]) => sysctlFile(n)).join(" ")} ${THP} ${KSM} ${SYSCTL_CONF}`))
            .stdout,
      ),
    );
    for (const out of tuning) {
      expect(out).toBe(
        [...SYSCTLS.map(([, , v]) => v), "never", "0", ...SYSCTLS.map(([n, , v]) => `${n} = ${v}`), ""].join(
          "\n",
        ),
      );
    }
    const cmdline = real.results.find((r) => r.host === "lab3" && r.task.startsWith("kernel command line"));
    expect(cmdline?.result.reboot_required).toBe(true);
    // no reboot without allow_reboot: a warning, and the boot-time checks are skipped with its reason
    const pending = `reboot required to apply: ${KERNEL_WORDS} (allow_reboot is false)`;
    const warning = real.results.find(
      (r) => r.host === "lab1" && r.task === "the new kernel command line needs a reboot",
    );
    expect(String(warning?.result.msg)).toMatch(
      new RegExp(`^WARNING: ${pending.replace(/[()]/g, "\\$&")}; the running kernel has: `),
    );
    expect(
      real.results.filter((r) => r.task === "reboot into the new kernel command line").map((r) => r.status),
    ).toEqual(["skipped", "skipped", "skipped"]);
    const validation = real.results.find(
      (r) => r.host === "lab1" && r.task.startsWith("validate CPU isolation"),
    );
    expect(validation?.status).toBe("ok");
    const report = validation?.result.report as {
      checks: { name: string; status: string; detail: string }[];
    };
    const checks = report?.checks ?? [];
    expect(Object.fromEntries(checks.map((c) => [c.name, `${c.status}: ${c.detail}`]))).toMatchObject({
      isolated: `skipped: ${pending}`,
      nohz_full: `skipped: ${pending}`,
      redis_affinity: "skipped: skipped: no systemd on this host",
      "system.slice AllowedCPUs": "skipped: skipped: no systemd on this host",
      nic_irqs: expect.stringContaining(
        "left where the kernel keeps them: IRQ 28 (nvme0q0) on CPU 4, kernel-managed",
      ),
      interrupts_on_isolated: "ok: 0 device interrupts on CPU 4 in 1 s",
    });

    // the applied-state record: 0600, the CPU sets, each parameter, the files' sha256, one history line
    const recorded = await Promise.all(
      conns.map(async (c) => {
        const out = await c.run(
          "stat -c %a /var/lib/tickless/applied.json && sha256sum < /etc/default/grub.d/99-tickless.cfg && cat /var/lib/tickless/applied.json",
        );
        const [mode, snippetSha, ...doc] = out.stdout.split("\n");
        return { mode, snippetSha: snippetSha.split(" ")[0], doc: JSON.parse(doc.join("\n")) };
      }),
    );
    expect(recorded[1].mode).toBe("600");
    expect(recorded[1].doc).toMatchObject({
      version: 1,
      run: { host: "lab2", run_id: expect.stringMatching(/^[0-9a-f-]{36}$/) },
      playbook: {
        path: join(ROOT, "playbooks/isolation.yml"),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
      settings: {
        ...ISOLATED_4,
        kernel_params: KERNEL_PARAMS,
        grub: snippetGrub("/etc/default/grub.d/99-tickless.cfg", recorded[1].snippetSha),
        // status judges the queues' steering masks under the fixture's class/net
        steering: { off_isolated: true, net_path: `${HOST_SYS}/class/net` },
      },
    });
    expect(recorded[1].doc.settings.state_files).toContainEqual({
      path: "/var/lib/tickless/sysfs.json",
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // reboot pending, checked against the record by the last task, reaches the run's summary
    expect(real.summary.rebootPending).toEqual(["lab1", "lab2", "lab3"]);
    expect(
      real.results
        .filter((r) => r.task === "reboot pending (the running kernel against the record)")
        .map((r) => r.status),
    ).toEqual(["ok", "ok", "ok"]);

    // tickless status reads the record over SSH: every host tuned, nothing drifted, the reboot pending
    const day2 = await hostStatus({ inventory: lab!.inventoryFile });
    expect(day2.exit_code).toBe(2);
    expect(
      day2.hosts.map((h) => ({ host: h.host, tuned: h.tuned, pending: h.reboot_pending, drift: h.drift })),
    ).toEqual(["lab1", "lab2", "lab3"].map((host) => ({ host, tuned: true, pending: true, drift: [] })));

    const second = await play("isolation.yml");
    expect(second.summary.exitCode).toBe(0);
    expect(second.summary.totals.changed).toBe(0);

    // validate.yml on the tuned hosts (the reboot still pending, so the boot-time checks are skipped
    // with its reason): check mode predicts it as well
    const pendingBoot = { boot_checks_skipped: "reboot pending" };
    await expectCheckPredicts({
      check: () => play("validate.yml", true, pendingBoot),
      real: () => play("validate.yml", false, pendingBoot),
      snapshot: checkSnapshot,
      hosts: HOSTS,
      read: readOn,
      measured: { [VALIDATION]: "the measurement itself: check mode says it would run" },
      unpredictable: AFTER_VALIDATION,
    });

    // the CPU set comes from the record: one given with -e that contradicts it stops before any change
    const contradicted = await play("rollback.yml", false, { isolated_cpus: "2" }, "lab1");
    expect(contradicted.summary.exitCode).toBe(2);
    expect(
      contradicted.results.filter((r) => r.status === "failed").map((r) => String(r.result.msg)),
    ).toEqual([
      expect.stringContaining(
        "isolated_cpus=2 contradicts the record /var/lib/tickless/applied.json: isolated_cpus=4 (nothing was changed)",
      ),
    ]);
    expect(contradicted.results.filter((r) => r.status === "changed")).toEqual([]);

    // rollback.yml's check run predicts the rollback on the tuned hosts too
    const { real: back } = await expectCheckPredicts({
      check: () => play("rollback.yml", true),
      real: () => play("rollback.yml"),
      snapshot: checkSnapshot,
      hosts: HOSTS,
      read: readOn,
      normalize: recordFree,
    });
    expect(back.summary.exitCode).toBe(0);
    // the running kernel never had the parameters: nothing waits for a reboot after the rollback
    expect(back.summary.rebootPending).toEqual([]);
    const history = await conns[2].run(
      "test -e /var/lib/tickless/applied.json || echo gone; cat /var/lib/tickless/history.jsonl",
    );
    const [gone, ...lines] = history.stdout.trimEnd().split("\n");
    expect(gone).toBe("gone");
    expect(lines.map((l) => JSON.parse(l).event).slice(-2)).toEqual(["applied", "rolled_back"]);
    expect(
      back.results
        .find(
          (r) => r.host === "lab2" && r.task === "restore the unbound workqueue cpumask from the saved state",
        )
        ?.result.changes?.map((c) => c.summary),
    ).toEqual([
      "restore devices/virtual/workqueue/cpumask: ef → ff (CPUs 0-3,5-7 → 0-7)",
      `drop the saved original of ${WORKQUEUE_MASK}`,
    ]);
    // then every other original in sysfs.json (sysctls, THP, KSM), the last one removing the file
    const settings = back.results.find((r) => r.host === "lab2" && r.task === "restore each saved original");
    const restores = (settings?.result.results ?? []).flatMap((x: { changes?: { summary: string }[] }) =>
      (x.changes ?? []).map((c) => c.summary),
    );
    expect(restores).toEqual(
      expect.arrayContaining([
        `restore ${sysctlFile("kernel.timer_migration")}: 0 → 1`,
        `restore ${THP}: never → madvise`,
        `drop the saved original of ${KSM}; remove /var/lib/tickless/sysfs.json (empty)`,
      ]),
    );
    expect(await snapshot()).toEqual(before);
    // no record, nothing left: the play ends saying so, and names an isolcpus= it did not put there
    const again = await play("rollback.yml");
    expect(again.summary.totals.changed).toBe(0);
    expect(again.summary.exitCode).toBe(0);
    const said = again.results
      .filter((r) => r.task === "what the record says")
      .map((r) => String(r.result.msg));
    expect(said).toEqual([
      expect.stringMatching(
        /^nothing of ours to roll back on lab1 \(no \/var\/lib\/tickless\/applied\.json\)/,
      ),
      expect.stringMatching(/^nothing of ours to roll back on lab2/),
      expect.stringMatching(/^nothing of ours to roll back on lab3/),
    ]);
    expect(again.results.filter((r) => r.task.startsWith("kernel command line back"))).toEqual([]);
    const untuned = await hostStatus({ inventory: lab!.inventoryFile });
    expect(untuned.hosts.map((h) => `${h.host} ${h.tuned}`)).toEqual([
      "lab1 false",
      "lab2 false",
      "lab3 false",
    ]);
    expect(untuned.exit_code).toBe(0);
  }, 300_000);

  test("with irqbalance running, an IRQ irqbalance narrowed to housekeeping CPUs is left there (cpus_match: within); one on the isolated CPU is moved back; without irqbalance the list is exact", async () => {
    const lab1 = conns[0];
    const before = (await snapshot())[0];
    // The stand-in irqbalance is a process of that name (what the fact `irqbalance.running` looks
    // for: pidof irqbalance): the real daemon would move this machine's own IRQs. The start waits
    // until pidof sees it (the forked child has the name only once it has exec'd).
    const standIn = "/opt/tickless-test/irqbalance";
    const pid = (
      await lab1.run(
        `cp /bin/sleep ${standIn} && { ${standIn} 600 </dev/null >/dev/null 2>&1 & echo $!; }; i=0; while ! pidof irqbalance >/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done`,
      )
    ).stdout.trim();
    const irqTask = (r: Awaited<ReturnType<typeof play>>) =>
      r.results.find((x) => x.host === "lab1" && x.task.startsWith("NIC IRQs"));
    const irqTargets = (r: Awaited<ReturnType<typeof play>>) =>
      (irqTask(r)?.result.changes ?? []).map((c) => `${c.target}: ${c.summary}`);
    const failed = (r: Awaited<ReturnType<typeof play>>) =>
      r.results.filter((x) => x.status === "failed").map((x) => `${x.task}: ${x.result.msg}`);
    try {
      expect((await lab1.run("pidof irqbalance")).stdout.trim()).toBe(pid);
      const first = await play("isolation.yml", false, {}, "lab1");
      expect(failed(first)).toEqual([]);
      expect(irqTask(first)?.result.changes?.map((c) => c.target)).toEqual(
        expect.arrayContaining(["/proc/irq/24/smp_affinity_list", "/proc/irq/25/smp_affinity_list"]),
      );

      // irqbalance narrows each IRQ to housekeeping CPUs: that is the desired state under within
      await lab1.run("echo 6 > /proc/irq/24/smp_affinity_list && echo 1-2 > /proc/irq/25/smp_affinity_list");
      const checkOk = await play("isolation.yml", true, {}, "lab1");
      expect(irqTask(checkOk)?.status).toBe("ok");
      const ok = await play("isolation.yml", false, {}, "lab1");
      expect(failed(ok)).toEqual([]);
      expect(irqTask(ok)?.status).toBe("ok");
      expect(ok.summary.totals.changed).toBe(0);
      expect(
        (await lab1.run("cat /proc/irq/24/smp_affinity_list /proc/irq/25/smp_affinity_list")).stdout,
      ).toBe("6\n1-2\n");

      // an IRQ that touches the isolated CPU 4 is set to the full housekeeping list; check mode predicts it
      await lab1.run("echo 3-4 > /proc/irq/24/smp_affinity_list");
      const checkMove = await play("isolation.yml", true, {}, "lab1");
      expect(irqTargets(checkMove)).toEqual([
        "/proc/irq/24/smp_affinity_list: IRQ 24 (eth0-TxRx-0): 3-4 → 0-3,5-7",
      ]);
      const move = await play("isolation.yml", false, {}, "lab1");
      expect(irqTargets(move)).toEqual(irqTargets(checkMove));
      expect(
        (await lab1.run("cat /proc/irq/24/smp_affinity_list /proc/irq/25/smp_affinity_list")).stdout,
      ).toBe("0-3,5-7\n1-2\n");

      // without irqbalance nothing else places the IRQs: exactly the housekeeping list
      await lab1.run(`kill ${pid}; while kill -0 ${pid} 2>/dev/null; do sleep 0.1; done`);
      const exact = await play("isolation.yml", false, {}, "lab1");
      expect(failed(exact)).toEqual([]);
      expect(irqTargets(exact)).toEqual([
        "/proc/irq/25/smp_affinity_list: IRQ 25 (eth0-TxRx-1): 1-2 → 0-3,5-7",
      ]);
    } finally {
      await lab1.run(`kill ${pid} 2>/dev/null; rm -f ${standIn}`);
    }
    const back = await play("rollback.yml", false, {}, "lab1");
    expect(back.summary.exitCode).toBe(0);
    expect((await snapshot())[0]).toBe(before);
  }, 120_000);

  test("a rollback whose drop-in directory is read-only, or whose saved workqueue mask is corrupt, restores every other part, reports each part and fails the host (exit 2); run again once fixed, it finishes byte for byte", async () => {
    const lab3 = conns[2];
    const before = (await snapshot())[2];
    const report = (r: Awaited<ReturnType<typeof play>>) =>
      r.results.find((x) => x.task === "the rollback report")?.result.report as {
        part: string;
        status: string;
        detail: string;
      }[];
    const statuses = (r: Awaited<ReturnType<typeof play>>) =>
      Object.fromEntries(report(r).map((l) => [l.part, l.status]));
    const failedTasks = (r: Awaited<ReturnType<typeof play>>) =>
      r.results.filter((x) => x.status === "failed").map((x) => x.task);
    const dropinDir = "/etc/systemd/system/user.slice.d";

    // 1. a drop-in directory that cannot be written (a read-only mount, as /etc on some hosts)
    expect((await play("isolation.yml", false, {}, "lab3")).summary.exitCode).toBe(0);
    await lab3.run(`mount --bind ${dropinDir} ${dropinDir} && mount -o remount,bind,ro ${dropinDir}`);
    try {
      const back = await play("rollback.yml", false, {}, "lab3");
      expect(back.summary.exitCode).toBe(2);
      expect(failedTasks(back)).toEqual([
        "remove the drop-ins (daemon-reload when systemd runs)",
        "the rollback report",
      ]);
      expect(statuses(back)).toEqual({
        "kernel command line (GRUB)": "restored",
        "IRQ affinities and irqbalance's config": "restored",
        "unbound workqueue cpumask": "restored",
        "CPU governor and idle states": "restored",
        "sysctls, transparent hugepages and KSM": "restored",
        "packet steering masks": "restored",
        "systemd drop-ins": "could not restore",
        "hft.slice": "restored",
        "Redis in its original slice": "already clean",
        "jemalloc's background thread of Redis": "already clean",
        irqbalance: "already clean",
        "running kernel": "already clean",
        "tuning record": "kept",
      });
      const dropins = report(back).find((l) => l.part === "systemd drop-ins");
      expect(dropins?.detail).toMatch(
        /^remove the drop-ins \(daemon-reload when systemd runs\): One or more items failed; user\.slice: .*(read-only|Read-only)/,
      );
      const msg = String(back.results.find((x) => x.task === "the rollback report")?.result.msg);
      expect(msg.split("\n")[0]).toBe(
        "rollback incomplete: systemd drop-ins could not be restored (the rest was)",
      );
      // the other drop-ins went; the record stays for the next rollback
      const left = await lab3.run(
        "ls /etc/systemd/system/system.slice.d /etc/systemd/system/init.scope.d /etc/systemd/system/redis-server.service.d 2>/dev/null; ls /etc/systemd/system/user.slice.d; test -e /var/lib/tickless/applied.json && echo record kept",
      );
      expect(left.stdout).toBe("50-tickless-allowedcpus.conf\nrecord kept\n");
    } finally {
      await lab3.run(`umount ${dropinDir}`);
    }
    // fixed: the second rollback finishes, the parts already restored say so
    const again = await play("rollback.yml", false, {}, "lab3");
    expect(failedTasks(again)).toEqual([]);
    expect(again.summary.exitCode).toBe(0);
    expect(statuses(again)).toMatchObject({
      "kernel command line (GRUB)": "already clean",
      "unbound workqueue cpumask": "already clean",
      "packet steering masks": "already clean",
      "systemd drop-ins": "restored",
      "hft.slice": "already clean",
      "tuning record": "restored",
    });
    expect((await snapshot())[2]).toBe(before);

    // 2. a saved state file that is not what tickless wrote
    expect((await play("isolation.yml", false, {}, "lab3")).summary.exitCode).toBe(0);
    const saved = (await lab3.run("cat /var/lib/tickless/sysfs.json")).stdout;
    await lab3.run('printf \'{"version": 1, "originals": \' > /var/lib/tickless/sysfs.json');
    const corrupt = await play("rollback.yml", false, {}, "lab3");
    expect(corrupt.summary.exitCode).toBe(2);
    // the file holds the sysctls' originals too: neither part writes anything from it
    expect(failedTasks(corrupt)).toEqual([
      "restore the unbound workqueue cpumask from the saved state",
      "restore the saved CPU power settings",
      "restore each saved original",
      "the rollback report",
    ]);
    expect(statuses(corrupt)).toMatchObject({
      "kernel command line (GRUB)": "restored",
      "IRQ affinities and irqbalance's config": "restored",
      "unbound workqueue cpumask": "could not restore",
      "CPU governor and idle states": "could not restore",
      "sysctls, transparent hugepages and KSM": "could not restore",
      "systemd drop-ins": "restored",
      "hft.slice": "restored",
      "tuning record": "kept",
    });
    console.log(
      `[rollback report] ${corrupt.results.find((x) => x.task === "the rollback report")?.result.msg}`,
    );
    expect(report(corrupt).find((l) => l.part === "unbound workqueue cpumask")?.detail).toMatch(
      /^restore the unbound workqueue cpumask from the saved state: .*\/var\/lib\/tickless\/sysfs\.json/,
    );
    // the mask is still the isolated one: nothing was written from a file that could not be read
    expect((await lab3.run(`cat ${WORKQUEUE_MASK} ${sysctlFile("vm.swappiness")}`)).stdout).toBe("ef\n10\n");
    await lab3.writeFile("/var/lib/tickless/sysfs.json", saved, { mode: "0600" });
    const fixed = await play("rollback.yml", false, {}, "lab3");
    expect(failedTasks(fixed)).toEqual([]);
    expect(statuses(fixed)).toMatchObject({
      "unbound workqueue cpumask": "restored",
      "CPU governor and idle states": "restored",
      "sysctls, transparent hugepages and KSM": "restored",
      "systemd drop-ins": "already clean",
      "tuning record": "restored",
    });
    expect((await snapshot())[2]).toBe(before);
  }, 180_000);

  test("bad CPU lists are refused by the preflight, naming the CPU or token, with every file on the host unchanged", async () => {
    const before = await snapshot();
    const cases: [string, string][] = [
      ["9", "isolated_cpus: CPU 9 not online on this host (online: 0-7)"],
      ["0", 'isolated_cpus "0" includes CPU 0, the boot CPU'],
      ["0-1", 'isolated_cpus "0-1" includes CPU 0'],
      ["0,4", 'isolated_cpus "0,4" includes CPU 0'],
      ["4-", 'invalid CPU list "4-": "4-" is neither a CPU nor a range'],
      ["a", 'invalid CPU list "a": "a" is neither a CPU nor a range'],
      ["7-4", 'invalid CPU list "7-4": range "7-4" runs backwards'],
      ["", 'isolated_cpus "" names no CPU'],
      ["4,,5", 'invalid CPU list "4,,5": an empty item'],
    ];
    for (const [isolated, message] of cases) {
      // housekeeping_cpus left to the preflight (the suite's vars give it for the other tests)
      const r = await play(
        "isolation.yml",
        false,
        { isolated_cpus: isolated, housekeeping_cpus: "" },
        "lab1",
      );
      const failed = r.results.filter((x) => x.status === "failed");
      expect(
        failed.map((x) => x.task),
        isolated,
      ).toEqual(["preflight (CPU sets against the host's online CPUs)"]);
      expect(String(failed[0].result.msg), isolated).toContain(message);
      expect(r.summary.exitCode, isolated).toBe(2);
      expect(
        r.results.filter((x) => x.status === "changed"),
        isolated,
      ).toEqual([]);
    }
    expect(await snapshot()).toEqual(before);
  }, 120_000);

  test("an operator's own isolcpus=/nohz_full= in /etc/default/grub and a grub.d snippet: one of each after isolation.yml (memtest86+ entries aside), the operator's bytes back after rollback.yml", async () => {
    const lab2 = conns[1];
    const existed = (await lab2.run("test -e /etc/default/grub")).rc === 0;
    const grubBefore = existed ? (await lab2.run("cat /etc/default/grub")).stdout : "";
    const own = `${grubBefore}GRUB_CMDLINE_LINUX_DEFAULT="quiet isolcpus=2" # set by hand\n`;
    await lab2.writeFile("/etc/default/grub", own, { mode: "0644" });
    await lab2.run("mkdir -p /etc/default/grub.d");
    await lab2.writeFile(
      "/etc/default/grub.d/40-local.cfg",
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX nohz_full=1-2"\n',
      { mode: "0644" },
    );
    try {
      const before = (await snapshot())[1];
      const real = await play("isolation.yml", false, {}, "lab2");
      expect(
        real.results.filter((x) => x.status === "failed").map((x) => `${x.task}: ${x.result.msg}`),
      ).toEqual([]);
      const cfg = (await lab2.run("cat /boot/grub/grub.cfg")).stdout;
      const linux = cfg.split("\n").filter((l) => /^\s*linux(16)?\s/.test(l));
      expect(linux.filter((l) => l.includes("memtest86+"))).toHaveLength(2);
      for (const line of linux.filter((l) => l.includes("vmlinuz"))) {
        for (const key of ["isolcpus", "nohz_full", "rcu_nocbs"]) {
          expect(
            line.split(/\s+/).filter((w) => w.startsWith(`${key}=`)),
            line,
          ).toEqual([`${key}=${KERNEL_PARAMS[key as keyof typeof KERNEL_PARAMS]}`]);
        }
      }
      expect((await lab2.run("cat /etc/default/grub")).stdout).toBe(
        `${grubBefore}GRUB_CMDLINE_LINUX_DEFAULT="quiet" # set by hand\n`,
      );
      const second = await play("isolation.yml", false, {}, "lab2");
      expect(second.summary.totals.changed).toBe(0);
      const back = await play("rollback.yml", false, {}, "lab2");
      expect(back.summary.exitCode).toBe(0);
      expect((await snapshot())[1]).toBe(before);
      expect((await lab2.run("cat /boot/grub/grub.cfg")).stdout).toMatch(/ro single\s+nohz_full=1-2\n/);
    } finally {
      if (existed) await lab2.writeFile("/etc/default/grub", grubBefore, { mode: "0644" });
      else await lab2.remove("/etc/default/grub");
      await lab2.run("rm -f /etc/default/grub.d/40-local.cfg; rmdir /etc/default/grub.d 2>/dev/null; true");
    }
  }, 120_000);

  test("a /etc/default/grub tickless cannot follow fails the kernel_cmdline task at the task's and the file's line, with nothing changed", async () => {
    const lab3 = conns[2];
    const existed = (await lab3.run("test -e /etc/default/grub")).rc === 0;
    const grubBefore = existed ? (await lab3.run("cat /etc/default/grub")).stdout : "";
    await lab3.writeFile(
      "/etc/default/grub",
      `${grubBefore}GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="$(cat /etc/cmdline.local) quiet"\n`,
      { mode: "0644" },
    );
    try {
      const before = (await snapshot())[2];
      const r = await play("isolation.yml", false, {}, "lab3");
      const failed = r.results.filter((x) => x.status === "failed");
      expect(failed.map((x) => x.task)).toEqual([
        "kernel command line (isolcpus, nohz_full, rcu_nocbs and the tuning parameters)",
      ]);
      const line = grubBefore.split("\n").length + 1;
      expect(String(failed[0].result.msg)).toMatch(
        new RegExp(
          `^\\S*playbooks/isolation\\.yml:\\d+:\\d+: /etc/default/grub:${line}: GRUB_CMDLINE_LINUX's value depends on a command substitution \\$\\(…\\)`,
        ),
      );
      expect(r.results.filter((x) => x.status === "changed")).toEqual([]);
      expect((await snapshot())[2]).toBe(before);
    } finally {
      if (existed) await lab3.writeFile("/etc/default/grub", grubBefore, { mode: "0644" });
      else await lab3.remove("/etc/default/grub");
    }
  }, 120_000);

  test("validate.yml prints and saves the JSON report on every host and on the controller, and fails with one line per broken check", async () => {
    const fixture = "/tmp/sys-fixture/devices/system/cpu";
    await Promise.all(
      conns.map((c) =>
        c.run(`mkdir -p ${fixture} && echo 4 > ${fixture}/isolated && echo 4 > ${fixture}/nohz_full`),
      ),
    );
    const ok = await play("validate.yml", false, {
      sys_root: "/tmp/sys-fixture",
      nic_irq_pattern: "^eth0-TxRx-",
      // asked for (it is off by default): the fixture has no tracefs, so it is "not available"
      validate_osnoise: "auto",
    });
    expect(ok.summary.exitCode).toBe(0);
    const printed = ok.results.filter((r) => r.task === "validation report");
    expect(printed.map((r) => r.host)).toEqual(["lab1", "lab2", "lab3"]);
    const report = JSON.parse(String(printed[0].result.msg));
    expect(report).toMatchObject({ host: "lab1", isolated_cpus: "4", ok: true });
    expect(
      report.checks.filter((c: { status: string }) => c.status === "ok").map((c: { name: string }) => c.name),
    ).toEqual([
      "isolated",
      "nohz_full",
      "nic_irqs",
      "interrupts_on_isolated",
      "kthreads",
      "noise loc_per_s",
      "noise res_per_s",
      "noise cal_per_s",
      "noise tlb_per_s",
    ]);
    // the noise report: the hosts' /proc/interrupts is the 8-CPU fixture (no count moves); their
    // softirqs and schedstat are this machine's, which has no CPU 4: not read, never a zero; the
    // fixture sys_root has no tracefs: osnoise not available
    const noOsnoise =
      "osnoise not available: /tmp/sys-fixture/kernel/tracing/available_tracers has no osnoise tracer (or tracefs is not mounted there)";
    const notMeasured = { value: null, status: "skipped", reason: "not measured" };
    expect(report.noise).toEqual({
      window_s: 1,
      cpus: {
        "4": {
          interrupts: { total: 0, per_s: 0, by_kind: {} },
          softirqs: null,
          switches_in: null,
          limits: {
            loc_per_s: { value: 0, max: 20, status: "ok" },
            res_per_s: { value: 0, max: 50, status: "ok" },
            cal_per_s: { value: 0, max: 5, status: "ok" },
            tlb_per_s: { value: 0, max: 5, status: "ok" },
            softirqs_per_s: { ...notMeasured, max: 50 },
            net_softirqs_per_s: { ...notMeasured, max: 0 },
            rcu_softirqs_per_s: { ...notMeasured, max: 5 },
            sched_softirqs_per_s: { ...notMeasured, max: 5 },
            other_switches_in_per_s: { ...notMeasured, max: 5 },
            osnoise_max_single_us: { value: null, max: 50, status: "skipped", reason: noOsnoise },
            osnoise_available_pct: { value: null, min: 99.9, status: "skipped", reason: noOsnoise },
          },
        },
      },
    });
    expect(report.osnoise).toMatchObject({
      state: "not available",
      tracefs: "/tmp/sys-fixture/kernel/tracing",
    });
    expect(
      ok.results.filter((r) => r.task === "noise on the isolated CPUs").map((r) => r.result.msg),
    ).toEqual(
      Array(3).fill(
        "CPU 4 in 1 s: 0 interrupts (0/s); softirqs: not read (no file, or no column for the CPU); task switches: not read (no /proc/schedstat, or no line for the CPU) — ok: LOC/s 0, RES/s 0, CAL/s 0, TLB/s 0; skipped: softirqs/s not measured, NET_RX+NET_TX softirqs/s not measured, RCU softirqs/s not measured, SCHED softirqs/s not measured, other tasks switched in/s not measured, osnoise max single noise (µs) not measured, osnoise % of CPU available not measured",
      ),
    );
    const onHost = await conns[0].run("cat /var/lib/tickless/validate-*.json | tail -n +1");
    expect(onHost.stdout).toContain('"host": "lab1"');
    const saved = (await readdir(RESULTS)).filter((f) => f.startsWith("lab1-validate-"));
    expect(saved.length).toBeGreaterThan(0);
    const controllerFile = String(
      ok.results.find((r) => r.host === "lab1" && r.task.startsWith("validate CPU"))?.result
        .controller_report_file,
    );
    expect(JSON.parse(await readFile(controllerFile, "utf8"))).toEqual(report);

    const broken = await play("validate.yml", false, {
      sys_root: "/tmp/sys-missing",
      nic_irq_pattern: "^(eth0-TxRx-\\d+|nvme0q0)$",
    });
    expect(broken.summary.exitCode).toBe(2);
    const reasons = broken.results.filter((r) => r.task === "every isolation check holds");
    expect(reasons.map((r) => r.status)).toEqual(["failed", "failed", "failed"]);
    expect(String(reasons[0].result.msg).split("\n")).toEqual([
      "isolated: /tmp/sys-missing/devices/system/cpu/isolated is missing",
      "nic_irqs: effective affinity on an isolated CPU: IRQ 28 (nvme0q0) on CPU 4",
    ]);
    await Promise.all(conns.map((c) => c.run("rm -rf /tmp/sys-fixture /var/lib/tickless/validate-*.json")));
  }, 120_000);

  test("a running tuned with a profile stops isolation.yml before any change (tuned_conflict: stop) or is named in a warning (ignore); validate.yml names each tuning setting that does not hold, after the isolation checks", async () => {
    const lab1 = conns[0];
    const before = (await snapshot())[0];
    // The stand-in tuned is a process of that name (what `pidof -x tuned` finds) and the profile
    // file tuned-adm writes; the real daemon would retune this machine.
    const standIn = "/opt/tickless-test/tuned";
    const pid = (
      await lab1.run(
        `mkdir -p /etc/tuned && echo cpu-partitioning > /etc/tuned/active_profile && cp /bin/sleep ${standIn} && { ${standIn} 600 </dev/null >/dev/null 2>&1 & echo $!; }; i=0; while ! pidof tuned >/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done`,
      )
    ).stdout.trim();
    try {
      const stopped = await play("isolation.yml", false, {}, "lab1");
      expect(stopped.summary.exitCode).toBe(2);
      const failed = stopped.results.filter((r) => r.status === "failed");
      expect(failed.map((r) => r.task)).toEqual(["tuned would undo (or redo) these settings"]);
      expect(String(failed[0].result.msg)).toMatch(
        /^tuned is running with the profile 'cpu-partitioning', which writes the same kernel parameters, sysctls and irqbalance bans as this play: nothing was changed\. Either stop it \(tuned-adm off; systemctl disable --now tuned\)/,
      );
      expect(stopped.results.filter((r) => r.status === "changed")).toEqual([]);
      expect((await snapshot())[0]).toBe(before);

      const ignored = await play("isolation.yml", true, { tuned_conflict: "ignore" }, "lab1");
      expect(ignored.summary.exitCode).toBe(0);
      expect(
        ignored.results.find((r) => r.task === "tuned runs beside this play (tuned_conflict is ignore)")
          ?.result.msg,
      ).toBe(
        "WARNING: tuned is running with the profile 'cpu-partitioning': it may rewrite what this play sets",
      );
      expect((await snapshot())[0]).toBe(before);
    } finally {
      await lab1.run(`kill ${pid} 2>/dev/null; rm -rf ${standIn} /etc/tuned`);
    }

    // applied (the kernel still runs the old command line), then a sysctl, THP, a queue's XPS mask and CPU 4's governor drift back
    expect((await play("isolation.yml", false, {}, "lab1")).summary.exitCode).toBe(0);
    await lab1.run(
      `echo 60 > ${sysctlFile("vm.swappiness")} && echo 'always [madvise] never' > ${THP} && echo 1f > ${HOST_SYS}/class/net/eth0/queues/tx-0/xps_cpus && echo powersave > ${CPU}/cpufreq/policy4/scaling_governor`,
    );
    const validated = await play("validate.yml", false, {}, "lab1");
    expect(validated.summary.exitCode).toBe(2);
    // the tuning failure waits: the isolation checks still run, with their report (here the lab's
    // sys_root has no isolated list, so they fail the host themselves)
    expect(validated.results.find((r) => r.task === "validation report")?.status).toBe("ok");
    const reasons = validated.results.filter((r) => r.status === "failed").map((r) => r.task);
    expect(reasons).toEqual([
      "every tuning setting holds",
      "validate CPU isolation (report under /var/lib/tickless and results_dir)",
      "every isolation check holds",
    ]);
    const tuningFailure = validated.results.find((r) => r.task === "every tuning setting holds");
    expect(String(tuningFailure?.result.msg).trimEnd().split("\n")).toEqual([
      `the running kernel lacks ${KERNEL_WORDS} (a reboot applies the GRUB defaults)`,
      "vm.swappiness is 60, not 10",
      "kernel/mm/transparent_hugepage/enabled is always [madvise] never, not never",
      "policy4 (CPU 4) governor is powersave, not performance",
      "packet steering reaches CPU 4: eth0 tx-0 xps_cpus 1f (CPUs 0-4)",
    ]);
    // rollback gives back the originals saved before the first change, whatever drifted since
    expect((await play("rollback.yml", false, {}, "lab1")).summary.exitCode).toBe(0);
    expect((await snapshot())[0]).toBe(before);
  }, 120_000);

  test("by default the NIC's IRQs are found by device; a rollback that meets a renamed IRQ restores the rest, runs to its end and then fails naming it", async () => {
    const lab1 = conns[0];
    // the network part of a sysfs tree (eth0 on PCI 0000:3b:00.0, MSI-X vectors 24-27; lo, br0), copied in as a tar
    await lab1.writeFile("/opt/tickless-test/net.tar", await netFixtureTar(), { mode: "0644" });
    await lab1.run(`tar -C ${HOST_SYS} -xf /opt/tickless-test/net.tar`);
    const interrupts = (await lab1.run("cat /proc/interrupts")).stdout;
    // in place: the file is a bind mount, which an atomic rename cannot replace
    const setInterrupts = (text: string) =>
      lab1.run(`echo ${Buffer.from(text).toString("base64")} | base64 -d > /proc/interrupts`);
    try {
      // check mode predicts it, the save of the originals byte for byte (the kernel takes every write here)
      const { check, real: isolate } = await expectCheckPredicts({
        check: () => play("isolation.yml", true, { nic_irq_pattern: "" }, "lab1"),
        real: () => play("isolation.yml", false, { nic_irq_pattern: "" }, "lab1"),
        snapshot: checkSnapshot,
        hosts: ["lab1"],
        read: readOn,
        measured: {
          [VALIDATION]:
            "a measurement of the host after the change: check mode says it would run; the real run's boot-time checks wait for the reboot",
        },
        unpredictable: AFTER_VALIDATION,
        normalize: recordFreeSaveHash,
      });
      const save = plannedContent(check, "lab1").get(SAVE);
      expect(Object.keys(JSON.parse(save ?? "{}").irqs)).toEqual(["24", "25", "26", "27"]);
      expect(await readOn("lab1", SAVE)).toBe(save);
      expect(
        isolate.results.filter((x) => x.status === "failed").map((r) => `${r.task}: ${r.result.msg}`),
      ).toEqual([]);
      expect(isolate.summary.exitCode).toBe(0);
      const irqTask = isolate.results.find((r) => r.task.startsWith("NIC IRQs"));
      expect((irqTask?.result.changes ?? []).map((c) => c.target).filter((t) => /\/\d+\//.test(t))).toEqual(
        [24, 25, 26, 27].map((n) => `/proc/irq/${n}/smp_affinity_list`),
      );
      // what the validation's nic_irqs check gets: exactly these four names
      const names = new RegExp(String(irqTask?.result.name_pattern));
      expect(["eth0-TxRx-0", "eth0-TxRx-3", "eth0-TxRx-30", "nvme0q0"].map((n) => names.test(n))).toEqual([
        true,
        true,
        false,
        false,
      ]);

      // IRQ 26 now carries another device's name: its saved affinity must not be written back
      await setInterrupts(interrupts.replace("eth0-TxRx-2", "nvme1q2"));
      const back = await play("rollback.yml", false, {}, "lab1");
      expect(back.summary.exitCode).not.toBe(0);
      const failed = back.results.filter((r) => r.status === "failed");
      expect(failed.map((r) => r.task)).toEqual([
        "restore IRQ affinities and irqbalance from the saved state",
        "the rollback report",
      ]);
      expect(String(failed[1].result.msg)).toMatch(
        /^rollback incomplete: IRQ affinities and irqbalance's config could not be restored \(the rest was\)\n/,
      );
      expect(String(failed[1].result.msg)).toContain(
        'could not restore IRQ 26 (eth0-TxRx-2): its name changed: "eth0-TxRx-2" when saved, "nvme1q2" now',
      );
      expect(back.results.find((r) => r.task === "IRQs that could not be restored")?.status).toBe("ok");
      // everything else was rolled back
      const after = await lab1.run(
        "cat /proc/irq/24/smp_affinity_list /proc/irq/26/smp_affinity_list; ls /etc/systemd/system/hft.slice /etc/default/grub.d/99-tickless.cfg 2>&1",
      );
      expect(after.stdout).toMatch(
        /^0-7\n0-3,5-7\n.*hft\.slice': No such file.*99-tickless\.cfg': No such file/s,
      );
      expect(
        Object.keys(JSON.parse((await lab1.run("cat /var/lib/tickless/irq-affinity.json")).stdout).irqs),
      ).toEqual(["26"]);
      // the record stays until every part is restored
      expect((await lab1.run("test -e /var/lib/tickless/applied.json && echo kept")).stdout).toBe("kept\n");
    } finally {
      await setInterrupts(interrupts);
      await lab1.run(
        `echo 0-7 > /proc/irq/26/smp_affinity_list; rm -rf /var/lib/tickless/irq-affinity.json /var/lib/tickless/applied.json /opt/tickless-test/net.tar ${HOST_SYS}/class ${HOST_SYS}/devices/pci0000:00 ${HOST_SYS}/devices/virtual/net`,
      );
    }
  }, 120_000);
});

/** The network part of a sysfs tree (writeNetFixture), as a tar to unpack on a host. */
function netFixtureTar(): Promise<Buffer> {
  return fixtureTar(writeNetFixture);
}

/** A part of a sysfs tree written by `write`, as a tar to unpack on a host. */
async function fixtureTar(write: (sysDir: string) => Promise<void>): Promise<Buffer> {
  const local = await mkdtemp(join(tmpdir(), "tickless-sys-"));
  try {
    await write(join(local, "sys"));
    return await new Promise<Buffer>((resolve, reject) =>
      execFile("tar", ["-C", join(local, "sys"), "-c", "."], { encoding: "buffer" }, (e, out) =>
        e ? reject(e) : resolve(out),
      ),
    );
  } finally {
    await rm(local, { recursive: true, force: true });
  }
}

/**
 * A record without the run's own id and time. The saved IRQ state's hash is left out too: the real
 * save names IRQ 28 kernel-managed, which only the refused write itself learns; the test checks each
 * run's hash against the save that run had (the planned bytes, the written ones).
 */
function runFree(text: string, saveHash = false): unknown {
  const free = (json: string) =>
    JSON.parse(json, function (this: { path?: string }, key, value) {
      if (["run_id", "time"].includes(key)) return "*";
      return !saveHash && key === "sha256" && this.path === SAVE ? "*" : value;
    });
  return text.trimStart().startsWith('{"') ? text.trim().split("\n").map(free) : free(text);
}
