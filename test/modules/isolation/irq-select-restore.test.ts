/**
 * irq_affinity's selection by device (the NICs found under sys_root/class/net, or every IRQ) and
 * its restore by number and name, on the fixture /proc and /sys trees with the local connection.
 */
import { execFile } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { type IrqAffinityArgs, irqAffinityModule } from "../../../src/modules/isolation/irq_affinity.js";
import { nicScript, parseNics, selectIrqs } from "../../../src/modules/isolation/irq-select.js";
import type { SelectedIrq } from "../../../src/modules/isolation/irq-state.js";
import { hashTree } from "../../e2e/helpers.js";
import { FIXTURE_IRQS, writeIrqFixture, writeNetFixture } from "../../lab/irq-fixture.js";
import { converge, scratchDir } from "../harness.js";

const exec = promisify(execFile);
const host = new LocalConnection();

function irq(n: number, name: string): SelectedIrq {
  return { irq: n, name, smp_affinity_list: "0-7", smp_affinity: "ff", effective_affinity_list: "0" };
}

describe("selection (pure)", () => {
  const all = [
    irq(0, "timer"),
    irq(11, "virtio0-config"),
    irq(12, "virtio0-input.0"),
    irq(13, "virtio0-output.0"),
    irq(14, "virtio10-input.0"),
    irq(40, "mlx5_comp0@pci:0000:af:00.0"),
    irq(41, "nvme0q1"),
  ];

  test("the NICs' IRQs by MSI vector, interface name and device name; nothing else", () => {
    const nics = parseNics(
      "@@nic ens3|virtio0||0\n@@nic ens5|0000:af:00.0||16\n@@nic eth9|0000:3b:00.0|24 25 |16\nnoise\n",
    );
    expect(nics).toEqual([
      { name: "ens3", device: "virtio0", irqs: [] },
      { name: "ens5", device: "0000:af:00.0", irqs: [16] },
      { name: "eth9", device: "0000:3b:00.0", irqs: [24, 25] },
    ]);
    expect(selectIrqs({}, all, nics).map((i) => i.irq)).toEqual([11, 12, 13, 40]);
    // given numbers or a name regex replace the NIC default; an explicit scope adds it back
    expect(selectIrqs({ irqs: [41] }, all, nics).map((i) => i.irq)).toEqual([41]);
    expect(selectIrqs({ irqs: [41], irq_scope: "nics" }, all, nics).map((i) => i.irq)).toEqual([
      11, 12, 13, 40, 41,
    ]);
    expect(selectIrqs({ irq_scope: "all" }, all, nics)).toHaveLength(all.length);
  });
});

