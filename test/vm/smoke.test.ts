/**
 * The VM lab's smoke suite: boots the image through GRUB, runs tickless over SSH against real
 * systemd, and proves that a GRUB_CMDLINE_LINUX written by a playbook reaches the kernel at the next
 * boot (the harness's reset, which the suite tests anyway). Runs only under vitest.vm.config.ts (`npx vitest run -c vitest.vm.config.ts`).
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { RunSummary } from "../../src/index.js";
import { runPlaybook } from "../../src/index.js";
import { cli } from "../cli/helpers.js";
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

// Logged in as an unprivileged user whose sudo asks for a password: file operations and commands
// go through `sudo -S` (password on stdin), `become_user` switches to another account.
const BECOME_PLAYBOOK = `
- hosts: vm
  gather_facts: false
  tasks:
    - name: a root-owned file written through sudo
      lineinfile:
        path: /etc/tickless-become.conf
        line: become=1
        create: true
        mode: "0640"
    - name: commands run as root
      command: id -un
      register: who
      changed_when: false
      check_mode: false
    - name: commands run as another user with become_user
      command: id -un
      become_user: redis
      register: who_redis
      changed_when: false
      check_mode: false
    - assert:
        that:
          - who.stdout == 'root'
          - who_redis.stdout == 'redis'
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
    // build-image.sh: quiet RCU's false stall alarms under TCG (they once livelocked a boot).
    expect(cmdline.split(/\s+/)).toContain("rcupdate.rcu_cpu_stall_timeout=300");
    expect((await vm.ssh("cat /proc/1/comm")).stdout.trim()).toBe("systemd");
    expect((await vm.ssh("nproc")).stdout.trim()).toBe("8");
    // The emulated hardware watchdog is there and systemd drives it (vm.ts, WATCHDOG_IN_GUEST).
    expect((await vm.ssh("test -c /dev/watchdog0 && echo yes")).stdout.trim()).toBe("yes");
    expect((await vm.ssh("systemctl show -p RuntimeWatchdogUSec --value")).stdout.trim()).toBe("3min");
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

  // The next boot (the harness's reset below) must bring it to /proc/cmdline: one boot fewer under TCG.
  it("a GRUB_CMDLINE_LINUX changed by a playbook reaches grub.cfg (and /proc/cmdline at the next boot, below)", async () => {
    expect((await vm.ssh("cat /proc/cmdline")).stdout).not.toContain("tickless_test=1");
    const summary = await play("grub.yml", GRUB_PLAYBOOK);
    expect(summary.exitCode).toBe(0);
    expect(summary.stats.vm1).toMatchObject({ changed: 2, failed: 0 });
    expect((await vm.ssh("grep -c tickless_test=1 /boot/grub/grub.cfg")).stdout.trim()).not.toBe("0");
  });

  it("becomes root through sudo -S with a password, which appears in no output", async () => {
    const password = `Vm-${randomBytes(9).toString("base64url")}`;
    const wrong = `Wrong-${randomBytes(9).toString("base64url")}`;
    // The test's own setup: user `ops`, root's key, sudo that asks for ops's password.
    await vm.addSudoUser("ops", password, "ops.inventory.yml");
    await vm.ssh("rm -f /etc/tickless-become.conf");
    expect((await vm.ssh("su ops -c 'sudo -n true'", { allowFailure: true })).code).not.toBe(0);
    const inventoryFor = async (name: string, becomePassword: string) => {
      const inv = parse(await readFile(join(vm.dir, "ops.inventory.yml"), "utf8"));
      Object.assign(inv.all.children.vm.hosts[vm.name], {
        ansible_become: true,
        ansible_become_password: becomePassword,
      });
      const file = join(vm.dir, name);
      await writeFile(file, stringify(inv));
      return file;
    };
    const playbook = join(vm.dir, "become.yml");
    await writeFile(playbook, BECOME_PLAYBOOK);
    const runAs = async (inventory: string) => {
      const t0 = Date.now();
      const r = await cli(["run", playbook, "-i", inventory, "-vvv", "--diff", "--json"]);
      phases[`become ${inventory.split("/").pop()}`] = (Date.now() - t0) / 1000;
      const events = r.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      return { ...r, events, recap: events.find((e) => e.type === "recap")?.stats[vm.name] };
    };

    const good = await inventoryFor("become.inventory.yml", password);
    const first = await runAs(good);
    expect(first.stdout + first.stderr).not.toContain(password);
    const failedOf = (r: { events: { type: string; status?: string; task?: string; result?: unknown }[] }) =>
      r.events
        .filter((e) => e.type === "host_result" && (e.status === "failed" || e.status === "unreachable"))
        .map((e) => `${e.task}: ${JSON.stringify(e.result)}`);
    expect(failedOf(first)).toEqual([]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.recap).toMatchObject({ changed: 1, failed: 0 });
    expect(
      (await vm.ssh("stat -c '%U:%G %a' /etc/tickless-become.conf; cat /etc/tickless-become.conf")).stdout,
    ).toBe("root:root 640\nbecome=1\n");
    const second = await runAs(good);
    expect(second.recap).toMatchObject({ changed: 0, failed: 0 });
    expect(second.stdout + second.stderr).not.toContain(password);

    const bad = await runAs(await inventoryFor("wrong.inventory.yml", wrong));
    expect(bad.code).not.toBe(0);
    const failed = bad.events.find((e) => e.type === "host_result" && e.status === "failed");
    expect(String(failed?.result.msg ?? "") + String(failed?.result.stderr ?? "")).toMatch(/sudo|password/i);
    expect(bad.stdout + bad.stderr).not.toContain(wrong);
    expect(bad.stdout + bad.stderr).not.toContain(password);
  });
  // The supervisor's own reset tests run only with TICKLESS_VM_RESET_TESTS=1. Under TCG a
  // `system_reset` of this frozen guest has left it stuck for good in two CI runs of four: qemu
  // "running" at 100 % CPU, the boot CPU in real mode inside GRUB's BIOS disk reads (CS:IP
  // 0000:9102, AH=01 from int 13h), the others halted in SeaBIOS, not one console line; a power
  // cycle on the same disk, whose first MiB (MBR, GRUB's core image) was still the image's, stuck
  // the same way. The supervisor stays on in every VM test; only its self-test is opt-in.
  const resetTests = Boolean(process.env.TICKLESS_VM_RESET_TESTS);
  /**
   * Freezes the guest with a 30 s hang timeout and waits for the supervisor's reset (counted once
   * QMP has sent it); returns when the freeze began. Counts from wherever the VM stands (a slow
   * machine may have needed a reset during an earlier boot), as long as one reset is left.
   */
  const freezeUntilReset = async (): Promise<number> => {
    const resetsBefore = vm.resets;
    expect(resetsBefore).toBeLessThan(3);
    vm.setHangTimeout(30_000);
    const t0 = Date.now();
    await vm.freeze();
    while (vm.resets === resetsBefore && Date.now() - t0 < 180_000)
      await new Promise((r) => setTimeout(r, 500));
    expect(vm.resets).toBe(resetsBefore + 1);
    return t0;
  };

  // After the others, because it resets the machine. A frozen guest (QMP `stop`: its CPUs and its watchdog's
  // clock stand still) is what a kernel hung while booting looks like from outside: no SSH banner.
  it.runIf(resetTests)(
    "a guest that hangs is reset by the harness's supervisor and comes back under a new boot id",
    async () => {
      const before = await vm.bootId();
      const resetsBefore = vm.resets;
      const t0 = await freezeUntilReset();
      // Back to the default before the new boot, which takes longer than 30 s under TCG.
      vm.setHangTimeout(480_000);
      phases["hang → reset"] = (Date.now() - t0) / 1000;
      await vm.waitForReboot(before);
      phases["hang → reset → SSH"] = (Date.now() - t0) / 1000;
      expect(vm.resets).toBe(resetsBefore + 1);
      expect(await readFile(vm.harnessLog, "utf8")).toMatch(
        new RegExp(
          `\\[tickless vm harness\\] vm1: no SSH banner for \\d+ s: system_reset #${resetsBefore + 1}\\b`,
        ),
      );
      expect((await vm.ssh("cat /proc/1/comm")).stdout.trim()).toBe("systemd");
      // the boot after the reset runs the command line grub.yml wrote through GRUB
      expect((await vm.ssh("cat /proc/cmdline")).stdout.split(/\s+/)).toContain("tickless_test=1");
    },
  );

  // After the reset: a reset that brings nothing back (seen once in CI under TCG: not a console line
  // after three resets) is followed by a power cycle. Here the machine is frozen again right after
  // the supervisor's reset, so that only the power cycle can bring it back.
  it.runIf(resetTests)(
    "a reset that brings no SSH banner back is followed by a power cycle on the same disk",
    async () => {
      const before = await vm.bootId();
      const resetsBefore = vm.resets;
      const cyclesBefore = vm.powerCycles;
      expect(cyclesBefore).toBeLessThan(2);
      const t0 = await freezeUntilReset();
      await vm.freeze();
      while (vm.powerCycles === cyclesBefore && Date.now() - t0 < 360_000)
        await new Promise((r) => setTimeout(r, 1000));
      vm.setHangTimeout(480_000);
      expect(vm.powerCycles).toBe(cyclesBefore + 1);
      phases["hang → reset → frozen → power cycle"] = (Date.now() - t0) / 1000;
      await vm.waitForReboot(before);
      expect(vm.resets).toBe(resetsBefore + 1);
      expect(await readFile(vm.harnessLog, "utf8")).toMatch(
        new RegExp(
          `\\[tickless vm harness\\] vm1: no SSH banner for \\d+ s after system_reset #${resetsBefore + 1} \\(qemu status: \\{"status":"paused","singlestep":false,"running":false\\}\\): power cycle #${cyclesBefore + 1} on the same disk`,
        ),
      );
      expect((await vm.ssh("cat /proc/1/comm")).stdout.trim()).toBe("systemd");
    },
  );

  // Last of all: an emulator that dies under the guest (seen once in CI during
  // a reboot) is started again on the same disk, and the tests go on under a new boot id.
  it("when qemu itself dies, the harness power-cycles it on the same disk and the guest comes back", async () => {
    const before = await vm.bootId();
    // The power cycle above, and maybe one the first reset needed: this test counts from wherever
    // it stands, as long as one power cycle is left.
    const cyclesBefore = vm.powerCycles;
    expect(cyclesBefore).toBeLessThan(3);
    const t0 = Date.now();
    await vm.crashEmulator();
    await vm.waitForReboot(before);
    phases["qemu killed → power cycle → SSH"] = (Date.now() - t0) / 1000;
    expect(vm.powerCycles).toBe(cyclesBefore + 1);
    expect(await readFile(vm.harnessLog, "utf8")).toMatch(
      new RegExp(
        `\\[tickless vm harness\\] vm1: qemu exited \\(SIGKILL\\) after reboot: power cycle #${cyclesBefore + 1} on the same disk`,
      ),
    );
    expect((await vm.ssh("cat /proc/1/comm")).stdout.trim()).toBe("systemd");
    // the boot after it (the first, without the reset tests) runs the command line grub.yml wrote
    expect((await vm.ssh("cat /proc/cmdline")).stdout.split(/\s+/)).toContain("tickless_test=1");
  });
});
