/**
 * kernel_cmdline's trial boot on grubby hosts, on a temp tree: the grubby fixture
 * (test/isolation/fixtures/grubby.sh: grubby-bls's --info, --add-kernel, --remove-kernel and
 * --update-kernel, their output and exit codes), grub2-reboot's (next_entry in a grubenv block) and
 * a reboot (`reboot_command`: fixtures/bls-boot.sh boots next_entry once, else saved_entry, and
 * writes that entry's line to the fixture /proc/cmdline under a new boot id; an entry whose kernel
 * cannot boot panics back into the default entry). The engine's convergence loop runs the module.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { grubbyEntries } from "../../../src/modules/isolation/grubby.js";
import {
  type KernelCmdlineArgs,
  kernelCmdlineModule,
} from "../../../src/modules/isolation/kernel_cmdline.js";
import { checkPlan, converge, scratchDir } from "../harness.js";

const FIXTURES = join(import.meta.dirname, "../../isolation/fixtures");
const ISOLATION = { isolcpus: 4, nohz_full: 4, rcu_nocbs: 4 };
const VERSION = "5.14.0-362.8.1.el9_3.x86_64";
const K0 = `/boot/vmlinuz-${VERSION}`;
const MACHINE = "a98618aa1631441dbb52c75a50834a0a";
const BASE = "ro crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M resume=/dev/mapper/rl-swap rd.lvm.lv=rl/root";
const ENTRY = [
  `kernel="${K0}"`,
  `args="${BASE} rhgb quiet"`,
  'root="/dev/mapper/rl-root"',
  `initrd="/boot/initramfs-${VERSION}.img"`,
  `title="Rocky Linux (${VERSION}) 9.3 (Blue Onyx)"`,
  `id="${MACHINE}-${VERSION}"`,
];
const RUNNING = `BOOT_IMAGE=(hd0,gpt2)/vmlinuz-${VERSION} root=/dev/mapper/rl-root ${BASE} rhgb quiet`;

describe("trial boot with grubby", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const host = new LocalConnection();
  const env = () =>
    `GRUBBY_FIXTURE_DIR=${dir}/grubby GRUBBY_FIXTURE_ETC_DEFAULT=${dir}/etc/default/grub GRUB2_FIXTURE_ENV=${dir}/grubenv PROC_FIXTURE=${dir}/proc`;
  const grubby = () => `${env()} sh ${FIXTURES}/grubby.sh`;

  beforeEach(async () => {
    ({ dir, cleanup } = await scratchDir());
    await mkdir(join(dir, "grubby/entries"), { recursive: true });
    await mkdir(join(dir, "grubby/boot"), { recursive: true });
    await mkdir(join(dir, "etc/default"), { recursive: true });
    await mkdir(join(dir, "proc/sys/kernel/random"), { recursive: true });
    await writeFile(join(dir, "grubby/machine-id"), `${MACHINE}\n`);
    await writeFile(join(dir, `grubby/boot/vmlinuz-${VERSION}`), "");
    await writeFile(join(dir, "grubby/entries/0.info"), `${ENTRY.join("\n")}\n`);
    await writeFile(
      join(dir, "etc/default/grub"),
      `GRUB_TIMEOUT=5\nGRUB_DEFAULT=saved\nGRUB_CMDLINE_LINUX="${BASE.slice(3)} rhgb quiet"\nGRUB_ENABLE_BLSCFG=true\n`,
    );
    await writeFile(join(dir, "proc/cmdline"), `${RUNNING}\n`);
    await writeFile(join(dir, "proc/sys/kernel/random/boot_id"), "boot-a\n");
    // saved_entry as grubby --set-default writes it: the default entry's id
    const set = await host.run(
      `. ${FIXTURES}/grubenv.sh && grubenv_set ${dir}/grubenv saved_entry ${MACHINE}-${VERSION}`,
    );
    expect(set.rc).toBe(0);
  });
  afterEach(() => cleanup());

  const args = (over: Partial<KernelCmdlineArgs> = {}): KernelCmdlineArgs => ({
    params: ISOLATION,
    method: "grubby",
    grubby_command: grubby(),
    grub_default: join(dir, "etc/default/grub"),
    grub_cfg: join(dir, "boot/grub2/grub.cfg"),
    proc_root: join(dir, "proc"),
    state_file: join(dir, "var/lib/tickless/kernel-cmdline.json"),
    trial_boot: true,
    reboot_timeout: 20,
    grub_reboot_command: `${env()} sh ${FIXTURES}/grub2-reboot.sh`,
    reboot_command: `${env()} sh ${FIXTURES}/bls-boot.sh`,
    ...over,
  });
  const entries = async () => grubbyEntries((await host.run(`${grubby()} --info=ALL`)).stdout);
  const tree = async () => ({
    entries: await Promise.all(
      (await readdir(join(dir, "grubby/entries")))
        .sort()
        .map((f) => readFile(join(dir, "grubby/entries", f), "utf8")),
    ),
    grub: await readFile(join(dir, "etc/default/grub"), "utf8"),
    grubenv: await readFile(join(dir, "grubenv"), "utf8"),
  });
  const cmdline = async () => (await readFile(join(dir, "proc/cmdline"), "utf8")).trim();
  const short = (s: string) => s.replaceAll(env(), "ENV").replaceAll(FIXTURES, "F").replaceAll(dir, "");

  test("the fake grub2-reboot writes next_entry in grub2-editenv's 1024-byte block, and refuses no entry as grub2-reboot does", async () => {
    const r = await host.run(`${env()} sh ${FIXTURES}/grub2-reboot.sh some-id`);
    expect(r.rc).toBe(0);
    const block = await readFile(join(dir, "grubenv"), "utf8");
    expect(block.length).toBe(1024);
    expect(block.replace(/#+$/, "")).toBe(
      `# GRUB Environment Block\nsaved_entry=${MACHINE}-${VERSION}\nnext_entry=some-id\n`,
    );
    const none = await host.run(`${env()} sh ${FIXTURES}/grub2-reboot.sh`);
    expect([none.rc, none.stderr]).toEqual([1, "grub2-reboot: error: menu entry not specified.\n"]);
  });

  test("check mode lists the trial entry, the one-shot boot and the change, and touches nothing; the real run boots the trial, then changes every entry; a second run changes nothing", async () => {
    const before = await tree();
    const check = await checkPlan(kernelCmdlineModule, args(), host);
    const words = "isolcpus=4 nohz_full=4 rcu_nocbs=4";
    expect(check.map((c) => `${c.target.replace(dir, "")}: ${short(c.summary)}`)).toEqual([
      `tickless-trial:entry: trial entry (the running entry + ${words}), removed after its boot: \`ENV sh F/grubby.sh --add-kernel=${K0} --initrd=/boot/initramfs-${VERSION}.img --title='tickless-trial prepared in boot boot-a' --args='root=/dev/mapper/rl-root ${BASE} rhgb quiet ${words}'\``,
      `tickless-trial:boot: boot it once (\`ENV sh F/grub2-reboot.sh <its id>\`, reboot, 20 s to come back with ${words}); the boot entries change only then`,
      "/var/lib/tickless/kernel-cmdline.json: save the original of /etc/default/grub (state: restored puts it back)",
      `grubby:ALL: ENV sh F/grubby.sh --update-kernel=ALL --args='${words}'`,
      `/etc/default/grub: add ${words}`,
    ]);
    expect(await tree()).toEqual(before);

    const first = await converge(kernelCmdlineModule, args(), host);
    expect(first.changes).toEqual(check);
    expect(first.result, JSON.stringify(first.result)).toMatchObject({
      trial_boot: "passed",
      trial_entry: `${MACHINE}-${VERSION}.0~custom`,
    });
    expect(first.result?.failed).toBeUndefined();
    expect(first.replan).toEqual([]);
    // the host came back from the trial entry; its own entry now carries the params, the trial one is gone
    expect(await cmdline()).toBe(`${RUNNING} ${words}`);
    expect(first.report?.reboot_required).toBe(false);
    const after = await entries();
    expect(after.map((e) => e.id)).toEqual([`${MACHINE}-${VERSION}`]);
    expect(after[0].args.map((a) => `${a.key}=${a.value ?? ""}`).slice(-3)).toEqual(words.split(" "));
    // next_entry was used once and cleared, saved_entry as it was
    const grubenv = (await readFile(join(dir, "grubenv"), "utf8")).replace(/#+$/, "");
    expect(grubenv).toBe(`# GRUB Environment Block\nsaved_entry=${MACHINE}-${VERSION}\n`);
    expect(await readFile(join(dir, "etc/default/grub"), "utf8")).toMatch(
      /^GRUB_CMDLINE_LINUX=".* rhgb quiet isolcpus=4 nohz_full=4 rcu_nocbs=4"$/m,
    );

    const second = await converge(kernelCmdlineModule, args(), host);
    expect(second.changes).toEqual([]);
    expect(await checkPlan(kernelCmdlineModule, args(), host)).toEqual([]);
  }, 60_000);

  test("a line that does not boot: back on the previous entry, the trial entry removed, every entry and /etc/default/grub unchanged", async () => {
    const bad = { ...ISOLATION, panic: 5, rdinit: "/nonexistent" };
    const before = await tree();
    const r = await converge(kernelCmdlineModule, args({ params: bad }), host);
    expect(r.result?.failed).toBe(true);
    expect(r.result?.trial_boot).toBe("failed");
    expect(String(r.result?.msg)).toBe(
      `the trial boot with isolcpus=4 nohz_full=4 rcu_nocbs=4 panic=5 rdinit=/nonexistent did not come up: localhost is back on its previous entry (/proc/cmdline: ${RUNNING}); the boot entries and /etc/default/grub are unchanged, the trial entry is removed`,
    );
    expect(await cmdline()).toBe(RUNNING);
    expect(await readFile(join(dir, "proc/sys/kernel/random/boot_id"), "utf8")).not.toBe("boot-a\n");
    expect(await tree()).toEqual(before);
    expect(
      await readFile(join(dir, "var/lib/tickless/kernel-cmdline.json"), "utf8").catch(() => "none"),
    ).toBe("none");
  }, 60_000);

  test("a trial entry left by a run that never got its host back: removed, and the run fails instead of trying again; one from this boot is replaced; absent removes it too", async () => {
    const words = "isolcpus=4 nohz_full=4 rcu_nocbs=4";
    const add = (boot: string) =>
      host.run(
        `${grubby()} --add-kernel=${K0} --title='tickless-trial prepared in boot ${boot}' --args='root=/dev/mapper/rl-root ${BASE} ${words}'`,
      );
    expect((await add("boot-0")).stdout).toBe(
      `An entry for kernel ${VERSION} already exists, adding /boot/loader/entries/${MACHINE}-${VERSION}.0~custom.conf\n`,
    );
    const stale = await converge(kernelCmdlineModule, args(), host);
    expect(stale.changes.map((c) => short(c.summary))).toEqual([
      `remove the trial entry: its boot (prepared in boot boot-0) came back without ${words}; the boot entries are left as they are (\`ENV sh F/grubby.sh --remove-kernel='TITLE=tickless-trial prepared in boot boot-0'\`)`,
    ]);
    expect(stale.result?.failed).toBe(true);
    expect((await entries()).map((e) => e.title)).toEqual([`Rocky Linux (${VERSION}) 9.3 (Blue Onyx)`]);

    // prepared in this boot and never booted (the run ended before the reboot): removed, then the trial again
    await add("boot-a");
    const plan = await checkPlan(kernelCmdlineModule, args(), host);
    expect(plan.map((c) => c.target).slice(0, 3)).toEqual([
      "tickless-trial:remove",
      "tickless-trial:entry",
      "tickless-trial:boot",
    ]);

    // absent (and restored) remove it, nothing else to do
    const gone = await converge(kernelCmdlineModule, args({ state: "absent" }), host);
    expect(gone.changes.map((c) => c.target)).toEqual(["tickless-trial:remove"]);
    expect(gone.replan).toEqual([]);
    expect((await entries()).length).toBe(1);
  }, 60_000);

  test("a grubby-bls that writes the trial over the kernel's own entry: no reboot, the task says what happened", async () => {
    const old = args({ grubby_command: `GRUBBY_FIXTURE_NO_CUSTOM=1 ${grubby()}` });
    const r = await converge(kernelCmdlineModule, old, host);
    expect(r.result?.failed).toBe(true);
    expect(String(r.result?.msg)).toMatch(
      new RegExp(
        `replaced the kernel's own boot entry \\(${MACHINE}-${VERSION}\\) instead of adding one.*no reboot`,
      ),
    );
    expect(await readFile(join(dir, "proc/sys/kernel/random/boot_id"), "utf8")).toBe("boot-a\n");
    expect((await readFile(join(dir, "grubenv"), "utf8")).includes("next_entry")).toBe(false);
  });

  test("without trial_boot the grubby change is made at once (no entry added, no reboot)", async () => {
    const r = await converge(kernelCmdlineModule, args({ trial_boot: false }), host);
    expect(r.changes.map((c) => c.target.replace(dir, ""))).toEqual([
      "/var/lib/tickless/kernel-cmdline.json",
      "grubby:ALL",
      "/etc/default/grub",
    ]);
    expect(await cmdline()).toBe(RUNNING);
    expect(r.report?.reboot_required).toBe(true);
  });
});
