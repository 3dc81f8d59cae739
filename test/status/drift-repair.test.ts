/**
 * Day two on a lab host of its own (real sshd, fixture /proc/irq and sys_root, no systemd, no
 * boot loader: grub.cfg from the grub-mkconfig fixture): isolation.yml, a "reboot" (a command line
 * carrying the parameters bound over the host's /proc/cmdline, inside its mount namespace), drifts
 * planted by hand, `tickless status` naming each over SSH (exit 2), isolation.yml rerun with the
 * record's CPU sets, and status clean again (exit 0); then rollback.yml without allow_reboot: status
 * says the reboot is pending (exit 2) until the "reboot", then "not tuned".
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { cli } from "../cli/helpers.js";
import { run } from "../e2e/helpers.js";
import { type Lab, SSHD, startLab } from "../lab/lab.js";
import { isolateHome, labSettings } from "../lab/use-lab.js";

const ROOT = join(import.meta.dirname, "../..");
const FIXTURE = join(import.meta.dirname, "../isolation/fixtures/grub-mkconfig.sh");
const HOST_FIXTURE = "/opt/tickless-test/grub-mkconfig.sh";
/** The host's sys_root: this machine's real /sys must never be written. */
const HOST_SYS = "/opt/tickless-test/sys";
const WORKQUEUE_MASK = `${HOST_SYS}/devices/virtual/workqueue/cpumask`;
const DROPIN = "/etc/systemd/system/redis-server.service.d/50-tickless-cpuaffinity.conf";
/** A stand-in irqbalance (a process of that name; the real daemon would move this machine's IRQs). */
const STAND_IN = "/opt/tickless-test/irqbalance";

const vars = {
  require_systemd: false,
  validate_window: 1,
  housekeeping_cpus: "0-3,5-7",
  nic_irq_pattern: "^(eth0-TxRx-\\d+|nvme0q0)$",
  grub_mkconfig_command: `sh ${HOST_FIXTURE} -o /boot/grub/grub.cfg`,
  sys_root: HOST_SYS,
  // the sysctls live in this machine's kernel (the lab hosts share it): the playbook tests cover them on a fixture
  isolation_sysctls: [],
};

const hasSshd = await readFile(SSHD).then(
  () => true,
  () => false,
);

