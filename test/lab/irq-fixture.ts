import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** One IRQ of the fixture: its number, the /proc/interrupts chip and name columns, and whether it is kernel-managed. */
interface FixtureIrq {
  irq: number;
  chip: string;
  name: string;
  node: number;
  managed?: boolean;
}

export const FIXTURE_CPUS = 8;

/** A realistic 8-CPU layout: legacy IRQs, four NIC queues on eth0 and one managed NVMe queue. */
export const FIXTURE_IRQS: FixtureIrq[] = [
  { irq: 0, chip: "IO-APIC   2-edge", name: "timer", node: 0 },
  { irq: 1, chip: "IO-APIC   1-edge", name: "i8042", node: 0 },
  { irq: 8, chip: "IO-APIC   8-edge", name: "rtc0", node: 0 },
  { irq: 9, chip: "IO-APIC   9-fasteoi", name: "acpi", node: 0 },
  { irq: 24, chip: "PCI-MSIX-0000:3b:00.0   0-edge", name: "eth0-TxRx-0", node: 0 },
  { irq: 25, chip: "PCI-MSIX-0000:3b:00.0   1-edge", name: "eth0-TxRx-1", node: 0 },
  { irq: 26, chip: "PCI-MSIX-0000:3b:00.0   2-edge", name: "eth0-TxRx-2", node: 0 },
  { irq: 27, chip: "PCI-MSIX-0000:3b:00.0   3-edge", name: "eth0-TxRx-3", node: 0 },
  { irq: 28, chip: "PCI-MSIX-0000:5e:00.0   0-edge", name: "nvme0q0", node: 0, managed: true },
];

/** Renders /proc/interrupts for the fixture: a CPU header, one row per IRQ, then the arch counters. */
export function renderInterrupts(): string {
  const cpus = Array.from({ length: FIXTURE_CPUS }, (_, i) => `CPU${i}`.padStart(11));
  const lines = [`    ${cpus.join("")}`];
  for (const irq of FIXTURE_IRQS) {
    const counts = Array.from({ length: FIXTURE_CPUS }, (_, cpu) =>
      String((irq.irq * 7919 + cpu * 104729) % 100000).padStart(11),
    );
    lines.push(`${String(irq.irq).padStart(3)}:${counts.join("")}  ${irq.chip}      ${irq.name}`);
  }
  const zeros = Array.from({ length: FIXTURE_CPUS }, () => "0".padStart(11)).join("");
  lines.push(`NMI:${zeros}   Non-maskable interrupts`);
  lines.push(`LOC:${zeros}   Local timer interrupts`);
  lines.push(`ERR:          0`);
  return `${lines.join("\n")}\n`;
}

/** Writes the /proc/irq tree and /proc/interrupts under `dir`; returns the paths and the managed IRQ files. */
export async function writeIrqFixture(
  dir: string,
): Promise<{ irqDir: string; interruptsFile: string; managedAffinityFiles: string[] }> {
  const irqDir = join(dir, "irq");
  const allMask = ((1 << FIXTURE_CPUS) - 1).toString(16);
  const allList = `0-${FIXTURE_CPUS - 1}`;
  await mkdir(irqDir, { recursive: true });
  await writeFile(join(irqDir, "default_smp_affinity"), `${allMask}\n`);
  const managedAffinityFiles: string[] = [];
  for (const irq of FIXTURE_IRQS) {
    const d = join(irqDir, String(irq.irq));
    await mkdir(d, { recursive: true });
    const effective = irq.irq % FIXTURE_CPUS;
    await writeFile(join(d, "smp_affinity"), `${allMask}\n`);
    await writeFile(join(d, "smp_affinity_list"), `${allList}\n`);
    await writeFile(join(d, "effective_affinity"), `${(1 << effective).toString(16)}\n`);
    await writeFile(join(d, "effective_affinity_list"), `${effective}\n`);
    await writeFile(join(d, "node"), `${irq.node}\n`);
    if (irq.managed) managedAffinityFiles.push(join(d, "smp_affinity"), join(d, "smp_affinity_list"));
  }
  const interruptsFile = join(dir, "interrupts");
  await writeFile(interruptsFile, renderInterrupts());
  return { irqDir, interruptsFile, managedAffinityFiles };
}

/**
 * A sysfs tree's network part under `sysDir`, as the kernel lays it out: class/net/<if> links to
 * the interface under its device; eth0's `device` links to the PCI function 0000:3b:00.0, whose
 * msi_irqs/ holds one file per MSI-X vector (24-27, the eth0-TxRx queues) and whose `irq` is the
 * unused legacy INTx line; lo and the bridge br0 have no `device`. The NVMe controller (IRQ 28)
 * is a PCI device too, but no network interface. Each interface has its queues' steering masks
 * (queues/rx-N/rps_cpus, queues/tx-N/xps_cpus): eth0's RPS is off but on rx-1 (CPUs 4-7), and its
 * driver maps each transmit queue to two CPUs (XPS 11, 22, 44, 88); lo and br0 have one queue each,
 * whose xps_cpus the kernel refuses to read (ENOENT: a dangling link stands in for it).
 */
export async function writeNetFixture(sysDir: string): Promise<void> {
  const pci = join(sysDir, "devices/pci0000:00");
  const nic = join(pci, "0000:3b:00.0");
  await mkdir(join(nic, "msi_irqs"), { recursive: true });
  await mkdir(join(nic, "net/eth0"), { recursive: true });
  await writeFile(join(nic, "irq"), "16\n");
  for (const irq of FIXTURE_IRQS.filter((i) => i.name.startsWith("eth0-"))) {
    await writeFile(join(nic, "msi_irqs", String(irq.irq)), "msix\n");
  }
  await symlink("../../../0000:3b:00.0", join(nic, "net/eth0/device"));
  const nvme = join(pci, "0000:5e:00.0");
  await mkdir(join(nvme, "msi_irqs"), { recursive: true });
  await writeFile(join(nvme, "msi_irqs/28"), "msix\n");
  for (const virtual of ["lo", "br0"])
    await mkdir(join(sysDir, "devices/virtual/net", virtual), { recursive: true });
  await writeQueues(join(nic, "net/eth0"), { rx: ["00", "f0", "00", "00"], tx: ["11", "22", "44", "88"] });
  for (const virtual of ["lo", "br0"])
    await writeQueues(join(sysDir, "devices/virtual/net", virtual), { rx: ["00"], tx: [undefined] });
  await mkdir(join(sysDir, "class/net"), { recursive: true });
  await symlink("../../devices/pci0000:00/0000:3b:00.0/net/eth0", join(sysDir, "class/net/eth0"));
  for (const virtual of ["lo", "br0"]) {
    await symlink(`../../devices/virtual/net/${virtual}`, join(sysDir, "class/net", virtual));
  }
}

/** rx-N/rps_cpus and tx-N/xps_cpus of one interface; an undefined mask reads ENOENT (a dangling link). */
async function writeQueues(
  ifDir: string,
  masks: { rx: string[]; tx: (string | undefined)[] },
): Promise<void> {
  for (const [kind, file, list] of [
    ["rx", "rps_cpus", masks.rx],
    ["tx", "xps_cpus", masks.tx],
  ] as const) {
    for (const [n, mask] of list.entries()) {
      const dir = join(ifDir, "queues", `${kind}-${n}`);
      await mkdir(dir, { recursive: true });
      if (mask === undefined) await symlink(`/nonexistent/${file}`, join(dir, file));
      else await writeFile(join(dir, file), `${mask}\n`);
    }
  }
}
