/**
 * CPU isolation on a real kernel: isolation.yml and rollback.yml on the VM (Debian
 * bookworm, systemd, GRUB, virtio NIC, irqbalance enabled by the image), in two deterministic
 * scenarios on one booted VM (boots cost minutes under TCG):
 *
 * 1. irqbalance disabled (as on many trading hosts), isolated CPUs 2,6-7 (not one contiguous
 *    range), with the reboots done by the playbooks' own `reboot` task: check mode, the real run,
 *    a second run, then day two (docs/operations.md): `tickless status` clean; an IRQ moved onto
 *    CPU 6 by hand and the Redis drop-in deleted are named by status and repaired by a rerun;
 *    grub.cfg regenerated without the snippet is named; a rollback whose CPU set contradicts the
 *    record changes nothing; rollback.yml without allow_reboot leaves "reboot pending"; then
 *    rollback.yml -e allow_reboot=true alone, and every file and every IRQ affinity byte for byte
 *    as before. Nothing but the kernel and the playbooks places IRQs.
 * 2. irqbalance running (as on many other hosts), CPU 4, with the playbook's own reboot: after the
 *    boot into isolcpus/nohz_full irqbalance is active, banned from CPU 4, and the NIC IRQs stay
 *    off it while irqbalance owns their placement inside the housekeeping set (irq_affinity
 *    `cpus_match: within`); Redis's main thread runs on CPU 4 and its other threads beside it; a
 *    second run after irqbalance's 10 s interval changes nothing; rollback.yml without a reboot
 *    gives back the files byte for byte (the command line stays pending: the warning path of
 *    allow_reboot=false is the lab's, test/isolation/playbooks.test.ts).
 *
 * Both run as a production host is run: tickless logs in as `ops`, whose sudo asks for a password,
 * and `become: true` comes from the playbooks' plays alone (not from the inventory); the password
 * appears in no event.
 *
 * Runs only under vitest.vm.config.ts (`npx vitest run -c vitest.vm.config.ts test/vm/isolation.test.ts`).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recapBlock } from "../../src/reporters/recap.js";
import { cli } from "../cli/helpers.js";
import { type Run, run } from "../e2e/helpers.js";
import { startVm, type Vm } from "./vm.js";

const ROOT = join(import.meta.dirname, "../..");
const MINUTES = 60_000;

/** The virtio NIC's queue IRQs (`virtio0-input.0`, `virtio0-output.0`), not the disk's (`virtio1-req.0`). */
const NIC_IRQ_PATTERN = "^virtio\\d+-(input|output)\\.\\d+$";

/** Every file the playbooks may change, hashed in one command, and the unbound workqueue cpumask. */
const FILES = [
  "for f in $(find /etc/default/grub /etc/default/grub.d /etc/default/irqbalance /etc/systemd/system /etc/tmpfiles.d 2>/dev/null | sort); do",
  '  if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; elif [ -f "$f" ]; then echo "$f $(sha256sum < "$f" | cut -c1-16)"; else echo "$f dir"; fi',
  "done",
  'echo "workqueue cpumask $(cat /sys/devices/virtual/workqueue/cpumask)"',
].join("\n");
const WORKQUEUE = "cat /sys/devices/virtual/workqueue/cpumask /etc/tmpfiles.d/tickless-workqueue.conf";

/** The sysctls isolation.yml sets (vars/isolation-tuning.yml) and the value each must have. */
const SYSCTLS: [string, string][] = [
  ["kernel/timer_migration", "0"],
  ["vm/stat_interval", "10"],
  ["kernel/numa_balancing", "0"],
  ["kernel/hung_task_timeout_secs", "600"],
  ["kernel/nmi_watchdog", "0"],
  ["vm/swappiness", "10"],
  ["vm/overcommit_memory", "1"],
  ["net/core/somaxconn", "4096"],
];
/** Each of them, transparent hugepages, KSM and the sysctl.d directory, byte for byte. */
const TUNING = [
  `for f in ${SYSCTLS.map(([n]) => `/proc/sys/${n}`).join(" ")} /sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/mm/ksm/run; do echo "$f $(cat "$f")"; done`,
  'for f in $(find /etc/sysctl.d | sort); do if [ -f "$f" ]; then echo "$f $(sha256sum < "$f" | cut -c1-16)"; else echo "$f"; fi; done',
].join("\n");
/** The kernel parameters of isolation.yml's defaults on an 8-CPU host with CPU 4 isolated. */
const KERNEL_WORDS =
  "isolcpus=managed_irq,domain,4 nohz_full=4 rcu_nocbs=4 irqaffinity=0-3,5-7 skew_tick=1 nosoftlockup nowatchdog transparent_hugepage=never";

/** Scenario 1's isolated CPUs, the housekeeping rest, its mask, and isolation.yml's parameters for them. */
const S1 = "2,6-7";
const S1_HOUSEKEEPING = "0-1,3-5";
const S1_MASK = "3b";
const S1_WORDS =
  "isolcpus=managed_irq,domain,2,6-7 nohz_full=2,6-7 rcu_nocbs=2,6-7 irqaffinity=0-1,3-5 skew_tick=1 nosoftlockup nowatchdog transparent_hugepage=never";
