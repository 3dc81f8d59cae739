/**
 * A lab host of its own for day-two tests (real sshd, fixture /proc/irq and sys_root, no systemd,
 * no boot loader: grub.cfg from the grub-mkconfig fixture): an 8-CPU sys_root (online CPUs, their
 * topology, the unbound workqueues' mask), the fixture installed, and the host's own boot line bound
 * over its /proc/cmdline. isolation.yml runs on it with the vars below; `boot()` is the "reboot".
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { cli } from "../cli/helpers.js";
import { type Run, run } from "../e2e/helpers.js";
import { type Lab, SSHD, startLab } from "../lab/lab.js";
import { isolateHome, labSettings } from "../lab/use-lab.js";

export const ROOT = join(import.meta.dirname, "../..");
const FIXTURE = join(import.meta.dirname, "../isolation/fixtures/grub-mkconfig.sh");
const HOST_FIXTURE = "/opt/tickless-test/grub-mkconfig.sh";
/** The host's sys_root: this machine's real /sys must never be written. */
export const HOST_SYS = "/opt/tickless-test/sys";
export const WORKQUEUE_MASK = `${HOST_SYS}/devices/virtual/workqueue/cpumask`;
/**
 * The host's own boot line, before tickless: a fixture, as what a "reboot" after rollback brings back
 * must be what the host's GRUB gives (this machine's own line is another kernel's).
 */
export const ORIGINAL = "BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=/dev/vda1 ro quiet";
/** What grub.cfg gives after isolation.yml: the kernel then isolates CPU 4. */
export const BOOTED =
  "isolcpus=managed_irq,domain,4 nohz_full=4 rcu_nocbs=4 irqaffinity=0-3,5-7 skew_tick=1 nosoftlockup nowatchdog transparent_hugepage=never";

export const vars = {
  require_systemd: false,
  validate_window: 1,
  housekeeping_cpus: "0-3,5-7",
  nic_irq_pattern: "^(eth0-TxRx-\\d+|nvme0q0)$",
  grub_mkconfig_command: `sh ${HOST_FIXTURE} -o /boot/grub/grub.cfg`,
  sys_root: HOST_SYS,
  // the sysctls live in this machine's kernel (the lab hosts share it): the playbook tests cover them on a fixture
  isolation_sysctls: [],
};

export const hasSshd = await readFile(SSHD).then(
  () => true,
  () => false,
);

/** Starts a one-host lab named `name`, prepared as the header says. */
export async function startDayTwoHost(name: string) {
  const home = await isolateHome();
  let lab: Lab | undefined;
  let conn: Connection | undefined;
  const stop = async () => {
    await conn?.close();
    await lab?.stop();
    await home.release();
  };
  try {
    lab = await startLab(1, { names: [name] });
    conn = await openSsh(labSettings(lab, lab.hosts[0]));
    const host = hostOf(lab, conn, join(home.home, "results"), stop);
    const cpu = `${HOST_SYS}/devices/system/cpu`;
    await host.sh(
      `mkdir -p ${HOST_SYS}/devices/virtual/workqueue ${cpu} && echo ff > ${WORKQUEUE_MASK} && echo 0-7 > ${cpu}/online && for n in 0 1 2 3 4 5 6 7; do mkdir -p ${cpu}/cpu$n/topology && echo $n > ${cpu}/cpu$n/topology/thread_siblings_list; done`,
    );
    await conn.writeFile(HOST_FIXTURE, await readFile(FIXTURE), { mode: "0755" });
    await conn.writeFile("/opt/tickless-test/cmdline-original", `${ORIGINAL}\n`);
    await host.sh("mount --bind /opt/tickless-test/cmdline-original /proc/cmdline");
    return host;
  } catch (e) {
    await stop();
    throw e;
  }
}

export type DayTwoHost = ReturnType<typeof hostOf>;

function hostOf(lab: Lab, conn: Connection, results: string, stop: () => Promise<void>) {
  /** Runs a command on the host; expects exit 0 and returns stdout. */
  const sh = async (cmd: string) => {
    const r = await conn.run(cmd);
    expect(r.rc, `${cmd}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  return {
    lab,
    conn,
    /** Where the playbooks write their results (in the isolated HOME). */
    results,
    sh,
    stop,
    /** isolation.yml with `vars`, the results dir and `extra`; expects no failed task and exit 0. */
    async isolation(extra: Record<string, unknown> = {}): Promise<Run> {
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
    },
    /** `tickless status --json` (its one host and exit code) and the plain line. */
    async status() {
      const r = await cli(["status", "-i", lab.inventoryFile, "--json"]);
      expect(r.stderr).toBe("");
      return {
        code: r.code,
        host: JSON.parse(r.stdout).hosts[0],
        line: (await cli(["status", "-i", lab.inventoryFile])).stdout,
      };
    },
    /** The "reboot": the running command line carries what grub.cfg gives, the kernel isolates CPU 4. */
    async boot() {
      await conn.writeFile("/opt/tickless-test/cmdline", `${ORIGINAL} ${BOOTED}\n`);
      await sh(
        `mount --bind /opt/tickless-test/cmdline /proc/cmdline && echo 4 > ${HOST_SYS}/devices/system/cpu/isolated && echo 4 > ${HOST_SYS}/devices/system/cpu/nohz_full`,
      );
    },
  };
}
