import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import {
  cgroupVersion,
  gatherFacts,
  interruptsPerCpu,
  parseFacts,
  parseInterrupts,
  systemdVersion,
} from "../../src/facts/index.js";
import { parseCpuList } from "../../src/modules/isolation/cpus.js";
import { renderInterrupts } from "../lab/irq-fixture.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";
import { countingRuns } from "../support/counting.js";

const here = path.dirname(new URL(import.meta.url).pathname);

describe("parseInterrupts", () => {
  test("recorded /proc/interrupts of a 2-CPU VM: chip and name columns split, arch counters kept", async () => {
    const text = await readFile(path.join(here, "fixtures/interrupts-vm-2cpu.txt"), "utf8");
    const i = parseInterrupts(text);
    expect(i.cpus).toEqual([0, 1]);
    const ged = i.rows.find((r) => r.irq === "24");
    expect(ged).toMatchObject({ chip: "IO-APIC 5-edge", name: "ACPI:Ged", counts: [1, 0], total: 1 });
    const virtio = i.rows.find((r) => r.name === "virtio0-config");
    expect(virtio?.chip).toBe("PCI-MSIX-0000:00:01.0 0-edge");
    expect(i.rows.find((r) => r.irq === "ERR")).toMatchObject({ counts: [0], name: "" });
    expect(i.rows.find((r) => r.irq === "PIN")?.name).toBe("Posted-interrupt notification event");
  });

  test("the lab fixture: 8 CPUs, NIC queues by name, per-CPU sums", () => {
    const i = parseInterrupts(renderInterrupts());
    expect(i.cpus).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(i.rows.filter((r) => /^eth0-TxRx-\d+$/.test(r.name)).map((r) => r.irq)).toEqual([
      "24",
      "25",
      "26",
      "27",
    ]);
    const perCpu = interruptsPerCpu(i);
    const numbered = i.rows.filter((r) => /^\d+$/.test(r.irq));
    expect(perCpu["4"]).toBe(numbered.reduce((s, r) => s + r.counts[4], 0));
    expect(Object.keys(perCpu)).toHaveLength(8);
  });

  test("empty input", () => {
    expect(parseInterrupts("")).toEqual({ cpus: [], rows: [] });
  });
});

describe("isolation facts", () => {
  test("a systemd host with isolated CPUs, irqbalance banned and cgroup v2", () => {
    const f = parseFacts(
      [
        "@@init",
        "systemd",
        "@@systemd",
        "yes",
        "@@os_release",
        "ID=ubuntu",
        "ID_LIKE=debian",
        "@@cpu_isolated",
        "4",
        "@@cpu_nohz_full",
        "4-5",
        "@@interrupts",
        "           CPU0       CPU1",
        " 24:          5          7   PCI-MSI 1-edge      eth0",
        "@@irqbalance_pid",
        "812",
        "@@irqbalance_config",
        'IRQBALANCE_BANNED_CPULIST="4"',
        "@@cgroup_fs",
        "cgroup2fs",
        "@@systemd_version",
        "systemd 255 (255.4-1ubuntu8)",
      ].join("\n"),
    );
    expect(f).toMatchObject({
      os_family: "Debian",
      init_system: "systemd",
      service_mgr: "systemd",
      cpus_isolated_list: [4],
      cpus_nohz_full: "4-5",
      cpus_nohz_full_list: [4, 5],
      interrupts_per_cpu: { "0": 5, "1": 7 },
      irqbalance: { running: true, pid: 812, banned_cpulist: "4" },
      cgroup_version: 2,
      systemd_version: 255,
    });
  });

  test('a stock Debian kernel: nohz_full reads "(null)" when no nohz_full= was given (seen on the VM)', () => {
    const f = parseFacts(["@@cpu_isolated", "", "@@cpu_nohz_full", "(null)"].join("\n"));
    expect(f).toMatchObject({ cpus_isolated_list: [], cpus_nohz_full_list: [] });
  });

  test("NUMA nodes: each node's CPUs, a memory-only node without CPUs, none without NUMA", () => {
    const f = parseFacts(["@@numa_nodes", "node0 0-3,8-11", "node1 4-7,12-15", "node2 "].join("\n"));
    expect(f.numa_nodes).toEqual({
      "0": [0, 1, 2, 3, 8, 9, 10, 11],
      "1": [4, 5, 6, 7, 12, 13, 14, 15],
      "2": [],
    });
    expect(parseFacts("@@numa_nodes\n").numa_nodes).toEqual({});
  });

  test("helpers", () => {
    expect(cgroupVersion("cgroup2fs")).toBe(2);
    expect(cgroupVersion("tmpfs")).toBe(1);
    expect(cgroupVersion("")).toBe(0);
    expect(systemdVersion("systemd 252 (252.38-1~deb12u1)")).toBe(252);
    expect(systemdVersion("")).toBe(0);
  });
});

test("gathering on this machine costs one round trip and reads the real kernel's files", async () => {
  const { conn, runs } = countingRuns(new LocalConnection());
  const f = await gatherFacts(conn);
  expect(runs()).toBe(1);
  const online = (await readFile("/sys/devices/system/cpu/online", "utf8")).trim();
  expect(f.cpus_online).toBe(online);
  expect(f.cpus_isolated).toBe((await readFile("/sys/devices/system/cpu/isolated", "utf8")).trim());
  expect(f.proc_cmdline).toBe((await readFile("/proc/cmdline", "utf8")).trim());
  expect((f.interrupts as { cpus: number[] }).cpus.length).toBeGreaterThan(0);
  expect([0, 1, 2]).toContain(f.cgroup_version);
  // every node directory with a cpulist, as the kernel lists them
  const nodes: Record<string, number[]> = {};
  for (const d of await readdir("/sys/devices/system/node").catch(() => [])) {
    const m = /^node(\d+)$/.exec(d);
    if (!m) continue;
    const text = (await readFile(`/sys/devices/system/node/${d}/cpulist`, "utf8")).trim();
    nodes[m[1]] = text ? parseCpuList(text) : [];
  }
  expect(f.numa_nodes).toEqual(nodes);
});

describe("on lab hosts (fixture /proc/interrupts, no systemd)", () => {
  const lab = sharedLab();
  let conn: Connection | undefined;
  let home: Awaited<ReturnType<typeof isolateHome>> | undefined;
  beforeAll(async () => {
    if (!lab) return;
    home = await isolateHome();
    conn = await openSsh(labSettings(lab, lab.hosts[0]));
  });
  afterAll(async () => {
    await conn?.close();
    await home?.release();
  });

  test.skipIf(!lab)("one round trip; the NIC queues of the fixture, not the machine's", async () => {
    const { conn: c, runs } = countingRuns(conn!);
    const f = await gatherFacts(c);
    expect(runs()).toBe(1);
    expect(f.hostname).toBe(lab!.hosts[0].name);
    const i = f.interrupts as ReturnType<typeof parseInterrupts>;
    expect(i.cpus).toHaveLength(8);
    expect(i.rows.find((r) => r.irq === "28")?.name).toBe("nvme0q0");
    expect(f.service_mgr).not.toBe("systemd");
    expect(f.irqbalance).toEqual({ running: false, pid: 0, banned_cpulist: "" });
  });
});