const S1_CPUS = [2, 6, 7];
const DROPIN = "/etc/systemd/system/redis-server.service.d/50-tickless-cpuaffinity.conf";
/** The receive packet steering mask of the VM's one NIC queue (virtio-net, ens3): 0 (RPS off) at boot. */
const RPS = "/sys/class/net/ens3/queues/rx-0/rps_cpus";
/** GRUB's files, the generated grub.cfg, the drop-ins and the state directory, hashed (a rollback refused changes none). */
const STATE = [
  "for f in $(find /etc/default/grub /etc/default/grub.d /boot/grub/grub.cfg /boot/grub/custom.cfg /etc/default/irqbalance /etc/systemd/system /etc/tmpfiles.d /var/lib/tickless 2>/dev/null | sort); do",
  '  if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; elif [ -f "$f" ]; then echo "$f $(sha256sum < "$f" | cut -c1-16)"; else echo "$f dir"; fi',
  "done",
].join("\n");

/** Every IRQ's affinity and the default for new IRQs. */
const IRQS =
  'for f in /proc/irq/default_smp_affinity /proc/irq/*/smp_affinity_list; do echo "$f $(cat "$f")"; done';

/** `IRQ name effective_affinity_list` for every numbered IRQ. */
const EFFECTIVE = `for d in /proc/irq/[0-9]*; do n=\${d##*/}; name=$(grep -E "^ *$n:" /proc/interrupts | awk '{print $NF}'); echo "$n $name $(cat $d/effective_affinity_list)"; done`;