describe.skipIf(!hasSshd)("drift and its repair on a tuned lab host", () => {
  let lab: Lab;
  let conn: Connection;
  let home: Awaited<ReturnType<typeof isolateHome>>;
  let results: string;
  let standIn = "";
  const sh = async (cmd: string) => {
    const r = await conn.run(cmd);
    expect(r.rc, `${cmd}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const isolation = (extra: Record<string, unknown> = {}) =>
    run({
      playbook: join(ROOT, "playbooks/isolation.yml"),
      inventory: lab.inventoryFile,
      extraVars: { ...vars, results_dir: results, ...extra },
    });
  const status = async () => {
    const r = await cli(["status", "-i", lab.inventoryFile, "--json"]);
    expect(r.stderr).toBe("");
    return {
      code: r.code,
      host: JSON.parse(r.stdout).hosts[0],
      line: (await cli(["status", "-i", lab.inventoryFile])).stdout,
    };
  };

  beforeAll(async () => {
    home = await isolateHome();
    results = join(home.home, "results");
    lab = await startLab(1, { names: ["day2"] });
    conn = await openSsh(labSettings(lab, lab.hosts[0]));
    await sh(
      `mkdir -p /opt/tickless-test ${HOST_SYS}/devices/virtual/workqueue && echo ff > ${WORKQUEUE_MASK} && mkdir -p ${HOST_SYS}/devices/system/cpu && echo 0-7 > ${HOST_SYS}/devices/system/cpu/online && for n in 0 1 2 3 4 5 6 7; do mkdir -p ${HOST_SYS}/devices/system/cpu/cpu$n/topology && echo $n > ${HOST_SYS}/devices/system/cpu/cpu$n/topology/thread_siblings_list; done`,
    );
    await conn.writeFile(HOST_FIXTURE, await readFile(FIXTURE), { mode: "0755" });
  });
  afterAll(async () => {
    if (standIn) await conn?.run(`kill ${standIn}; rm -f ${STAND_IN}`).catch(() => undefined);
    await conn?.close();
    await lab?.stop();
    await home?.release();
  });

  test("status names an IRQ moved onto the isolated CPU, a deleted drop-in, irqbalance's changed ban and the workqueue mask (exit 2); isolation.yml rerun from the record's settings makes it clean (exit 0); rollback.yml without allow_reboot leaves status saying reboot pending (exit 2) until the reboot, then not tuned", async () => {
    // the host's own boot line, before tickless: a fixture, as what a "reboot" brings back must be
    // what the host's GRUB gives (this machine's own line is another kernel's, e.g. with nowatchdog)
    const original = "BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=/dev/vda1 ro quiet";
    await conn.writeFile("/opt/tickless-test/cmdline-original", `${original}\n`);
    await sh("mount --bind /opt/tickless-test/cmdline-original /proc/cmdline");
    const first = await isolation();
    expect(first.summary.exitCode).toBe(0);
    const pending = await status();
    expect(pending.code).toBe(2);
    expect(pending.host).toMatchObject({ tuned: true, reboot_pending: true, drift: [] });

    // the reboot: the running command line carries what grub.cfg gives, the kernel isolates CPU 4
    const booted =
      "isolcpus=managed_irq,domain,4 nohz_full=4 rcu_nocbs=4 irqaffinity=0-3,5-7 skew_tick=1 nosoftlockup nowatchdog transparent_hugepage=never";
    await conn.writeFile("/opt/tickless-test/cmdline", `${original} ${booted}\n`);
    await sh(
      `mount --bind /opt/tickless-test/cmdline /proc/cmdline && echo 4 > ${HOST_SYS}/devices/system/cpu/isolated && echo 4 > ${HOST_SYS}/devices/system/cpu/nohz_full`,
    );
    const clean = await status();
    expect(clean.code).toBe(0);
    expect(clean.host).toMatchObject({ tuned: true, reboot_pending: false, drift: [] });
    expect(clean.line).toMatch(
      /^day2 {2}tuned isolated=4 housekeeping=0-3,5-7 {2}applied \S+ run \S+ by \S+ {2}in sync\n$/,
    );
    const record = JSON.parse(await sh("cat /var/lib/tickless/applied.json"));

    // drift, by hand: an IRQ back on CPU 4, the Redis drop-in gone, irqbalance (running) banned from
    // CPU 5 instead, the unbound workqueues on every CPU
    await sh(
      `cp /bin/sleep ${STAND_IN} && { ${STAND_IN} 600 </dev/null >/dev/null 2>&1 & } ; i=0; while ! pidof irqbalance >/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done`,
    );
    const pid = (await sh("pidof irqbalance")).trim();
    standIn = pid;
    await sh(
      `echo 4 > /proc/irq/25/smp_affinity_list && rm ${DROPIN} && sed -i 's/^IRQBALANCE_BANNED_CPULIST=.*/IRQBALANCE_BANNED_CPULIST=5/' /etc/default/irqbalance && echo ff > ${WORKQUEUE_MASK}`,
    );
    const drifted = await status();
    expect(drifted.code).toBe(2);
    expect(drifted.host.reboot_pending).toBe(false);
    expect(drifted.host.drift).toEqual([
      { check: "irq", detail: "IRQ 25 (eth0-TxRx-1) on CPU 4" },
      {
        check: "irqbalance",
        detail: `/etc/default/irqbalance: IRQBALANCE_BANNED_CPULIST=5 does not ban CPU 4; irqbalance runs (pid ${pid})`,
      },
      { check: "workqueue", detail: `${WORKQUEUE_MASK} is ff (CPUs 0-7), the record says 0-3,5-7` },
      { check: "units", detail: `${DROPIN} (missing)` },
    ]);
    expect(drifted.line).toMatch(
      /^day2 .* {2}DRIFT: irq \(IRQ 25 .*; irqbalance \(.*; workqueue \(.*; units \(.*\(missing\)\)\n$/,
    );

    // the repair: isolation.yml with the record's CPU sets
    const again = await isolation({
      isolated_cpus: record.settings.isolated_cpus,
      housekeeping_cpus: record.settings.housekeeping_cpus,
    });
    expect(
      again.results.filter((r) => r.status === "failed").map((r) => `${r.task}: ${r.result.msg}`),
    ).toEqual([]);
    expect(again.summary.exitCode).toBe(0);
    const repaired = await status();
    expect(repaired.code).toBe(0);
    expect(repaired.host.drift).toEqual([]);
    // the same files as recorded, so the record (and its run) stays as the first apply wrote it
    expect(JSON.parse(await sh("cat /var/lib/tickless/applied.json"))).toEqual(record);
    expect(await sh(`cat /proc/irq/25/smp_affinity_list ${WORKQUEUE_MASK}`)).toBe("0-3,5-7\nef\n");

    // rollback.yml without allow_reboot: the record goes, the running kernel keeps the parameters,
    // and status says so from history.jsonl's last line (exit 2) until the "reboot"
    const back = await run({
      playbook: join(ROOT, "playbooks/rollback.yml"),
      inventory: lab.inventoryFile,
      extraVars: { ...vars, results_dir: results },
    });
    expect(back.summary.exitCode).toBe(0);
    expect(back.summary.rebootPending).toEqual(["day2"]);
    const rolledBack = await status();
    expect(rolledBack.code).toBe(2);
    expect(rolledBack.host).toMatchObject({
      tuned: false,
      reboot_pending: true,
      remaining_params: [
        "isolcpus=managed_irq,domain,4",
        "nohz_full=4",
        "rcu_nocbs=4",
        "irqaffinity=0-3,5-7",
        "skew_tick=1",
        "nosoftlockup",
        "nowatchdog",
        "transparent_hugepage=never",
      ],
      drift: [],
    });
    expect(rolledBack.line).toMatch(
      /^day2 {2}not tuned \(rolled back \S+Z run [0-9a-f]{8} by \S+\) {2}REBOOT PENDING \(running kernel still has isolcpus=managed_irq,domain,4 nohz_full=4 rcu_nocbs=4 irqaffinity=0-3,5-7 skew_tick=1 nosoftlockup nowatchdog transparent_hugepage=never\)\n$/,
    );
    // the reboot into the restored line: the original boot line again
    await sh("umount /proc/cmdline");
    expect((await sh("cat /proc/cmdline")).trim()).toBe(original);
    const rebooted = await status();
    expect([rebooted.code, rebooted.line]).toEqual([0, "day2  not tuned\n"]);
  }, 180_000);
});
