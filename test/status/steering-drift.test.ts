/**
 * Packet steering on day two, on a lab host of its own (real sshd, fixture /proc/irq and sys_root
 * with a NIC's queues, no systemd, no boot loader: grub.cfg from the grub-mkconfig fixture):
 * isolation.yml takes the isolated CPU out of every queue's rps_cpus and xps_cpus, a mask set by
 * hand to ff afterwards (a NIC tuning guide's "RPS on every CPU") is `steering` drift naming the
 * queue (exit 2), isolation.yml repairs it and status is clean again (exit 0); a play told to leave
 * the masks (`steering_off_isolated=false`) records so, and status does not judge them.
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
const NET = `${HOST_SYS}/class/net`;
const QUEUES = `${NET}/eth0/queues`;
const ORIGINAL = "BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=/dev/vda1 ro quiet";
const BOOTED =
  "isolcpus=managed_irq,domain,4 nohz_full=4 rcu_nocbs=4 irqaffinity=0-3,5-7 skew_tick=1 nosoftlockup nowatchdog transparent_hugepage=never";

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

describe.skipIf(!hasSshd)("packet steering drift and its repair on a tuned lab host", () => {
  let lab: Lab;
  let conn: Connection;
  let home: Awaited<ReturnType<typeof isolateHome>>;
  let results: string;
  const sh = async (cmd: string) => {
    const r = await conn.run(cmd);
    expect(r.rc, `${cmd}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const isolation = async (extra: Record<string, unknown> = {}) => {
    const r = await run({
      playbook: join(ROOT, "playbooks/isolation.yml"),
      inventory: lab.inventoryFile,
      extraVars: { ...vars, results_dir: results, ...extra },
    });
    expect(r.results.filter((x) => x.status === "failed").map((x) => `${x.task}: ${x.result.msg}`)).toEqual(
      [],
    );
    expect(r.summary.exitCode).toBe(0);
    return r;
  };
  const status = async () => {
    const r = await cli(["status", "-i", lab.inventoryFile, "--json"]);
    expect(r.stderr).toBe("");
    return {
      code: r.code,
      host: JSON.parse(r.stdout).hosts[0],
      line: (await cli(["status", "-i", lab.inventoryFile])).stdout,
    };
  };
  const masks = () =>
    sh(`cat ${QUEUES}/rx-0/rps_cpus ${QUEUES}/rx-1/rps_cpus ${QUEUES}/tx-0/xps_cpus ${QUEUES}/tx-1/xps_cpus`);

  beforeAll(async () => {
    home = await isolateHome();
    results = join(home.home, "results");
    lab = await startLab(1, { names: ["steer"] });
    conn = await openSsh(labSettings(lab, lab.hosts[0]));
    await sh(
      `mkdir -p /opt/tickless-test ${HOST_SYS}/devices/virtual/workqueue && echo ff > ${HOST_SYS}/devices/virtual/workqueue/cpumask && mkdir -p ${HOST_SYS}/devices/system/cpu && echo 0-7 > ${HOST_SYS}/devices/system/cpu/online && for n in 0 1 2 3 4 5 6 7; do mkdir -p ${HOST_SYS}/devices/system/cpu/cpu$n/topology && echo $n > ${HOST_SYS}/devices/system/cpu/cpu$n/topology/thread_siblings_list; done`,
    );
    // eth0 with two queue pairs (RPS off on rx-0, on CPUs 4-7 on rx-1; XPS one CPU pair a queue),
    // lo with one: its xps_cpus reads ENOENT (a dangling link here), as the kernel's does
    await sh(
      [
        `mkdir -p ${QUEUES}/rx-0 ${QUEUES}/rx-1 ${QUEUES}/tx-0 ${QUEUES}/tx-1 ${NET}/lo/queues/rx-0 ${NET}/lo/queues/tx-0`,
        `echo 00 > ${QUEUES}/rx-0/rps_cpus && echo f0 > ${QUEUES}/rx-1/rps_cpus`,
        `echo 11 > ${QUEUES}/tx-0/xps_cpus && echo 22 > ${QUEUES}/tx-1/xps_cpus`,
        `echo 00 > ${NET}/lo/queues/rx-0/rps_cpus && ln -s /nonexistent/xps_cpus ${NET}/lo/queues/tx-0/xps_cpus`,
      ].join(" && "),
    );
    await conn.writeFile(HOST_FIXTURE, await readFile(FIXTURE), { mode: "0755" });
    await conn.writeFile("/opt/tickless-test/cmdline-original", `${ORIGINAL}\n`);
    await sh("mount --bind /opt/tickless-test/cmdline-original /proc/cmdline");
  });
  afterAll(async () => {
    await conn?.close();
    await lab?.stop();
    await home?.release();
  });

  test("a queue mask set to ff by hand after the play is steering drift naming the queue and the isolated CPU (exit 2); isolation.yml takes it out again (exit 0); with steering_off_isolated=false the record says so and the masks are not judged", async () => {
    await isolation();
    expect(await masks()).toBe("00\ne0\n01\n22\n");
    // the "reboot": the running command line carries what grub.cfg gives, the kernel isolates CPU 4
    await conn.writeFile("/opt/tickless-test/cmdline", `${ORIGINAL} ${BOOTED}\n`);
    await sh(
      `mount --bind /opt/tickless-test/cmdline /proc/cmdline && echo 4 > ${HOST_SYS}/devices/system/cpu/isolated && echo 4 > ${HOST_SYS}/devices/system/cpu/nohz_full`,
    );
    const clean = await status();
    expect([clean.code, clean.host.drift]).toEqual([0, []]);
    const record = JSON.parse(await sh("cat /var/lib/tickless/applied.json"));
    expect(record.settings.steering).toEqual({ off_isolated: true, net_path: NET });

    // RPS on every CPU for rx-0, and tx-1 sending from CPU 4 too
    await sh(`echo ff > ${QUEUES}/rx-0/rps_cpus && echo 32 > ${QUEUES}/tx-1/xps_cpus`);
    const drifted = await status();
    expect(drifted.code).toBe(2);
    expect(drifted.host.reboot_pending).toBe(false);
    expect(drifted.host.drift).toEqual([
      { check: "steering", detail: "eth0 rx-0 rps_cpus ff (CPU 4), eth0 tx-1 xps_cpus 32 (CPU 4)" },
    ]);
    expect(drifted.line).toMatch(
      /^steer .* {2}DRIFT: steering \(eth0 rx-0 rps_cpus ff \(CPU 4\), eth0 tx-1 xps_cpus 32 \(CPU 4\)\)\n$/,
    );

    // the repair: isolation.yml with the record's CPU sets
    await isolation({
      isolated_cpus: record.settings.isolated_cpus,
      housekeeping_cpus: record.settings.housekeeping_cpus,
    });
    expect(await masks()).toBe("ef\ne0\n01\n22\n");
    const repaired = await status();
    expect([repaired.code, repaired.host.drift]).toEqual([0, []]);

    // a play told to leave the masks: recorded, and a mask on CPU 4 is then no drift
    await sh(`echo ff > ${QUEUES}/rx-0/rps_cpus`);
    await isolation({ steering_off_isolated: false });
    expect(await masks()).toBe("ff\ne0\n01\n22\n");
    expect(JSON.parse(await sh("cat /var/lib/tickless/applied.json")).settings.steering).toEqual({
      off_isolated: false,
      net_path: NET,
    });
    const left = await status();
    expect([left.code, left.host.drift]).toEqual([0, []]);
  }, 240_000);
});