describe.skipIf(!process.env.TICKLESS_VM_SUITE)("isolation.yml and rollback.yml on the VM", () => {
  let vm: Vm;
  let results: string;
  /** Logs in as `ops` (password sudo); become comes from the playbooks. */
  let opsInventory: string;
  const password = `Ops-${randomBytes(9).toString("base64url")}`;
  const phases: Record<string, number> = {};
  const files = async () => (await vm.ssh(FILES)).stdout;
  const snapshot = async () =>
    `${await files()}${(await vm.ssh(IRQS)).stdout}${(await vm.ssh(TUNING)).stdout}`;

  /** `[tid, comm, Cpus_allowed_list, the CPU it last ran on]` for each thread of a process (stat field 39). */
  async function threadsOf(pid: string): Promise<string[][]> {
    const out = await vm.ssh(
      `for t in /proc/${pid}/task/*; do echo "\${t##*/}|$(cat $t/comm)|$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' $t/status)|$(sed 's/.*) //' $t/stat | cut -d' ' -f37)"; done`,
    );
    return out.stdout
      .trim()
      .split("\n")
      .map((l) => l.split("|"));
  }

  async function play(
    name: string,
    extra: Record<string, unknown> = {},
    check = false,
    phase = name,
  ): Promise<Run> {
    const t0 = Date.now();
    const r = await run({
      playbook: join(ROOT, "playbooks", name),
      inventory: opsInventory,
      check,
      diff: true,
      extraVars: {
        nic_irq_pattern: NIC_IRQ_PATTERN,
        results_dir: results,
        validate_window: 5,
        // the playbook's own reboot task is what scenario 1 checks; the trial boot has its own VM test (trial-boot.test.ts)
        trial_boot: false,
        ...extra,
      },
    });
    phases[`${phase}${check ? " --check" : ""}`] = (Date.now() - t0) / 1000;
    expect(JSON.stringify(r.events)).not.toContain(password);
    return r;
  }

  /** Failed tasks as `task: msg`, so that an assertion shows why. */
  const failures = (r: Run) =>
    r.results
      .filter((x) => x.status === "failed" || x.status === "unreachable")
      .map((x) => `${x.task}: ${x.result.msg}`);
  const changedTasks = (r: Run) => r.results.filter((x) => x.status === "changed").map((x) => x.task);

  /** The NIC IRQs whose effective affinity includes one of `cpus` (`IRQ name effective`), and how many NIC IRQs there are. */
  async function nicIrqsOn(cpus: number[]): Promise<{ count: number; on: string[]; irqs: string[][] }> {
    const nic = (await vm.ssh(EFFECTIVE)).stdout
      .split("\n")
      .map((l) => l.split(" "))
      .filter(([, name]) => new RegExp(NIC_IRQ_PATTERN).test(name ?? ""));
    return {
      count: nic.length,
      on: nic.filter(([, , eff]) => cpus.some((c) => hasCpu(eff ?? "", c))).map((l) => l.join(" ")),
      irqs: nic,
    };
  }
  const nicIrqsOnCpu4 = async () => {
    const { count, on } = await nicIrqsOn([4]);
    return { count, onCpu4: on };
  };

  /** `tickless status` as an operator runs it (text and --json), with the ops login and its sudo. */
  async function status(): Promise<{ code: number; host: Record<string, unknown>; line: string }> {
    const json = await cli(["status", "-i", opsInventory, "--json"]);
    expect(json.stderr).toBe("");
    const text = await cli(["status", "-i", opsInventory]);
    console.log(`[vm isolation] status (exit ${text.code}): ${text.stdout.trim()}`);
    expect(text.stdout).not.toContain(password);
    return { code: json.code, host: JSON.parse(json.stdout).hosts[0], line: text.stdout };
  }

  /** The validation report's checks, logged. */
  function checksOf(r: Run, label: string) {
    const validation = r.results.find((x) => x.task.startsWith("validate CPU isolation"));
    const report = validation?.result.report as {
      checks: { name: string; status: string; detail: string }[];
    };
    const checks = report?.checks ?? [];
    console.log(
      `[vm isolation] ${label} validation:\n${checks.map((c) => `${c.name} ${c.status}: ${c.detail}`).join("\n")}`,
    );
    return checks;
  }

  beforeAll(async () => {
    results = await mkdtemp(join(tmpdir(), "tickless-vm-results-"));
    vm = await startVm();
    phases[`boot (${vm.accel})`] = vm.bootSeconds;
    opsInventory = await vm.addSudoUser("ops", password, "ops.inventory.yml");
  }, 30 * MINUTES);

  afterAll(async () => {
    await vm?.stop();
    await rm(results, { recursive: true, force: true });
    console.log(`[vm isolation] phases (s): ${JSON.stringify(phases)}`);
  });

  it("has NIC queue IRQs that the pattern selects", async () => {
    const interrupts = (await vm.ssh("cat /proc/interrupts")).stdout;
    console.log(
      `[vm isolation] virtio IRQs:\n${interrupts
        .split("\n")
        .filter((l) => l.includes("virtio"))
        .join("\n")}`,
    );
    const names = interrupts.split("\n").map((l) => l.trim().split(/\s+/).pop() ?? "");
    expect(names.filter((n) => new RegExp(NIC_IRQ_PATTERN).test(n)).length).toBeGreaterThanOrEqual(2);
  });

  describe("scenario 1: irqbalance disabled, isolated 2,6-7, with reboots, then day two", () => {
    let before: string;
    /** The same variables as the operator's first apply (rollback.yml gets none: it reads the record). */
    // reboot_timeout: a reboot under software emulation on a loaded machine has taken over 900 s
    const s1 = { allow_reboot: true, isolated_cpus: S1, reboot_timeout: 1800 };
    /** The NIC IRQ moved by hand on day two, and its affinity in the baseline. */
    let moved: { irq: string; name: string; baseline: string };

    it(
      "setup (the test's own, not the playbook's): irqbalance disabled and a reboot, so that no IRQ keeps irqbalance's placement; then the baseline",
      async () => {
        // Many trading hosts run without irqbalance. Stopping it leaves the affinities it chose in
        // place, and the rollback's reboot would reset them to the kernel's: the baseline must come
        // from a boot without irqbalance for the byte-for-byte comparison to mean anything.
        await vm.ssh("systemctl disable --now irqbalance.service");
        phases["reboot (irqbalance disabled)"] = await vm.reboot();
        await vm.ssh("systemctl is-system-running --wait || true", { allowFailure: true });
        expect((await vm.ssh("pidof irqbalance", { allowFailure: true })).code).not.toBe(0);
        before = await snapshot();
        expect(before).toContain("/proc/irq/default_smp_affinity ");
        const untuned = await status();
        expect([untuned.code, untuned.line]).toEqual([0, "vm1  not tuned\n"]);
      },
      30 * MINUTES,
    );

    it(
      "check mode changes nothing and shows the GRUB, drop-in and IRQ diffs",
      async () => {
        const check = await play("isolation.yml", s1, true);
        expect(failures(check)).toEqual([]);
        expect(check.summary.exitCode).toBe(0);
        expect(diffLines(before, await snapshot())).toEqual([]);
        const changes = check.results
          .filter((r) => r.status === "changed")
          .flatMap((r) => r.result.changes ?? []);
        const targets = changes.map((c) => c.target);
        expect(targets).toEqual(
          expect.arrayContaining([
            "/etc/default/grub.d/99-tickless.cfg",
            "/boot/grub/grub.cfg",
            "/proc/irq/default_smp_affinity",
            "/etc/default/irqbalance",
            "/etc/systemd/system/hft.slice",
            "/etc/systemd/system/system.slice.d/50-tickless-allowedcpus.conf",
            DROPIN,
            "/etc/tmpfiles.d/tickless-workqueue.conf",
            "/sys/devices/virtual/workqueue/cpumask",
            "/var/lib/tickless/sysfs.json",
            "/etc/sysctl.d/90-tickless-isolation.conf",
            "/proc/sys/kernel/timer_migration",
            "/proc/sys/vm/stat_interval",
          ]),
        );
        // the sysfs task predicts the runtime mask write with its diff
        expect(changes.find((c) => c.target === "/sys/devices/virtual/workqueue/cpumask")?.summary).toBe(
          `devices/virtual/workqueue/cpumask: ff → ${S1_MASK} (CPUs 0-7 → ${S1_HOUSEKEEPING})`,
        );
        expect(targets.some((t) => /^\/proc\/irq\/\d+\/smp_affinity_list$/.test(t))).toBe(true);
        expect(changes.find((c) => c.target.endsWith("99-tickless.cfg"))?.after).toContain(S1_WORDS);
        expect(
          changes.find((c) => c.target.endsWith("system.slice.d/50-tickless-allowedcpus.conf"))?.after,
        ).toContain(`AllowedCPUs=${S1_HOUSEKEEPING}`);
        const reboot = check.results.find((r) => r.task === "reboot into the new kernel command line");
        expect(reboot?.result.changed).toBe(true);
        expect(reboot?.result.changes).toEqual([
          { target: "vm1:boot", summary: "reboot", before: `boot id ${await vm.bootId()}` },
        ]);
      },
      30 * MINUTES,
    );

    it(
      "the real run reboots into isolcpus/nohz_full, moves the NIC IRQs off 2,6-7, pins Redis to 2,6-7, keeps the slices off them",
      async () => {
        const bootBefore = await vm.bootId();
        const real = await play("isolation.yml", s1);
        expect(failures(real)).toEqual([]);
        expect(real.summary.exitCode).toBe(0);
        const reboot = real.results.find((r) => r.task === "reboot into the new kernel command line");
        expect(reboot?.result).toMatchObject({ rebooted: true, boot_id_before: bootBefore });
        phases["reboot (isolation.yml)"] = Number(reboot?.result.elapsed);
        expect(await vm.bootId()).not.toBe(bootBefore);

        const cmdline = (await vm.ssh("cat /proc/cmdline")).stdout.split(/\s+/);
        expect(cmdline).toEqual(expect.arrayContaining(S1_WORDS.split(" ")));
        // the sysctls live (and from /etc/sysctl.d at every boot), transparent hugepages never, KSM off
        const tuning = (await vm.ssh(TUNING)).stdout;
        console.log(`[vm isolation] tuning after isolation.yml:\n${tuning}`);
        for (const [name, value] of SYSCTLS) expect(tuning).toContain(`/proc/sys/${name} ${value}\n`);
        expect(tuning).toContain("/sys/kernel/mm/transparent_hugepage/enabled always madvise [never]\n");
        expect(tuning).toContain("/sys/kernel/mm/ksm/run 0\n");
        expect(tuning).toMatch(/^\/etc\/sysctl\.d\/90-tickless-isolation\.conf [0-9a-f]{16}$/m);
        // validate.yml checks them, and the boot parameters, against the record
        // with the osnoise tracer on the real kernel: it runs on 2,6-7 and tracefs comes back as it was
        const tracefs =
          "cat /sys/kernel/tracing/current_tracer /sys/kernel/tracing/tracing_on /sys/kernel/tracing/osnoise/cpus";
        const tracefsBefore = (await vm.ssh(tracefs, { allowFailure: true })).stdout;
        const validated = await play("validate.yml", { isolated_cpus: S1, validate_osnoise: "auto" });
        expect((await vm.ssh(tracefs, { allowFailure: true })).stdout).toBe(tracefsBefore);
        const osnoise = checksOf(validated, "scenario 1 validate.yml").find((c) => c.name === "osnoise");
        expect(osnoise?.status).toMatch(/^(ok|skipped)$/);
        expect(failures(validated)).toEqual([]);
        expect(validated.results.find((r) => r.task === "every tuning setting holds")?.status).toBe(
          "skipped",
        );
        expect(
          validated.results.filter((r) => r.task === "each sysctl holds its value").map((r) => r.status),
        ).toEqual(["ok"]);
        expect((await vm.ssh("cat /sys/devices/system/cpu/isolated")).stdout.trim()).toBe(S1);
        const nohz = await vm.ssh("cat /sys/devices/system/cpu/nohz_full", { allowFailure: true });
        const checks = checksOf(real, "scenario 1");
        expect(checks.length).toBeGreaterThan(0);
        if (nohz.code === 0) expect(nohz.stdout.trim()).toBe(S1);
        else
          expect(checks.find((c) => c.name === "nohz_full")?.detail).toContain("the kernel lacks NO_HZ_FULL");
        expect(checks.filter((c) => c.status === "failed")).toEqual([]);

        const nic = await nicIrqsOn(S1_CPUS);
        console.log(
          `[vm isolation] scenario 1 NIC IRQs (irq name effective):\n${nic.irqs.map((l) => l.join(" ")).join("\n")}`,
        );
        expect(nic.count).toBeGreaterThanOrEqual(2);
        expect(nic.on).toEqual([]);
        // unbound workqueues off 2,6-7 (nohz_full= already does it at boot; tmpfiles at every boot)
        expect((await vm.ssh(WORKQUEUE)).stdout).toMatch(
          new RegExp(
            `^${S1_MASK}\\n(#.*\\n)*w /sys/devices/virtual/workqueue/cpumask - - - - ${S1_MASK}\\n$`,
          ),
        );

        const pid = (await vm.ssh("systemctl show -p MainPID --value redis-server.service")).stdout.trim();
        expect(Number(pid)).toBeGreaterThan(0);
        expect((await vm.ssh(`grep Cpus_allowed_list /proc/${pid}/status`)).stdout).toMatch(
          new RegExp(`^Cpus_allowed_list:\\s+${S1}$`, "m"),
        );
        expect((await vm.ssh("systemctl show -p Slice --value redis-server.service")).stdout.trim()).toBe(
          "hft.slice",
        );
        const allowed = (await vm.ssh("systemctl show -p AllowedCPUs --value system.slice")).stdout.trim();
        expect(allowed).not.toBe("");
        for (const c of S1_CPUS) expect([c, hasCpu(allowed.replace(/\s+/g, ","), c)]).toEqual([c, false]);
        console.log(
          `[vm isolation] system.slice AllowedCPUs=${allowed}, cgroup cpuset.cpus.effective=${(await vm.ssh("cat /sys/fs/cgroup/system.slice/cpuset.cpus.effective", { allowFailure: true })).stdout.trim()}`,
        );
      },
      60 * MINUTES,
    );

    it(
      "a second run changes nothing and does not reboot; tickless status is clean and shows the set and the last apply",
      async () => {
        const bootBefore = await vm.bootId();
        const second = await play("isolation.yml", s1, false, "isolation.yml (second)");
        expect(failures(second)).toEqual([]);
        expect(changedTasks(second)).toEqual([]);
        expect(await vm.bootId()).toBe(bootBefore);

        const clean = await status();
        expect(clean.code).toBe(0);
        expect(clean.host).toMatchObject({
          tuned: true,
          isolated_cpus: S1,
          housekeeping_cpus: S1_HOUSEKEEPING,
          reboot_pending: false,
          drift: [],
        });
        expect(clean.line).toMatch(
          /^vm1 {2}tuned isolated=2,6-7 housekeeping=0-1,3-5 {2}applied \S+Z run [0-9a-f]{8} by \S+@\S+ {2}in sync\n$/,
        );
      },
      30 * MINUTES,
    );

    it(
      "day two: a NIC IRQ moved onto CPU 6 by hand, the Redis drop-in deleted, and RPS asked for every CPU (the kernel keeps the isolated ones out): status exit 2 naming the first two; isolation.yml rerun with the same variables repairs them, status exit 0",
      async () => {
        const [irq, name] = (await nicIrqsOn(S1_CPUS)).irqs.find(([, n]) => /-input\.0$/.test(n ?? "")) ?? [];
        expect(irq).toMatch(/^\d+$/);
        const baseline = new RegExp(`^/proc/irq/${irq}/smp_affinity_list (\\S+)$`, "m").exec(before)?.[1];
        expect(baseline).toMatch(/^[\d,-]+$/);
        moved = { irq: String(irq), name: String(name), baseline: String(baseline) };
        // and packet steering asked for every CPU (as a boot script or a NIC tuning guide does): the
        // kernel booted with isolcpus=domain keeps the isolated CPUs out of an RPS mask itself
        // (net-sysfs's store_rps_map against the housekeeping set), so ff reads back as 3b
        await vm.ssh(
          `echo 6 > /proc/irq/${irq}/smp_affinity_list && rm ${DROPIN} && systemctl daemon-reload && echo ff > ${RPS}`,
        );
        expect((await vm.ssh(`cat ${RPS}`)).stdout.trim()).toBe("3b");
        const drifted = await status();
        expect(drifted.code).toBe(2);
        expect(drifted.host.reboot_pending).toBe(false);
        expect(drifted.host.drift).toEqual(
          expect.arrayContaining([
            { check: "irq", detail: `IRQ ${irq} (${name}) on CPU 6` },
            { check: "units", detail: `${DROPIN} (missing)` },
          ]),
        );
        expect(drifted.line).toContain(`irq (IRQ ${irq} (${name}) on CPU 6)`);
        // no steering drift: the mask holds no isolated CPU
        expect(JSON.stringify(drifted.host.drift)).not.toContain("steering");
        expect(drifted.line).toContain(`units (${DROPIN} (missing))`);

        const bootBefore = await vm.bootId();
        const repair = await play("isolation.yml", s1, false, "isolation.yml (repair)");
        expect(failures(repair)).toEqual([]);
        expect(repair.summary.exitCode).toBe(0);
        expect(await vm.bootId()).toBe(bootBefore);
        const repaired = await status();
        expect([repaired.code, repaired.host.drift]).toEqual([0, []]);
        const list = (await vm.ssh(`cat /proc/irq/${irq}/smp_affinity_list`)).stdout.trim();
        for (const c of S1_CPUS) expect([c, hasCpu(list, c)]).toEqual([c, false]);
        const pid = (await vm.ssh("systemctl show -p MainPID --value redis-server.service")).stdout.trim();
        expect((await vm.ssh(`grep Cpus_allowed_list /proc/${pid}/status`)).stdout).toMatch(
          new RegExp(`^Cpus_allowed_list:\\s+${S1}$`, "m"),
        );
        // nothing for the steering task to do: the kernel's 3b has no isolated CPU; nothing saved
        expect(repair.results.find((r) => r.task.startsWith("packet steering"))?.status).toBe("ok");
        expect((await vm.ssh(`cat ${RPS}`)).stdout.trim()).toBe("3b");
      },
      30 * MINUTES,
    );

    it(
      "day two: grub.cfg regenerated without tickless's snippet (a kernel package's update-grub): status names the entries that lost the parameters",
      async () => {
        const t0 = Date.now();
        await vm.ssh(
          "mv /etc/default/grub.d/99-tickless.cfg /root/ && update-grub 2>/dev/null && mv /root/99-tickless.cfg /etc/default/grub.d/",
        );
        phases["update-grub by hand"] = (Date.now() - t0) / 1000;
        const lost = await status();
        expect(lost.code).toBe(2);
        expect(lost.host.reboot_pending).toBe(false);
        expect(lost.host.drift).toEqual([
          {
            check: "grub_cfg",
            detail: expect.stringMatching(new RegExp(`^(\\d+) of \\1 Linux entries lack ${S1_WORDS}$`)),
          },
        ]);
      },
      30 * MINUTES,
    );

    it(
      "day two: rollback.yml with an isolated_cpus that contradicts the record: an error naming both values, not a byte changed",
      async () => {
        const state = (await vm.ssh(STATE)).stdout;
        const contradicted = await play(
          "rollback.yml",
          { isolated_cpus: "4" },
          false,
          "rollback.yml (contradicted)",
        );
        expect(contradicted.summary.exitCode).toBe(2);
        expect(failures(contradicted)).toEqual([
          expect.stringContaining(
            `isolated_cpus=4 contradicts the record /var/lib/tickless/applied.json: isolated_cpus=${S1} (nothing was changed)`,
          ),
        ]);
        expect(contradicted.results.filter((r) => r.status === "changed")).toEqual([]);
        expect((await vm.ssh(STATE)).stdout).toBe(state);
      },
      30 * MINUTES,
    );

    it(
      "day two: rollback.yml with no variables and no allow_reboot restores every part, the moved IRQ to its original, RPS left as the kernel keeps it; reboot pending in the recap, the task's result and status (exit 2)",
      async () => {
        const bootBefore = await vm.bootId();
        const back = await play("rollback.yml", {}, false, "rollback.yml (no reboot)");
        expect(failures(back)).toEqual([]);
        expect(back.summary.exitCode).toBe(0);
        expect(await vm.bootId()).toBe(bootBefore);
        const report = back.results.find((r) => r.task === "the rollback report")?.result.report as {
          part: string;
          status: string;
        }[];
        console.log(`[vm isolation] rollback report: ${JSON.stringify(report)}`);
        expect(report.find((l) => l.part === "sysctls, transparent hugepages and KSM")?.status).toBe(
          "restored",
        );
        // the save is never overwritten: the repair run did not take CPU 6 for the original
        expect((await vm.ssh(`cat /proc/irq/${moved.irq}/smp_affinity_list`)).stdout.trim()).toBe(
          moved.baseline,
        );
        // the steering mask was never tickless's to change: it stays as the kernel keeps it
        expect((await vm.ssh(`cat ${RPS}`)).stdout.trim()).toBe("3b");
        expect(back.summary.rebootPending).toEqual(["vm1"]);
        const recap = back.events.find((e) => e.type === "recap");
        expect(recap?.type === "recap" && recap.rebootPending).toEqual(["vm1"]);
        if (recap?.type === "recap")
          expect(recapBlock(recap.stats, recap.check, recap.rebootPending).join("\n")).toContain(
            "reboot pending on 1 host: vm1 (the new settings take effect at the next boot)",
          );
        const warning = back.results.find(
          (r) => r.task === "reboot pending (the running kernel against the record)",
        );
        expect(String(warning?.result.msg)).toBe(
          `WARNING: reboot pending: the running kernel still has ${S1_WORDS}. Reboot in a maintenance window (or allow_reboot=true).`,
        );
        expect(
          (await vm.ssh("test -e /var/lib/tickless/applied.json", { allowFailure: true })).code,
        ).not.toBe(0);

        const pending = await status();
        expect(pending.code).toBe(2);
        expect(pending.host).toMatchObject({ tuned: false, reboot_pending: true, drift: [] });
        expect(pending.host.remaining_params).toEqual(S1_WORDS.split(" "));
        expect(pending.line).toMatch(
          new RegExp(
            `^vm1 {2}not tuned \\(rolled back \\S+Z run [0-9a-f]{8} by \\S+\\) {2}REBOOT PENDING \\(running kernel still has ${S1_WORDS}\\)\\n$`,
          ),
        );
      },
      30 * MINUTES,
    );

    it(
      "rollback.yml -e allow_reboot=true with no CPU set boots the original command line: /etc/default/grub*, irqbalance's config, the drop-ins, every IRQ affinity, the sysctls, transparent hugepages, KSM and /etc/sysctl.d byte for byte; history keeps the applies and the rollback; status says not tuned",
      async () => {
        const bootBefore = await vm.bootId();
        const back = await play(
          "rollback.yml",
          { allow_reboot: true, reboot_timeout: 1800 },
          false,
          "rollback.yml (reboot)",
        );
        expect(failures(back)).toEqual([]);
        expect(back.summary.exitCode).toBe(0);
        expect(back.summary.rebootPending).toEqual([]);
        expect(String(back.results.find((r) => r.task === "what the record says")?.result.msg)).toMatch(
          new RegExp(
            `^no record at /var/lib/tickless/applied\\.json: rolled back by .* the running kernel still has ${S1_WORDS}: the reboot is pending$`,
          ),
        );
        expect(await vm.bootId()).not.toBe(bootBefore);
        const cmdline = (await vm.ssh("cat /proc/cmdline")).stdout;
        expect(cmdline).not.toMatch(
          /isolcpus|nohz_full|rcu_nocbs|irqaffinity|skew_tick|nosoftlockup|nowatchdog|transparent_hugepage/,
        );
        expect((await vm.ssh("cat /sys/devices/system/cpu/isolated")).stdout.trim()).toBe("");
        expect(diffLines(before, await snapshot())).toEqual([]);
        const history = (await vm.ssh("cat /var/lib/tickless/history.jsonl")).stdout
          .trimEnd()
          .split("\n")
          .map((l) => JSON.parse(l));
        const events = history.map((h) => h.event);
        console.log(`[vm isolation] history.jsonl events: ${events.join(", ")}`);
        expect(events[0]).toBe("applied");
        expect(events.at(-1)).toBe("rolled_back");
        expect(history.map((h) => h.isolated_cpus)).toEqual(events.map(() => S1));
        // the rollback's reboot done, nothing is pending: status names no rollback any more
        const done = await status();
        expect(done.code).toBe(0);
        expect(done.host).toMatchObject({ tuned: false, reboot_pending: false, drift: [] });
        expect(done.line).toBe("vm1  not tuned\n");
      },
      60 * MINUTES,
    );
  });

  describe("scenario 2: irqbalance running, CPU 4, with a reboot", () => {
    let before: string;

    it(
      "setup (the test's own): irqbalance enabled and started, settled; then the baseline",
      async () => {
        await vm.ssh("systemctl enable --now irqbalance.service");
        // Redis places its own threads (Debian's redis 7.0 reads these at start): the play sees
        // server_cpulist and lets Redis use both sets
        await vm.ssh(
          // Debian's unit filters sched_setaffinity (@resources): the operator's own drop-in gives it back
          `mkdir -p /etc/systemd/system/redis-server.service.d && printf '[Service]\\nSystemCallFilter=sched_setaffinity\\n' > /etc/systemd/system/redis-server.service.d/40-setaffinity.conf && systemctl daemon-reload && echo >> /etc/redis/redis.conf && printf '%s\\n' 'server_cpulist 4' 'bio_cpulist ${HOUSEKEEPING}' 'bgsave_cpulist ${HOUSEKEEPING}' 'aof_rewrite_cpulist ${HOUSEKEEPING}' >> /etc/redis/redis.conf && systemctl restart redis-server.service`,
        );
        await vm.ssh("seq 50 | sed 's/.*/SET key:& value-&/' | redis-cli -p 6379 >/dev/null");
        // irqbalance places the IRQs on its first passes (10 s interval): let it settle
        await vm.ssh("sleep 15");
        expect((await vm.ssh("systemctl is-active irqbalance.service")).stdout.trim()).toBe("active");
        before = await files();
      },
      10 * MINUTES,
    );

    it(
      "isolation.yml with irqbalance running reboots into isolcpus=4, bans CPU 4 from irqbalance, which stays active and keeps the NIC IRQs off CPU 4",
      async () => {
        const bootBefore = await vm.bootId();
        const real = await play("isolation.yml", { allow_reboot: true }, false, "isolation.yml (irqbalance)");
        expect(failures(real)).toEqual([]);
        expect(real.summary.exitCode).toBe(0);
        const reboot = real.results.find((r) => r.task === "reboot into the new kernel command line");
        expect(reboot?.result).toMatchObject({ rebooted: true, boot_id_before: bootBefore });
        phases["reboot (isolation.yml, irqbalance)"] = Number(reboot?.result.elapsed);
        expect(await vm.bootId()).not.toBe(bootBefore);
        expect((await vm.ssh("cat /proc/cmdline")).stdout.split(/\s+/)).toEqual(
          expect.arrayContaining(KERNEL_WORDS.split(" ")),
        );
        expect((await vm.ssh("cat /sys/devices/system/cpu/isolated")).stdout.trim()).toBe("4");
        const irq = real.results.find((r) => r.task.startsWith("NIC IRQs"));
        console.log(`[vm isolation] scenario 2 IRQ task: ${irq?.status} ${irq?.result.msg ?? ""}`);
        // the checks after the boot: the kernel's isolated set is the wanted one, nothing failed
        const checks = checksOf(real, "scenario 2");
        expect(checks.find((c) => c.name === "isolated")?.status).toBe("ok");
        expect(checks.filter((c) => c.status === "failed")).toEqual([]);
        expect((await vm.ssh("grep -x 'IRQBALANCE_BANNED_CPULIST=4' /etc/default/irqbalance")).code).toBe(0);
        // irqbalance came up with the boot and has had its first passes (10 s interval) when this
        // is read: the NIC IRQs it places are still off the isolated CPU
        expect((await vm.ssh("systemctl is-active irqbalance.service")).stdout.trim()).toBe("active");
        await vm.ssh("sleep 12");
        const nic = await nicIrqsOnCpu4();
        console.log(
          `[vm isolation] NIC IRQ affinities after the boot under irqbalance:\n${(await vm.ssh(IRQS)).stdout}`,
        );
        expect(nic.count).toBeGreaterThanOrEqual(2);
        expect(nic.onCpu4).toEqual([]);
        // nohz_full=4 took the unbound workqueues off CPU 4 at the boot, before the play's sysfs task
        // ran: the mask was already right, so tickless changed nothing there and saved no original
        expect((await vm.ssh(WORKQUEUE)).stdout).toMatch(/^ef\n/);
        const saved = JSON.parse((await vm.ssh("cat /var/lib/tickless/sysfs.json")).stdout);
        expect(saved.version).toBe(1);
        expect(Object.keys(saved.originals)).not.toContain("/sys/devices/virtual/workqueue/cpumask");
        expect((await vm.ssh("systemctl is-active irqbalance.service")).stdout.trim()).toBe("active");
        // server_cpulist seen: no warning, Redis allowed both sets, and the play's own per-thread check passed
        expect(real.results.find((r) => r.task.startsWith("Redis's bio threads and BGSAVE"))?.status).toBe(
          "skipped",
        );
        expect(
          (await vm.ssh("cat /etc/systemd/system/redis-server.service.d/50-tickless-cpuaffinity.conf"))
            .stdout,
        ).toContain(`CPUAffinity=4 ${HOUSEKEEPING}\n`);
        const placed = real.results.find((r) =>
          r.task.startsWith("Redis's main thread on the isolated CPUs"),
        );
        expect(placed?.status).toBe("ok");
        expect(String(placed?.result.msg)).toMatch(/^\d+ thread\(s\) of Redis \d+ where configured$/);
      },
      30 * MINUTES,
    );

    it(
      "per thread, from /proc/PID/task/*: Redis's main thread runs on CPU 4, its bio threads and a BGSAVE child on the housekeeping CPUs",
      async () => {
        const pid = (await vm.ssh("systemctl show -p MainPID --value redis-server.service")).stdout.trim();
        expect(pid).toMatch(/^[1-9]\d*$/);
        expect((await vm.ssh(`cat /proc/${pid}/cgroup`)).stdout).toContain("/hft.slice/");
        const main = await threadsOf(pid);
        console.log(
          `[vm isolation] Redis threads (tid comm allowed last-cpu):\n${main.map((t) => t.join(" ")).join("\n")}`,
        );
        expect(
          main.filter(([tid]) => tid === pid).map(([, comm, allowed, last]) => [comm, allowed, last]),
        ).toEqual([["redis-server", "4", "4"]]);
        const bio = main.filter(([, comm]) => comm.startsWith("bio_"));
        expect(bio.map(([, comm]) => comm).sort()).toEqual([
          "bio_aof_fsync",
          "bio_close_file",
          "bio_lazy_free",
        ]);
        for (const [, comm, allowed, last] of bio) {
          expect([comm, allowed]).toEqual([comm, HOUSEKEEPING]);
          expect(hasCpu(HOUSEKEEPING, Number(last))).toBe(true);
        }
        // a slow save (200 ms a key, 50 keys: 10 s) keeps the BGSAVE child alive while it is read
        await vm.ssh("redis-cli -p 6379 CONFIG SET rdb-key-save-delay 200000 >/dev/null");
        try {
          expect((await vm.ssh("redis-cli -p 6379 BGSAVE")).stdout.trim()).toBe("Background saving started");
          // one call, while the child lives: its pid, where it may run and ran, and its title
          const seen = (
            await vm.ssh(
              `for i in $(seq 50); do c=$(cat /proc/${pid}/task/*/children | tr -s " " "\\n" | head -n 1); [ -n "$c" ] && s=$(cat /proc/$c/status 2>/dev/null) && break; sleep 0.1; done; ` +
                `echo "$c|$(printf '%s\\n' "$s" | sed -n 's/^Cpus_allowed_list:[[:space:]]*//p')|$(sed 's/.*) //' /proc/$c/stat | cut -d' ' -f37)|$(tr '\\0' ' ' < /proc/$c/cmdline)"`,
            )
          ).stdout.trim();
          console.log(`[vm isolation] BGSAVE child (pid allowed last-cpu title): ${seen}`);
          const [child, allowed, last, title] = seen.split("|");
          expect(child).toMatch(/^[1-9]\d*$/);
          expect(allowed).toBe(HOUSEKEEPING);
          expect(hasCpu(HOUSEKEEPING, Number(last))).toBe(true);
          expect(title).toMatch(/^redis-rdb-bgsave/);
        } finally {
          await vm.ssh("redis-cli -p 6379 CONFIG SET rdb-key-save-delay 0 >/dev/null");
          for (let i = 0; i < 30; i++) {
            const info = (await vm.ssh("redis-cli -p 6379 INFO persistence")).stdout;
            if (/rdb_bgsave_in_progress:0/.test(info)) break;
            await vm.ssh("sleep 1");
          }
        }
      },
      10 * MINUTES,
    );

    it(
      "after irqbalance's 10 s interval a second run changes nothing; the NIC IRQs stay off CPU 4",
      async () => {
        // irqbalance (banned from CPU 4) narrows each NIC IRQ to housekeeping CPUs: within the list
        await vm.ssh("sleep 12");
        console.log(`[vm isolation] NIC IRQ affinities under irqbalance:\n${(await vm.ssh(IRQS)).stdout}`);
        const second = await play(
          "isolation.yml",
          { allow_reboot: false },
          false,
          "isolation.yml (irqbalance, second)",
        );
        expect(failures(second)).toEqual([]);
        expect(changedTasks(second)).toEqual([]);
        expect((await nicIrqsOnCpu4()).onCpu4).toEqual([]);
      },
      30 * MINUTES,
    );

    it(
      "rollback.yml (allow_reboot=false) restores irqbalance's config, the GRUB snippet state, the drop-ins and the tmpfiles snippet byte for byte, irqbalance running; the running kernel's nohz_full=4 keeps its workqueue mask until the pending reboot",
      async () => {
        const back = await play("rollback.yml", { allow_reboot: false }, false, "rollback.yml (irqbalance)");
        expect(failures(back)).toEqual([]);
        expect(back.summary.exitCode).toBe(0);
        // tickless did not write the mask (the boot did): the next boot, without nohz_full=4, gives ff back
        expect(diffLines(before, await files())).toEqual([
          "- workqueue cpumask ff",
          "+ workqueue cpumask ef",
        ]);
        const warning = back.results.find(
          (r) => r.task === "reboot pending (the running kernel against the record)",
        );
        expect(String(warning?.result.msg)).toBe(
          `WARNING: reboot pending: the running kernel still has ${KERNEL_WORDS}. Reboot in a maintenance window (or allow_reboot=true).`,
        );
        expect((await vm.ssh("systemctl is-active irqbalance.service")).stdout.trim()).toBe("active");
        // The IRQ affinities are irqbalance's again, and not compared byte for byte: rollback writes
        // back what irqbalance had chosen before, then restarts it, and irqbalance re-places the IRQs
        // by load as it sees fit (its placement is not deterministic). The saves are consumed.
        expect(
          (await vm.ssh("test -e /var/lib/tickless/irq-affinity.json", { allowFailure: true })).code,
        ).not.toBe(0);
        expect((await vm.ssh("test -e /var/lib/tickless/sysfs.json", { allowFailure: true })).code).not.toBe(
          0,
        );
      },
      30 * MINUTES,
    );
  });
});

/** Every housekeeping CPU of the 8-CPU guest when CPU 4 is isolated. */
const HOUSEKEEPING = "0-3,5-7";

/** Whether a kernel CPU list ("0-3,5-7") contains `cpu`. */
function hasCpu(list: string, cpu: number): boolean {
  return list
    .split(",")
    .filter(Boolean)
    .some((r) => {
      const m = /^(\d+)(?:-(\d+))?$/.exec(r.trim());
      return m !== null && Number(m[1]) <= cpu && cpu <= Number(m[2] ?? m[1]);
    });
}

/** Lines only in one of the two snapshots, marked - (before) and + (after). */
function diffLines(a: string, b: string): string[] {
  const left = new Set(a.split("\n"));
  const right = new Set(b.split("\n"));
  return [
    ...[...left].filter((l) => !right.has(l)).map((l) => `- ${l}`),
    ...[...right].filter((l) => !left.has(l)).map((l) => `+ ${l}`),
  ];
}
