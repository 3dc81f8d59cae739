/**
 * The osnoise tracer on a kernel that has it. Debian's generic kernel is built without
 * CONFIG_OSNOISE_TRACER (validate_isolation then says "not available"); its PREEMPT_RT flavour of
 * the same ABI has it. The package (`linux-image-<abi>-rt-amd64` for the guest's `uname -r`) is
 * downloaded on this machine with `apt-get download` (kept beside the image's packages), copied in
 * and installed by a playbook, which reboots into it: for the same ABI the RT flavour sorts first,
 * so it is GRUB's default entry. Then validate_isolation runs the tracer on CPU 4 of the real
 * kernel: the figures come from the kernel's own trace lines, and tracefs comes back as it was.
 *
 * Opt-in (TICKLESS_VM_RT_KERNEL=1, under vitest.vm.config.ts): under TCG the install and the
 * reboot take about 13 minutes (dpkg unpacking 390 MB of modules without per-file fsyncs, then the
 * initramfs), the whole file about 15, too long for CI's VM budget. The play grows the image's
 * file system first (it is 1 GiB of its 4 GiB partition).
 *   TICKLESS_VM_RT_KERNEL=1 npx vitest run -c vitest.vm.config.ts test/vm/osnoise.test.ts
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../e2e/helpers.js";
import { cacheDir } from "./image.js";
import { startVm, type Vm } from "./vm.js";

const MINUTES = 60_000;
const TRACEFS =
  "cat /sys/kernel/tracing/current_tracer /sys/kernel/tracing/tracing_on /sys/kernel/tracing/osnoise/cpus";

/** The .deb of `pkg` in `dir`, downloaded there first when missing. */
function debOf(pkg: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const have = () => readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
  if (!have()) {
    const r = spawnSync("apt-get", ["download", pkg], { cwd: dir, encoding: "utf8", timeout: 15 * MINUTES });
    if (r.status !== 0) throw new Error(`apt-get download ${pkg} failed: ${r.stderr || r.stdout}`);
  }
  const file = have();
  if (!file) throw new Error(`apt-get download ${pkg} left no ${pkg}_*.deb in ${dir}`);
  return join(dir, file);
}

const INSTALL = `
- hosts: vm
  gather_facts: false
  tasks:
    # the image's file system is 1 GiB of its 4 GiB partition: room for a second kernel's modules
    - name: the root file system fills its partition
      command: resize2fs /dev/vda1
    - name: the PREEMPT_RT kernel package
      copy: { src: "{{ deb_src }}", dest: "{{ deb_dest }}", mode: "0644" }
    - name: the PREEMPT_RT kernel installed
      # no fsync per file: under TCG dpkg's fsyncs of 390 MB of modules cost most of the install
      command: "dpkg --force-unsafe-io -i {{ deb_dest }}"
      args: { creates: "/boot/vmlinuz-{{ rt_release }}" }
    - name: booted into it
      reboot: { reboot_timeout: 1800 }
`;

const VALIDATE = `
- hosts: vm
  gather_facts: false
  tasks:
    - name: validate CPU isolation with the osnoise tracer
      validate_isolation:
        isolated_cpus: "4"
        nic_irq_pattern: "^virtio"
        window: 2
        osnoise: auto
        osnoise_window: 3
        results_dir: "{{ results_dir }}"
      register: validation
      ignore_errors: true
`;

