/**
 * kernel_cmdline's grubby trial boot through the engine and SSH, on a lab host of its own: the
 * grubby, grub2-reboot and reboot fixtures (test/isolation/fixtures) are installed on the host, the
 * host's /proc/cmdline and boot id are fixture files (proc_root). The reboot is the fixture's, and
 * the engine reconnects over SSH to read the new boot id, as after a real reboot. Check mode
 * predicts the run, a passing trial changes every entry, a second run changes nothing, restored
 * gives back every entry and /etc/default/grub byte for byte; a line that does not boot fails the
 * host with every entry as it was.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { run } from "../e2e/helpers.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, labSettings } from "../lab/use-lab.js";

const FIXTURES = join(import.meta.dirname, "fixtures");
const T = "/opt/tickless-test";
const VERSION = "5.14.0-362.8.1.el9_3.x86_64";
const MACHINE = "a98618aa1631441dbb52c75a50834a0a";
const BASE =
  "ro crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M resume=/dev/mapper/rl-swap rd.lvm.lv=rl/root rhgb quiet";
const RUNNING = `BOOT_IMAGE=(hd0,gpt2)/vmlinuz-${VERSION} root=/dev/mapper/rl-root ${BASE}`;
const ENV = `GRUBBY_FIXTURE_DIR=${T}/grubby GRUBBY_FIXTURE_ETC_DEFAULT=/etc/default/grub GRUB2_FIXTURE_ENV=${T}/grubenv PROC_FIXTURE=${T}/proc`;
const TASK = "kernel command line through grubby, with a trial boot";

const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: ${TASK}
      kernel_cmdline:
        params: "{{ params }}"
        state: "{{ state }}"
        method: grubby
        grubby_command: ${ENV} sh ${T}/grubby.sh
        grub_reboot_command: ${ENV} sh ${T}/grub2-reboot.sh
        reboot_command: ${ENV} sh ${T}/bls-boot.sh
        grub_default: /etc/default/grub
        proc_root: ${T}/proc
        trial_boot: true
        reboot_timeout: 60
      register: cmdline
`;

describe("grubby trial boot on a lab host", () => {
  let lab: Lab;
  let conn: Connection;
  let home: Awaited<ReturnType<typeof isolateHome>>;
  let dir: string;
  const sh = async (cmd: string) => {
    const r = await conn.run(cmd);
    expect(r.rc, `${cmd}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const play = (check: boolean, extra: Record<string, unknown> = {}) =>
    run({
      playbook: join(dir, "play.yml"),
      inventory: lab.inventoryFile,
      extraVars: { params: { isolcpus: 4, nohz_full: 4, rcu_nocbs: 4 }, state: "present", ...extra },
      check,
      diff: true,
    });
  const task = (r: Awaited<ReturnType<typeof play>>) => r.results.find((x) => x.task === TASK);
  /** Every entry, /etc/default/grub, grubenv and the state file, byte for byte. */
  const tree = () =>
    sh(
      `cd ${T}/grubby/entries && for f in $(ls | sort -n); do echo "== $f"; cat "$f"; done; echo "== grub"; cat /etc/default/grub; echo "== env"; cat ${T}/grubenv; echo; echo "== save"; cat /var/lib/tickless/kernel-cmdline.json 2>/dev/null || echo none`,
    );

  beforeAll(async () => {
    lab = await startLab(1, { names: ["rhel1"] });
    home = await isolateHome();
    dir = await mkdtemp(join(tmpdir(), "tickless-grubby-lab-"));
    await writeFile(join(dir, "play.yml"), PLAYBOOK);
    conn = await openSsh(labSettings(lab, lab.hosts[0]));
    await sh(`mkdir -p ${T}`);
    for (const f of ["grubby.sh", "grub2-reboot.sh", "bls-boot.sh", "grubenv.sh"])
      await conn.writeFile(`${T}/${f}`, await readFile(join(FIXTURES, f)), { mode: "0755" });
  });
  afterAll(async () => {
    await conn?.close();
    await lab?.stop();
    await home?.release();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    // a Rocky Linux 9 host booted from its one kernel entry (saved_entry names it, as grubby --set-default does)
    await sh(
      `rm -rf ${T}/grubby ${T}/proc ${T}/grubenv /var/lib/tickless && mkdir -p ${T}/grubby/entries ${T}/grubby/boot ${T}/proc/sys/kernel/random && echo ${MACHINE} > ${T}/grubby/machine-id && touch ${T}/grubby/boot/vmlinuz-${VERSION} && printf '%s\\n' 'kernel="/boot/vmlinuz-${VERSION}"' 'args="${BASE}"' 'root="/dev/mapper/rl-root"' 'initrd="/boot/initramfs-${VERSION}.img"' 'title="Rocky Linux (${VERSION}) 9.3 (Blue Onyx)"' 'id="${MACHINE}-${VERSION}"' > ${T}/grubby/entries/0.info && echo '${RUNNING}' > ${T}/proc/cmdline && echo boot-a > ${T}/proc/sys/kernel/random/boot_id && printf '%s\\n' GRUB_TIMEOUT=5 GRUB_DEFAULT=saved 'GRUB_CMDLINE_LINUX="${BASE.slice(3)}"' GRUB_ENABLE_BLSCFG=true > /etc/default/grub && . ${T}/grubenv.sh && grubenv_set ${T}/grubenv saved_entry ${MACHINE}-${VERSION}`,
    );
  });

  test("check mode predicts the trial; the run boots it, reconnects, changes every entry; a second run changes nothing; restored gives back every byte", async () => {
    const before = await tree();
    const check = await play(true);
    expect(check.summary.exitCode).toBe(0);
    const planned = task(check);
    expect(planned?.status).toBe("changed");
    expect((planned?.result.changes ?? []).map((c) => c.target)).toEqual([
      "tickless-trial:entry",
      "tickless-trial:boot",
      "/var/lib/tickless/kernel-cmdline.json",
      "grubby:ALL",
      "/etc/default/grub",
    ]);
    expect(planned?.result.trial_boot).toBe("planned");
    expect(await tree()).toBe(before);

    const real = await play(false);
    expect(real.summary.exitCode).toBe(0);
    const done = task(real);
    expect(done?.result.changes).toEqual(planned?.result.changes);
    expect(done?.result).toMatchObject({
      trial_boot: "passed",
      trial_entry: `${MACHINE}-${VERSION}.0~custom`,
    });
    expect(done?.result.reboot_required).toBe(false);
    expect((await sh(`cat ${T}/proc/cmdline`)).trim()).toBe(`${RUNNING} isolcpus=4 nohz_full=4 rcu_nocbs=4`);
    expect(await sh(`cat ${T}/grubby/entries/*.info | grep '^args='`)).toBe(
      `args="${BASE} isolcpus=4 nohz_full=4 rcu_nocbs=4"\n`,
    );

    const second = await play(false);
    expect(task(second)?.status).toBe("ok");

    const back = await play(false, { state: "restored" });
    expect(back.summary.exitCode).toBe(0);
    // grubenv too: next_entry was used once and cleared, saved_entry never touched
    expect(await tree()).toBe(before);
  }, 120_000);

  test("a line that does not boot: the host fails, back on its previous entry, every entry and /etc/default/grub as they were", async () => {
    const before = await tree();
    const bad = await play(false, { params: { isolcpus: 4, panic: 5, rdinit: "/nonexistent" } });
    expect(bad.summary.exitCode).toBe(2);
    const failed = task(bad);
    expect(failed?.status).toBe("failed");
    expect(String(failed?.result.msg)).toBe(
      `the trial boot with isolcpus=4 panic=5 rdinit=/nonexistent did not come up: rhel1 is back on its previous entry (/proc/cmdline: ${RUNNING}); the boot entries and /etc/default/grub are unchanged, the trial entry is removed`,
    );
    expect(await tree()).toBe(before);
    expect((await sh(`cat ${T}/proc/sys/kernel/random/boot_id`)).trim()).not.toBe("boot-a");
  }, 120_000);
});
