/**
 * Day two on a lab host of its own (real sshd, fixture /proc/irq and sys_root, no systemd, no
 * boot loader: grub.cfg from the grub-mkconfig fixture): isolation.yml, a "reboot" (a command line
 * carrying the parameters bound over the host's /proc/cmdline, inside its mount namespace), drifts
 * planted by hand, `tickless status` naming each over SSH (exit 2), isolation.yml rerun with the
 * record's CPU sets, and status clean again (exit 0); then rollback.yml without allow_reboot: status
 * says the reboot is pending (exit 2) until the "reboot", then "not tuned".
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../e2e/helpers.js";
import {
  type DayTwoHost,
  hasSshd,
  ORIGINAL,
  ROOT,
  startDayTwoHost,
  vars,
  WORKQUEUE_MASK,
} from "./day-two-host.js";

const DROPIN = "/etc/systemd/system/redis-server.service.d/50-tickless-cpuaffinity.conf";
/** A stand-in irqbalance (a process of that name; the real daemon would move this machine's IRQs). */
const STAND_IN = "/opt/tickless-test/irqbalance";

describe.skipIf(!hasSshd)("drift and its repair on a tuned lab host", () => {
  let host: DayTwoHost;
  let standIn = "";
  const sh = (cmd: string) => host.sh(cmd);

  beforeAll(async () => {
    host = await startDayTwoHost("day2");
  });
  afterAll(async () => {
    if (standIn) await host?.conn.run(`kill ${standIn}; rm -f ${STAND_IN}`).catch(() => undefined);
    await host?.stop();
  });

  test("status names an IRQ moved onto the isolated CPU, a deleted drop-in, irqbalance's changed ban and the workqueue mask (exit 2); isolation.yml rerun from the record's settings makes it clean (exit 0); rollback.yml without allow_reboot leaves status saying reboot pending (exit 2) until the reboot, then not tuned", async () => {
    await host.isolation();
    const pending = await host.status();
    expect(pending.code).toBe(2);
    expect(pending.host).toMatchObject({ tuned: true, reboot_pending: true, drift: [] });

    await host.boot();
    const clean = await host.status();
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
    const drifted = await host.status();
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
    await host.isolation({
      isolated_cpus: record.settings.isolated_cpus,
      housekeeping_cpus: record.settings.housekeeping_cpus,
    });
    const repaired = await host.status();
    expect(repaired.code).toBe(0);
    expect(repaired.host.drift).toEqual([]);
    // the same files as recorded, so the record (and its run) stays as the first apply wrote it
    expect(JSON.parse(await sh("cat /var/lib/tickless/applied.json"))).toEqual(record);
    expect(await sh(`cat /proc/irq/25/smp_affinity_list ${WORKQUEUE_MASK}`)).toBe("0-3,5-7\nef\n");

    // rollback.yml without allow_reboot: the record goes, the running kernel keeps the parameters,
    // and status says so from history.jsonl's last line (exit 2) until the "reboot"
    const back = await run({
      playbook: join(ROOT, "playbooks/rollback.yml"),
      inventory: host.lab.inventoryFile,
      extraVars: { ...vars, results_dir: host.results },
    });
    expect(back.summary.exitCode).toBe(0);
    expect(back.summary.rebootPending).toEqual(["day2"]);
    const rolledBack = await host.status();
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
    expect((await sh("cat /proc/cmdline")).trim()).toBe(ORIGINAL);
    const rebooted = await host.status();
    expect([rebooted.code, rebooted.line]).toEqual([0, "day2  not tuned\n"]);
  }, 180_000);
});
