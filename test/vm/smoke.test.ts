/**
 * The VM lab's smoke suite: boots the image through GRUB, runs tickless over SSH against real
 * systemd, and proves that a GRUB_CMDLINE_LINUX written by a playbook reaches the kernel after a
 * reboot. Runs only under vitest.vm.config.ts (`npx vitest run -c vitest.vm.config.ts`).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/index.js";
import { runPlaybook } from "../../src/index.js";
import { startVm, type Vm } from "./vm.js";

const SERVICE_PLAYBOOK = `
- hosts: vm
  gather_facts: false
  tasks:
    - name: smoke marker
      lineinfile:
        path: /etc/tickless-smoke.conf
        line: smoke=1
        create: true
    - name: redis runs
      systemd:
        name: redis-server
        state: started
`;

const GRUB_PLAYBOOK = `
- hosts: vm
  gather_facts: false
  tasks:
    - name: kernel parameter in GRUB_CMDLINE_LINUX
      lineinfile:
        path: /etc/default/grub
        regexp: '^GRUB_CMDLINE_LINUX='
        line: 'GRUB_CMDLINE_LINUX="tickless_test=1"'
      register: grub_default
    - name: regenerate grub.cfg
      command: update-grub
      when: grub_default.changed
`;

describe.skipIf(!process.env.TICKLESS_VM_SUITE)("VM lab smoke", () => {
  let vm: Vm;
  const phases: Record<string, number> = {};

  beforeAll(async () => {
    vm = await startVm();
    phases[`boot (${vm.accel})`] = vm.bootSeconds;
  });

  afterAll(async () => {
    await vm?.stop();
    console.log(`[vm] phases (s): ${JSON.stringify(phases)}`);
  });

  // Runs a playbook file written into the VM's dir against the VM's inventory.
  async function play(name: string, text: string): Promise<RunSummary> {
    const file = join(vm.dir, name);
    await writeFile(file, text);
    const t0 = Date.now();
    const summary = await runPlaybook({ playbook: file, inventory: vm.inventoryFile });
    phases[name] = (Date.now() - t0) / 1000;
    return summary;
  }

  it("boots through the image's own GRUB with systemd as PID 1", async () => {
    const cmdline = (await vm.ssh("cat /proc/cmdline")).stdout;
    // BOOT_IMAGE= is set by GRUB only; a -kernel boot would not have it.
    expect(cmdline).toMatch(/BOOT_IMAGE=\/boot\/vmlinuz-\S+/);
    expect(cmdline).toContain("console=ttyS0");
    expect((await vm.ssh("cat /proc/1/comm")).stdout.trim()).toBe("systemd");
    expect((await vm.ssh("nproc")).stdout.trim()).toBe("8");
  });

  it("runs a playbook over SSH: a file line and a real systemd unit start", async () => {
    await vm.ssh("systemctl stop redis-server");
    const first = await play("service.yml", SERVICE_PLAYBOOK);
    expect(first.exitCode).toBe(0);
    expect(first.stats.vm1).toMatchObject({ changed: 2, failed: 0 });
    expect((await vm.ssh("cat /etc/tickless-smoke.conf")).stdout).toBe("smoke=1\n");
    const show = (await vm.ssh("systemctl show -p ActiveState -p SubState -p MainPID redis-server")).stdout;
    expect(show).toMatch(/^ActiveState=active$/m);
    expect(show).toMatch(/^SubState=running$/m);
    const pid = /^MainPID=(\d+)$/m.exec(show)?.[1];
    expect((await vm.ssh(`cat /proc/${pid}/comm`)).stdout.trim()).toBe("redis-server");

    const second = await play("service-again.yml", SERVICE_PLAYBOOK);
    expect(second.stats.vm1).toMatchObject({ changed: 0, failed: 0 });
  });

  it("a GRUB_CMDLINE_LINUX changed by a playbook reaches /proc/cmdline after a reboot", async () => {
    const bootBefore = await vm.bootId();
    expect((await vm.ssh("cat /proc/cmdline")).stdout).not.toContain("tickless_test=1");
    const summary = await play("grub.yml", GRUB_PLAYBOOK);
    expect(summary.exitCode).toBe(0);
    expect(summary.stats.vm1).toMatchObject({ changed: 2, failed: 0 });
    expect((await vm.ssh("grep -c tickless_test=1 /boot/grub/grub.cfg")).stdout.trim()).not.toBe("0");

    phases.reboot = await vm.reboot();
    const bootAfter = await vm.bootId();
    expect(bootAfter).not.toBe(bootBefore);
    expect((await vm.ssh("cat /proc/cmdline")).stdout.split(/\s+/)).toContain("tickless_test=1");
  });
});