describe("on the fixture /proc and /sys trees", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let managed: string[];
  beforeEach(async () => {
    ({ dir, cleanup } = await scratchDir());
    managed = (await writeIrqFixture(join(dir, "proc"))).managedAffinityFiles;
    await writeNetFixture(join(dir, "sys"));
    // refuses writes even to root (EPERM, as kernels from 6.12 refuse a managed IRQ; older ones say EIO)
    await exec("chattr", ["+i", ...managed]);
  });
  afterEach(async () => {
    await exec("chattr", ["-i", ...managed]);
    await cleanup();
  });

  const args = (over: Partial<IrqAffinityArgs> = {}): IrqAffinityArgs => ({
    cpus: "0-3,5-7",
    managed: "skip",
    irqbalance_config: join(dir, "etc/default/irqbalance"),
    save_file: join(dir, "var/lib/tickless/irq-affinity.json"),
    proc_root: join(dir, "proc"),
    sys_root: join(dir, "sys"),
    ...over,
  });
  const restore = () => converge(irqAffinityModule, { ...args(), cpus: undefined, state: "restored" }, host);
  const list = (n: number) => readFile(join(dir, `proc/irq/${n}/smp_affinity_list`), "utf8");

  test("the sysfs listing finds eth0 (its MSI-X vectors) and skips lo and br0", async () => {
    const r = await host.run(nicScript(join(dir, "sys")));
    expect(parseNics(r.stdout)).toEqual([{ name: "eth0", device: "0000:3b:00.0", irqs: [24, 25, 26, 27] }]);
  });

  test("by default the NIC's IRQs move, nothing else; the second run changes nothing", async () => {
    const first = await converge(irqAffinityModule, args(), host);
    expect(first.changes.map((c) => c.summary)).toEqual([
      "save the originals of IRQ 24 (eth0-TxRx-0), IRQ 25 (eth0-TxRx-1), IRQ 26 (eth0-TxRx-2), IRQ 27 (eth0-TxRx-3)",
      ...[24, 25, 26, 27].map((n) => `IRQ ${n} (eth0-TxRx-${n - 24}): 0-7 → 0-3,5-7`),
    ]);
    // the save's planned bytes are the ones written
    expect(first.changes[0].after).toBe(
      await readFile(join(dir, "var/lib/tickless/irq-affinity.json"), "utf8"),
    );
    expect(first.replan).toEqual([]);
    expect(await list(8)).toBe("0-7\n");
    expect((await converge(irqAffinityModule, args(), host)).changes).toEqual([]);
  });

  test("no NIC found: the task fails naming the selection", async () => {
    await rm(join(dir, "sys/class/net/eth0"));
    await expect(converge(irqAffinityModule, args(), host)).rejects.toThrow(
      "matches the NICs' IRQs (no interface with a device under class/net)",
    );
  });

  test("irq_scope: all moves every movable IRQ; the managed one is recorded, and all restore byte for byte", async () => {
    const before = await hashTree(join(dir, "proc"));
    const r = await converge(irqAffinityModule, args({ irq_scope: "all" }), host);
    // the save, then one write per IRQ
    expect(r.changes).toHaveLength(FIXTURE_IRQS.length + 1);
    expect(r.result?.unchangeable).toEqual(["IRQ 28 (nvme0q0)"]);
    for (const i of FIXTURE_IRQS.filter((x) => !x.managed)) expect(await list(i.irq)).toBe("0-3,5-7\n");
    const back = await restore();
    expect(back.result).toMatchObject({ already_clean: ["IRQ 28 (nvme0q0)"], not_restored: [] });
    expect(back.result?.restored).toHaveLength(FIXTURE_IRQS.length - 1);
    expect(await hashTree(join(dir, "proc"))).toEqual(before);
  });

  test("restore by number AND name: a vanished IRQ and a renamed one are reported, not written; the rest is restored; the task fails", async () => {
    await converge(irqAffinityModule, args(), host);
    await writeFile(join(dir, "proc/irq/24/smp_affinity_list"), "0-7\n"); // already back by hand
    await exec("rm", ["-r", join(dir, "proc/irq/25")]);
    const interrupts = join(dir, "proc/interrupts");
    await writeFile(interrupts, (await readFile(interrupts, "utf8")).replace("eth0-TxRx-2", "nvme1q2"));
    const r = await restore();
    expect(r.result?.failed).toBe(true);
    expect(r.result?.restored).toEqual(["IRQ 27 (eth0-TxRx-3)"]);
    expect(r.result?.already_clean).toEqual(["IRQ 24 (eth0-TxRx-0)"]);
    expect(r.result?.not_restored).toEqual([
      { irq: 25, name: "eth0-TxRx-1", reason: "vanished (no such IRQ now)" },
      {
        irq: 26,
        name: "eth0-TxRx-2",
        reason: `its name changed: "eth0-TxRx-2" when saved, "nvme1q2" now (another device's IRQ)`,
      },
    ]);
    expect(r.result?.warnings).toHaveLength(2);
    expect(r.result?.msg).toContain("could not restore IRQ 25 (eth0-TxRx-1): vanished");
    expect(await list(26)).toBe("0-3,5-7\n"); // not written: it is another device's IRQ now
    expect(await list(27)).toBe("0-7\n");
    // the save keeps only what is left to restore
    const save = JSON.parse(await readFile(args().save_file as string, "utf8"));
    expect(save).toMatchObject({ version: 1 });
    expect(Object.keys(save.irqs)).toEqual(["25", "26"]);
  });

  test("the save's version: none = 1; an unknown one is an error naming the file", async () => {
    const file = args().save_file as string;
    await converge(irqAffinityModule, args(), host);
    const save = JSON.parse(await readFile(file, "utf8"));
    delete save.version;
    await writeFile(file, JSON.stringify(save));
    expect((await restore()).result?.failed).toBeUndefined();
    await converge(irqAffinityModule, args(), host);
    await writeFile(file, JSON.stringify({ ...save, version: 7 }));
    await expect(restore()).rejects.toThrow(`${file} has state file version 7`);
  });
});