describe.skipIf(!process.env.TICKLESS_VM_SUITE || !process.env.TICKLESS_VM_RT_KERNEL)(
  "the osnoise tracer on Debian's PREEMPT_RT kernel",
  () => {
    let vm: Vm;
    const phases: Record<string, number> = {};

    beforeAll(async () => {
      vm = await startVm();
      phases[`boot (${vm.accel})`] = vm.bootSeconds;
    });

    afterAll(async () => {
      await vm?.stop();
      console.log(`[vm osnoise] phases (s): ${JSON.stringify(phases)}`);
    });

    it(
      "the RT kernel installed by a playbook and booted; the tracer's figures for CPU 4 read from the kernel, tracefs as it was",
      async () => {
        const release = (await vm.ssh("uname -r")).stdout.trim();
        expect(release).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
        expect(
          (await vm.ssh("grep -qw osnoise /sys/kernel/tracing/available_tracers", { allowFailure: true }))
            .code,
        ).not.toBe(0);
        const rt = release.replace(/-amd64$/, "-rt-amd64");
        const deb = debOf(`linux-image-${rt}`, join(cacheDir(), "debs"));

        let t0 = Date.now();
        const file = join(vm.dir, "install-rt.yml");
        writeFileSync(file, INSTALL);
        const installed = await run({
          playbook: file,
          inventory: vm.inventoryFile,
          extraVars: {
            deb_src: deb,
            deb_dest: `/root/${deb.split("/").pop()}`,
            rt_release: rt,
            // dpkg -i of a kernel under TCG: past the inventory's 600 s
            tickless_command_timeout: 3600,
          },
        });
        phases["install + reboot"] = (Date.now() - t0) / 1000;
        expect(
          installed.results
            .filter((r) => r.status === "failed")
            .map((r) => `${r.task}: ${r.result.msg} ${String(r.result.stderr ?? "").slice(-1500)}`),
        ).toEqual([]);
        expect(installed.summary.exitCode).toBe(0);
        expect((await vm.ssh("uname -r")).stdout.trim()).toBe(rt);
        expect((await vm.ssh("grep -ow osnoise /sys/kernel/tracing/available_tracers")).stdout.trim()).toBe(
          "osnoise",
        );

        const before = (await vm.ssh(TRACEFS)).stdout;
        const vfile = join(vm.dir, "validate-osnoise.yml");
        writeFileSync(vfile, VALIDATE);
        t0 = Date.now();
        const validated = await run({
          playbook: vfile,
          inventory: vm.inventoryFile,
          extraVars: { results_dir: join(vm.dir, "results") },
        });
        phases.validate = (Date.now() - t0) / 1000;
        expect((await vm.ssh(TRACEFS)).stdout).toBe(before);
        const result = validated.results.find((r) => r.task.startsWith("validate CPU isolation"))?.result;
        const report = result?.report as {
          checks: { name: string; status: string; detail: string }[];
          osnoise: { state: string; saved: unknown; restored: unknown };
          noise: { cpus: Record<string, { osnoise?: Record<string, unknown> }> };
        };
        const check = report.checks.find((c) => c.name === "osnoise");
        console.log(`[vm osnoise] check: ${check?.status}: ${check?.detail}`);
        console.log(`[vm osnoise] CPU 4: ${JSON.stringify(report.noise.cpus["4"]?.osnoise)}`);
        // it ran and was put back (a VM sees its hypervisor as noise: the limits may warn, apart)
        expect([report.osnoise.state, check?.status]).toEqual(["ran", "ok"]);
        expect(report.osnoise.saved).toEqual({
          current_tracer: "nop",
          tracing_on: expect.any(String),
          cpus: expect.any(String),
        });
        expect(report.osnoise.restored).toEqual(report.osnoise.saved);
        const figure = report.noise.cpus["4"]?.osnoise as {
          periods: number;
          runtime_us: number;
          noise_us: number;
          available_pct: number;
          max_single_noise_us: number;
          interference: Record<string, number>;
        };
        // about one 1 s period a second over the 3 s window, each with the kernel's runtime
        expect(figure.periods).toBeGreaterThanOrEqual(1);
        expect(figure.runtime_us).toBeGreaterThan(0);
        expect(figure.noise_us).toBeGreaterThanOrEqual(0);
        expect(figure.noise_us).toBeLessThanOrEqual(figure.runtime_us);
        expect(figure.available_pct).toBeGreaterThan(0);
        expect(figure.available_pct).toBeLessThanOrEqual(100);
        expect(figure.max_single_noise_us).toBeLessThanOrEqual(figure.noise_us);
        expect(Object.keys(figure.interference).sort()).toEqual(["hw", "irq", "nmi", "sirq", "thread"]);
        // the timer tick alone interrupts a CPU that is not isolated
        expect(figure.interference.irq).toBeGreaterThan(0);
      },
      75 * MINUTES,
    );
  },
);
