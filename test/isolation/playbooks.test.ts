/**
 * isolation.yml, rollback.yml and validate.yml on the 3 lab hosts (real sshd, fixture /proc/irq,
 * no systemd, no boot loader: grub.cfg is written by the grub-mkconfig fixture), serial: 1.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { run } from "../e2e/helpers.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";

const ROOT = join(import.meta.dirname, "../..");
const FIXTURE = join(import.meta.dirname, "fixtures/grub-mkconfig.sh");
/** Where the fixture is installed on each host: the hosts have a private /tmp, so a clone under /tmp is not visible there. */
const HOST_FIXTURE = "/opt/tickless-test/grub-mkconfig.sh";
const lab = sharedLab();

/** Every path the playbooks may touch (grub.cfg aside: it is generated), hashed in one command. */
const SNAPSHOT = [
  "cd / && for p in /etc/default/grub /etc/default/grub.d /etc/default/irqbalance /etc/systemd/system/hft.slice",
  "/etc/systemd/system/system.slice.d /etc/systemd/system/user.slice.d /etc/systemd/system/init.scope.d",
  "/etc/systemd/system/redis-server.service.d /proc/irq /var/lib/tickless/irq-affinity.json; do",
  '  if [ -e "$p" ]; then find "$p" | sort | while read -r f; do if [ -f "$f" ]; then echo "$f $(sha256sum < "$f")"; else echo "$f dir"; fi; done; else echo "$p absent"; fi',
  "done",
].join(" ");

const RESULTS = join(tmpdir(), `tickless-isolation-results-${process.pid}`);

const vars = {
  require_systemd: false,
  validate_window: 1,
  results_dir: RESULTS,
  housekeeping_cpus: "0-3,5-7",
  nic_irq_pattern: "^(eth0-TxRx-\\d+|nvme0q0)$",
  grub_mkconfig_command: `sh ${HOST_FIXTURE} -o /boot/grub/grub.cfg`,
};

