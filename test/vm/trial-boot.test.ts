/**
 * kernel_cmdline's trial boot on a real GRUB (docs/isolation.md, "Trial boot"): a command line that
 * cannot boot (`rdinit=` names no file, so the kernel mounts root itself, cannot, and panics; `panic=5`
 * reboots it) comes back on the old command line by itself, the play fails saying so, and
 * /etc/default/grub* and grub.cfg are as before; then a command line that boots becomes the default.
 * One VM, four kernel boots (the VM's, the trial that panics, the old entry after it, a good trial).
 *
 * Runs only under vitest.vm.config.ts (`npx vitest run -c vitest.vm.config.ts test/vm/trial-boot.test.ts`).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Run, run } from "../e2e/helpers.js";
import { startVm, type Vm } from "./vm.js";

const MINUTES = 60_000;

const playbook = (params: string) => `
- hosts: vm
  gather_facts: false
  tasks:
    - name: kernel command line, booted once before it becomes the default
      kernel_cmdline:
        params: "${params}"
        trial_boot: true
        reboot_timeout: 900
      register: cmdline
`;

/** Every GRUB file the trial may touch, hashed, and grubenv's next_entry. */
const GRUB_FILES = [
  "for f in $(find /etc/default/grub /etc/default/grub.d /boot/grub/grub.cfg /boot/grub/custom.cfg 2>/dev/null | sort); do",
  '  if [ -f "$f" ]; then echo "$f $(sha256sum < "$f" | cut -c1-16)"; else echo "$f dir"; fi',
  "done",
  "grub-editenv /boot/grub/grubenv list | grep '^next_entry=' || true",
].join("\n");

describe.skipIf(!process.env.TICKLESS_VM_SUITE)("kernel_cmdline trial_boot on the VM", () => {
  let vm: Vm;
  const phases: Record<string, number> = {};

  beforeAll(async () => {
    vm = await startVm();
    phases[`boot (${vm.accel})`] = vm.bootSeconds;
  });

  afterAll(async () => {
    await vm?.stop();
    console.log(`[vm trial-boot] phases (s): ${JSON.stringify(phases)}`);
  });

  async function play(name: string, params: string, check = false): Promise<Run> {
    const file = join(vm.dir, name);
    await writeFile(file, playbook(params));
    const t0 = Date.now();
    const r = await run({ playbook: file, inventory: vm.inventoryFile, check, diff: true });
    phases[`${name}${check ? " --check" : ""}`] = (Date.now() - t0) / 1000;
    return r;
  }
  const task = (r: Run) => r.results.find((x) => x.task.startsWith("kernel command line"));
  const cmdline = async () => (await vm.ssh("cat /proc/cmdline")).stdout.trim();

  it(
    "a command line that panics: the host comes back on the old one, the task fails saying so, the GRUB files are as before",
    async () => {
      const files = (await vm.ssh(GRUB_FILES)).stdout;
      expect(files).toContain("/boot/grub/grub.cfg ");
      expect(files).not.toContain("custom.cfg");
      const before = await cmdline();
      const bootBefore = await vm.bootId();

      // check mode: the plan names the trial entry, the one-shot boot and the snippet; nothing changes
      const check = await play("panic.yml", "panic=5 rdinit=/nonexistent", true);
      expect(check.summary.exitCode).toBe(0);
      const planned = ((task(check)?.result.changes ?? []) as { target: string; summary: string }[]).map(
        (c) => c.target,
      );
      expect(planned).toEqual([
        "/boot/grub/custom.cfg",
        "tickless-trial:boot",
        "/etc/default/grub.d/99-tickless.cfg",
        "/boot/grub/grub.cfg",
      ]);
      expect(task(check)?.result).toMatchObject({ reboot_required: true, trial_boot: "planned" });
      expect((await vm.ssh(GRUB_FILES)).stdout).toBe(files);
      expect(await vm.bootId()).toBe(bootBefore);

      const real = await play("panic.yml", "panic=5 rdinit=/nonexistent");
      expect(real.summary.exitCode).not.toBe(0);
      const result = task(real)?.result;
      expect(task(real)?.status).toBe("failed");
      expect(result?.trial_boot).toBe("failed");
      expect(String(result?.msg)).toMatch(
        /^the trial boot with panic=5 rdinit=\/nonexistent did not come up: vm1 is back on its previous entry \(\/proc\/cmdline: BOOT_IMAGE=/,
      );
      // a new boot, on the old command line; the trial did boot (its panic is on the console)
      expect(await vm.bootId()).not.toBe(bootBefore);
      expect(await cmdline()).toBe(before);
      const serial = await readFile(vm.consoleLog, "utf8");
      expect(serial).toMatch(/Kernel command line: .*panic=5 rdinit=\/nonexistent/);
      expect(serial).toMatch(/Kernel panic - not syncing/);
      // /etc/default/grub*, grub.cfg byte for byte; no custom.cfg; next_entry cleared by GRUB
      expect((await vm.ssh(GRUB_FILES)).stdout).toBe(
        files.replace(/^next_entry=.*\n/m, "") + "next_entry=\n",
      );
      expect(vm.resets).toBe(0);
    },
    45 * MINUTES,
  );

  it(
    "a command line that boots becomes the default after its trial; a second run changes nothing",
    async () => {
      const bootBefore = await vm.bootId();
      const real = await play("good.yml", "tickless_trial=1");
      expect(real.summary.exitCode).toBe(0);
      const result = task(real)?.result;
      expect(task(real)?.status).toBe("changed");
      expect(result).toMatchObject({ trial_boot: "passed", regenerated: true, reboot_required: false });
      expect(await vm.bootId()).not.toBe(bootBefore);
      expect((await cmdline()).split(/\s+/)).toContain("tickless_trial=1");
      expect((await vm.ssh("cat /etc/default/grub.d/99-tickless.cfg")).stdout).toContain(
        'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX tickless_trial=1"',
      );
      // the default entry carries it now; the trial entry is gone
      expect((await vm.ssh("grep -c 'tickless_trial=1' /boot/grub/grub.cfg")).stdout.trim()).not.toBe("0");
      expect((await vm.ssh("test -e /boot/grub/custom.cfg", { allowFailure: true })).code).not.toBe(0);

      const second = await play("good-again.yml", "tickless_trial=1");
      expect(second.summary.exitCode).toBe(0);
      expect(task(second)?.status).toBe("ok");
      expect(vm.resets).toBe(0);
    },
    30 * MINUTES,
  );
});