describe.skipIf(!lab)("isolation playbooks on the lab hosts", () => {
  let conns: Connection[] = [];
  let home: Awaited<ReturnType<typeof isolateHome>>;
  const snapshot = () => Promise.all(conns.map(async (c) => (await c.run(SNAPSHOT)).stdout));
  const play = (name: string, check = false, extra: Record<string, unknown> = {}) =>
    run({
      playbook: join(ROOT, "playbooks", name),
      inventory: lab!.inventoryFile,
      extraVars: { ...vars, ...extra },
      check,
      diff: true,
    });

  beforeAll(async () => {
    home = await isolateHome();
    conns = await Promise.all(lab!.hosts.map((h) => openSsh(labSettings(lab!, h))));
    const script = await readFile(FIXTURE);
    await Promise.all(
      conns.map(async (c) => {
        await c.run("mkdir -p /opt/tickless-test");
        await c.writeFile(HOST_FIXTURE, script, { mode: "0755" });
      }),
    );
  });
  afterAll(async () => {
    await rm(RESULTS, { recursive: true, force: true });
    await Promise.all(conns.map((c) => c.close()));
    await home.release();
  });

  test("check mode changes nothing and shows the GRUB, drop-in and IRQ diffs; the run converges one host at a time; a second run changes nothing; rollback restores byte for byte", async () => {
    const before = await snapshot();
    expect(before[0]).toContain("/proc/irq/24/smp_affinity_list");

    const check = await play("isolation.yml", true);
    expect(
      check.results.filter((x) => x.status === "failed").map((r) => `${r.host} ${r.task}: ${r.result.msg}`),
    ).toEqual([]);
    expect(check.summary.exitCode).toBe(0);
    expect(await snapshot()).toEqual(before);
    const planned = check.results.filter((r) => r.host === "lab1" && r.status === "changed");
    const targets = planned.flatMap((r) => (r.result.changes ?? []).map((c) => c.target));
    expect(targets).toEqual(
      expect.arrayContaining([
        "/etc/default/grub.d/99-tickless.cfg",
        "/boot/grub/grub.cfg",
        "/proc/irq/24/smp_affinity_list",
        "/proc/irq/default_smp_affinity",
        "/etc/default/irqbalance",
        "/etc/systemd/system/hft.slice",
        "/etc/systemd/system/system.slice.d/50-tickless-allowedcpus.conf",
        "/etc/systemd/system/redis-server.service.d/50-tickless-cpuaffinity.conf",
      ]),
    );
    const grubDiff = planned
      .flatMap((r) => r.result.changes ?? [])
      .find((c) => c.target.endsWith("99-tickless.cfg"));
    expect(grubDiff?.after).toContain(
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX isolcpus=4 nohz_full=4 rcu_nocbs=4"',
    );

    const real = await play("isolation.yml");
    expect(
      real.results.filter((x) => x.status === "failed").map((r) => `${r.host} ${r.task}: ${r.result.msg}`),
    ).toEqual([]);
    expect(real.summary.exitCode).toBe(0);
    // serial: 1 — every task of lab1 ends before lab2's first task starts
    const hostsInOrder = real.results.filter((r) => r.task !== "Gathering Facts").map((r) => r.host);
    expect(hostsInOrder.indexOf("lab2")).toBeGreaterThan(hostsInOrder.lastIndexOf("lab1"));
    const irq = real.results.find((r) => r.host === "lab2" && r.task.startsWith("NIC IRQs"));
    expect(String(irq?.result.msg)).toContain(
      "IRQ 28 (nvme0q0) is kernel-managed: the kernel refused the affinity write (Read-only file system); left as it is (managed: skip)",
    );
    const after = await Promise.all(
      conns.map(
        async (c) =>
          (
            await c.run(
              "cat /proc/irq/25/smp_affinity_list /etc/default/grub.d/99-tickless.cfg /boot/grub/grub.cfg",
            )
          ).stdout,
      ),
    );
    for (const out of after) {
      expect(out.startsWith("0-3,5-7\n")).toBe(true);
      expect(out).toMatch(/\tlinux\t\S+ root=\S+ ro\s+isolcpus=4 nohz_full=4 rcu_nocbs=4/);
    }
    const cmdline = real.results.find((r) => r.host === "lab3" && r.task.startsWith("kernel command line"));
    expect(cmdline?.result.reboot_required).toBe(true);
    // no reboot without allow_reboot: a warning, and the boot-time checks are skipped with its reason
    const pending = "reboot required to apply: isolcpus=4 nohz_full=4 rcu_nocbs=4 (allow_reboot is false)";
    const warning = real.results.find(
      (r) => r.host === "lab1" && r.task === "the new kernel command line needs a reboot",
    );
    expect(String(warning?.result.msg)).toMatch(
      new RegExp(`^WARNING: ${pending.replace(/[()]/g, "\\$&")}; the running kernel has: `),
    );
    expect(
      real.results.filter((r) => r.task === "reboot into the new kernel command line").map((r) => r.status),
    ).toEqual(["skipped", "skipped", "skipped"]);
    const validation = real.results.find(
      (r) => r.host === "lab1" && r.task.startsWith("validate CPU isolation"),
    );
    expect(validation?.status).toBe("ok");
    const report = validation?.result.report as {
      checks: { name: string; status: string; detail: string }[];
    };
    const checks = report?.checks ?? [];
    expect(Object.fromEntries(checks.map((c) => [c.name, `${c.status}: ${c.detail}`]))).toMatchObject({
      isolated: `skipped: ${pending}`,
      nohz_full: `skipped: ${pending}`,
      redis_affinity: "skipped: skipped: no systemd on this host",
      "system.slice AllowedCPUs": "skipped: skipped: no systemd on this host",
      nic_irqs: expect.stringContaining(
        "left where the kernel keeps them: IRQ 28 (nvme0q0) on CPU 4, kernel-managed",
      ),
      interrupts_on_isolated: "ok: 0 device interrupts on CPU 4 in 1 s",
    });

    const second = await play("isolation.yml");
    expect(second.summary.exitCode).toBe(0);
    expect(second.summary.totals.changed).toBe(0);

    const back = await play("rollback.yml");
    expect(back.summary.exitCode).toBe(0);
    expect(await snapshot()).toEqual(before);
    const again = await play("rollback.yml");
    expect(again.summary.totals.changed).toBe(0);
  }, 120_000);

  test("validate.yml prints and saves the JSON report on every host and on the controller, and fails with one line per broken check", async () => {
    const fixture = "/tmp/sys-fixture/devices/system/cpu";
    await Promise.all(
      conns.map((c) =>
        c.run(`mkdir -p ${fixture} && echo 4 > ${fixture}/isolated && echo 4 > ${fixture}/nohz_full`),
      ),
    );
    const ok = await play("validate.yml", false, {
      sys_root: "/tmp/sys-fixture",
      nic_irq_pattern: "^eth0-TxRx-",
    });
    expect(ok.summary.exitCode).toBe(0);
    const printed = ok.results.filter((r) => r.task === "validation report");
    expect(printed.map((r) => r.host)).toEqual(["lab1", "lab2", "lab3"]);
    const report = JSON.parse(String(printed[0].result.msg));
    expect(report).toMatchObject({ host: "lab1", isolated_cpus: "4", ok: true });
    expect(
      report.checks.filter((c: { status: string }) => c.status === "ok").map((c: { name: string }) => c.name),
    ).toEqual(["isolated", "nohz_full", "nic_irqs", "interrupts_on_isolated"]);
    const onHost = await conns[0].run("cat /var/lib/tickless/validate-*.json | tail -n +1");
    expect(onHost.stdout).toContain('"host": "lab1"');
    const saved = (await readdir(RESULTS)).filter((f) => f.startsWith("lab1-validate-"));
    expect(saved.length).toBeGreaterThan(0);
    const controllerFile = String(
      ok.results.find((r) => r.host === "lab1" && r.task.startsWith("validate CPU"))?.result
        .controller_report_file,
    );
    expect(JSON.parse(await readFile(controllerFile, "utf8"))).toEqual(report);

    const broken = await play("validate.yml", false, {
      sys_root: "/tmp/sys-missing",
      nic_irq_pattern: "^(eth0-TxRx-\\d+|nvme0q0)$",
    });
    expect(broken.summary.exitCode).toBe(2);
    const reasons = broken.results.filter((r) => r.task === "every isolation check holds");
    expect(reasons.map((r) => r.status)).toEqual(["failed", "failed", "failed"]);
    expect(String(reasons[0].result.msg).split("\n")).toEqual([
      "isolated: /tmp/sys-missing/devices/system/cpu/isolated is missing",
      "nic_irqs: effective affinity on an isolated CPU: IRQ 28 (nvme0q0) on CPU 4",
    ]);
    await Promise.all(conns.map((c) => c.run("rm -rf /tmp/sys-fixture /var/lib/tickless/validate-*.json")));
  }, 120_000);
});
