import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import {
  affinityHolds,
  type IrqAffinityArgs,
  type IrqAffinityState,
  irqAffinityModule,
  planIrqAffinity,
  type SelectedIrq,
  selectIrqs,
  setBannedCpulist,
} from "../../../src/modules/isolation/irq_affinity.js";
import { errnoText, isUnchangeable, parseReadScript } from "../../../src/modules/isolation/irq-proc.js";
import { validateModuleArgs } from "../../../src/playbook/index.js";
import { hashTree } from "../../e2e/helpers.js";
import { writeIrqFixture } from "../../lab/irq-fixture.js";
import { checkPlan, converge, scratchDir } from "../harness.js";

const exec = promisify(execFile);

function irq(n: number, name: string, list = "0-7", mask = "ff", effective = "0"): SelectedIrq {
  return { irq: n, name, smp_affinity_list: list, smp_affinity: mask, effective_affinity_list: effective };
}

const ALL = [irq(0, "timer"), irq(24, "eth0-TxRx-0"), irq(25, "eth0-TxRx-1"), irq(28, "nvme0q0")];

function state(over: Partial<IrqAffinityState> = {}): IrqAffinityState {
  return {
    procRoot: "/proc",
    selected: ALL.slice(1, 3),
    all: ALL,
    defaultAffinity: "ff",
    save: { path: "/var/lib/tickless/irq-affinity.json" },
    irqbalance: { path: "/etc/default/irqbalance", exists: false, content: "" },
    ...over,
  };
}

/** The plan without the save of the originals (its own tests below). */
const writes = (args: IrqAffinityArgs, s: IrqAffinityState) =>
  planIrqAffinity(args, s).filter((c) => c.target !== s.save.path);

describe("plan", () => {
  test("moves each selected IRQ through smp_affinity_list, with a one-line summary", () => {
    const changes = writes({ name_regex: "^eth0-", cpus: "0-3,5-7" }, state());
    expect(changes.map((c) => [c.target, c.summary, c.after])).toEqual([
      ["/proc/irq/24/smp_affinity_list", "IRQ 24 (eth0-TxRx-0): 0-7 → 0-3,5-7", "0-3,5-7\n"],
      ["/proc/irq/25/smp_affinity_list", "IRQ 25 (eth0-TxRx-1): 0-7 → 0-3,5-7", "0-3,5-7\n"],
    ]);
  });

  test("falls back to the smp_affinity mask when the list file is missing (width kept)", () => {
    const old = [irq(24, "eth0", "", "00000000,000000ff")];
    const [c] = writes({ irqs: [24], cpus: [0, 1, 2, 3] }, state({ selected: old, all: old }));
    expect(c).toMatchObject({ target: "/proc/irq/24/smp_affinity", after: "00000000,0000000f\n" });
  });

  test("converged IRQs, and unchangeable ones under managed: skip, plan nothing", () => {
    const done = [irq(24, "eth0-TxRx-0", "0-3,5-7"), irq(28, "nvme0q0")];
    const save = { version: 1 as const, irqs: {}, unchangeable: { "28": "nvme0q0: Input/output error" } };
    const s = state({ selected: done, save: { path: "/s.json", data: save } });
    expect(planIrqAffinity({ irqs: [24, 28], cpus: "0-3,5-7", managed: "skip" }, s)).toEqual([]);
    expect(planIrqAffinity({ irqs: [24, 28], cpus: "0-3,5-7" }, s).map((c) => c.target)).toEqual([
      "/s.json",
      "/proc/irq/28/smp_affinity_list",
    ]);
  });

  test("cpus_match: within leaves an IRQ on a non-empty subset of the list; anything else gets the full list", () => {
    const irqs = [
      irq(24, "eth0-TxRx-0", "6", "40"),
      irq(25, "eth0-TxRx-1", "1-2,5", "26"),
      irq(26, "eth0-TxRx-2", "3-4", "18"),
      irq(27, "eth0-TxRx-3", "", ""),
      irq(29, "eth0-TxRx-5", "", "00000000,00000080"),
    ];
    const s = state({ selected: irqs, all: irqs });
    const within = writes({ name_regex: "^eth0-", cpus: "0-3,5-7", cpus_match: "within" }, s);
    expect(within.map((c) => c.summary)).toEqual([
      "IRQ 26 (eth0-TxRx-2): 3-4 → 0-3,5-7",
      "IRQ 27 (eth0-TxRx-3):  → 0-3,5-7",
    ]);
    // exact (the default) moves every IRQ whose list is not the list itself
    const exact = writes({ name_regex: "^eth0-", cpus: "0-3,5-7" }, s);
    expect(exact.map((c) => c.target)).toEqual(irqs.map((i) => expect.stringContaining(`/irq/${i.irq}/`)));
    expect(
      writes({ name_regex: "^eth0-", cpus: "0-3,5-7", cpus_match: "exact" }, s).map((c) => c.target),
    ).toEqual(exact.map((c) => c.target));
    expect(affinityHolds([6], [0, 1, 2, 3, 5, 6, 7], "within")).toBe(true);
    expect(affinityHolds([], [0, 1], "within")).toBe(false);
    expect(affinityHolds([0, 1], [0, 1], "exact")).toBe(true);
    expect(affinityHolds([1], [0, 1], "exact")).toBe(false);
  });

  test("cpus_match is checked against its schema", () => {
    const where = { file: "p.yml", line: 1, column: 1 };
    expect(() =>
      validateModuleArgs(irqAffinityModule, { irqs: [24], cpus: "0-3", cpus_match: "within" }, where),
    ).not.toThrow();
    expect(() =>
      validateModuleArgs(irqAffinityModule, { irqs: [24], cpus: "0-3", cpus_match: "subset" }, where),
    ).toThrow(/cpus_match/);
  });

  test("default_smp_affinity and irqbalance's banned list", () => {
    const changes = writes(
      { default_smp_affinity: "0-3,5-7", irqbalance_banned_cpus: 4 },
      state({ selected: [] }),
    );
    expect(changes.map((c) => [c.target, c.after])).toEqual([
      ["/proc/irq/default_smp_affinity", "ef\n"],
      ["/etc/default/irqbalance", "IRQBALANCE_BANNED_CPULIST=4\n"],
    ]);
  });

  test("the originals are saved first, as written (0600): an existing save is only added to; nothing new to save, no change", () => {
    const args = { name_regex: "^eth0-", cpus: "0-3,5-7", default_smp_affinity: "0-3,5-7" };
    const [first] = planIrqAffinity(args, state());
    expect(first).toMatchObject({
      target: "/var/lib/tickless/irq-affinity.json",
      summary: "save the originals of IRQ 24 (eth0-TxRx-0), IRQ 25 (eth0-TxRx-1), default_smp_affinity",
      effect: { type: "file", mode: "0600" },
    });
    expect(first.before).toBeUndefined();
    expect(JSON.parse(first.after ?? "")).toEqual({
      version: 1,
      irqs: {
        "24": { name: "eth0-TxRx-0", smp_affinity_list: "0-7", smp_affinity: "ff" },
        "25": { name: "eth0-TxRx-1", smp_affinity_list: "0-7", smp_affinity: "ff" },
      },
      unchangeable: {},
      default_smp_affinity: "ff",
    });
    // IRQ 25 moved back by hand after a run: its original is kept, nothing else is saved again
    const saved = JSON.parse(first.after ?? "");
    const moved = [irq(24, "eth0-TxRx-0", "0-3,5-7"), irq(25, "eth0-TxRx-1", "0-7")];
    const again = state({
      selected: moved,
      all: moved,
      defaultAffinity: "ef",
      save: { path: "/s.json", data: saved, text: first.after },
    });
    expect(planIrqAffinity(args, again).map((c) => c.target)).toEqual(["/proc/irq/25/smp_affinity_list"]);
    // a new IRQ: added to the save, the diff from its bytes
    const more = [...moved, irq(26, "eth0-TxRx-2", "0-7")];
    const [added] = planIrqAffinity(args, { ...again, selected: more, all: more });
    expect(added.summary).toBe("save the originals of IRQ 26 (eth0-TxRx-2)");
    expect(added.before).toBe(first.after);
    expect(Object.keys(JSON.parse(added.after ?? "").irqs)).toEqual(["24", "25", "26"]);
  });

  test("restore: saved values back, irqbalance config removed when it did not exist, then the save", () => {
    const save = {
      version: 1 as const,
      irqs: { "24": { name: "eth0-TxRx-0", smp_affinity_list: "0-7", smp_affinity: "ff" } },
      default_smp_affinity: "ff",
      irqbalance_config: { exists: false, content: "" },
      unchangeable: {},
    };
    const s = state({
      all: [irq(24, "eth0-TxRx-0", "0-3,5-7")],
      defaultAffinity: "ef",
      save: { path: "/s.json", data: save },
      irqbalance: { path: "/etc/default/irqbalance", exists: true, content: "IRQBALANCE_BANNED_CPULIST=4\n" },
    });
    expect(planIrqAffinity({ state: "restored" }, s).map((c) => `${c.target}|${c.after ?? ""}`)).toEqual([
      "/proc/irq/24/smp_affinity_list|0-7\n",
      "/proc/irq/default_smp_affinity|ff\n",
      "/etc/default/irqbalance|",
      "/s.json|",
    ]);
    expect(planIrqAffinity({ state: "restored" }, state())).toEqual([]);
  });

  test("helpers", () => {
    expect(selectIrqs({ irqs: [0], name_regex: "TxRx-1$" }, ALL).map((i) => i.irq)).toEqual([0, 25]);
    expect(
      setBannedCpulist('A=1\nIRQBALANCE_BANNED_CPULIST="2"\nIRQBALANCE_BANNED_CPULIST=3\n', [4, 5]),
    ).toBe("A=1\nIRQBALANCE_BANNED_CPULIST=4-5\n");
    expect(errnoText("tee: /proc/irq/28/smp_affinity_list: Input/output error")).toBe("Input/output error");
    expect(
      ["Input/output error", "Operation not permitted", "Read-only file system"].every(isUnchangeable),
    ).toBe(true);
    expect(isUnchangeable("Invalid argument")).toBe(false);
    expect(parseReadScript("x\n@@irq 3|0-1|3|1\n@@default ff\n").affinities.get(3)).toEqual({
      irq: 3,
      smp_affinity_list: "0-1",
      smp_affinity: "3",
      effective_affinity_list: "1",
    });
  });
});

describe("on a fixture /proc tree (the lab's) with the local connection", () => {
  const host = new LocalConnection();
  let dir: string;
  let cleanup: () => Promise<void>;
  let managed: string[];
  beforeEach(async () => {
    ({ dir, cleanup } = await scratchDir());
    const fx = await writeIrqFixture(join(dir, "proc"));
    managed = fx.managedAffinityFiles;
    // An immutable file refuses writes even to root with EPERM: what kernels from 6.12 return for a managed IRQ.
    await exec("chattr", ["+i", ...managed]);
  });
  afterEach(async () => {
    await exec("chattr", ["-i", ...managed]);
    await cleanup();
  });

  const args = (over: Partial<IrqAffinityArgs> = {}): IrqAffinityArgs => ({
    name_regex: "^(eth0-TxRx-\\d+|nvme0q0)$",
    cpus: "0-3,5-7",
    default_smp_affinity: "0-3,5-7",
    irqbalance_banned_cpus: "4",
    irqbalance_config: join(dir, "etc/default/irqbalance"),
    save_file: join(dir, "var/lib/tickless/irq-affinity.json"),
    proc_root: join(dir, "proc"),
    ...over,
  });

  test("converges with managed: skip, names the managed IRQ, saves first, is idempotent, restores byte for byte", async () => {
    const before = await hashTree(join(dir, "proc"));
    const first = await converge(irqAffinityModule, args({ managed: "skip" }), host);
    // the save of the originals, then 4 IRQs, default_smp_affinity and irqbalance's config
    expect(first.changes).toHaveLength(8);
    expect(first.replan).toEqual([]);
    expect(first.result?.msg).toContain(
      "IRQ 28 (nvme0q0) is kernel-managed: the kernel refused the affinity write (Operation not permitted)",
    );
    expect(await readFile(join(dir, "proc/irq/24/smp_affinity_list"), "utf8")).toBe("0-3,5-7\n");
    expect(await readFile(join(dir, "proc/irq/default_smp_affinity"), "utf8")).toBe("ef\n");
    expect(await readFile(join(dir, "etc/default/irqbalance"), "utf8")).toBe("IRQBALANCE_BANNED_CPULIST=4\n");
    const save = JSON.parse(await readFile(join(dir, "var/lib/tickless/irq-affinity.json"), "utf8"));
    expect(save.irqs["24"]).toEqual({ name: "eth0-TxRx-0", smp_affinity_list: "0-7", smp_affinity: "ff" });
    expect(save.unchangeable).toEqual({ "28": "nvme0q0: Operation not permitted" });
    // the planned save is what was written, but for the refusal only the write itself learned
    const planned = JSON.parse(first.changes[0].after ?? "");
    expect(save).toEqual({ ...planned, unchangeable: { "28": "nvme0q0: Operation not permitted" } });

    const second = await converge(irqAffinityModule, args({ managed: "skip" }), host);
    expect(second.changes).toEqual([]);
    expect(second.report?.unchangeable).toEqual(["IRQ 28 (nvme0q0: Operation not permitted)"]);

    // A later run with other CPUs must not overwrite the originals in the save.
    await converge(irqAffinityModule, args({ managed: "skip", cpus: "0-2" }), host);
    const again = JSON.parse(await readFile(join(dir, "var/lib/tickless/irq-affinity.json"), "utf8"));
    expect(again.irqs["24"].smp_affinity_list).toBe("0-7");

    const back = await converge(irqAffinityModule, { state: "restored", ...pick(args()) }, host);
    expect(back.replan).toEqual([]);
    expect(await hashTree(join(dir, "proc"))).toEqual(before);
    expect(
      await hashTree(dir).then((t) => Object.keys(t).filter((k) => k.startsWith("etc/default/irqbalance"))),
    ).toEqual([]);
  });

  test("cpus_match: within — an IRQ irqbalance narrowed to a housekeeping CPU is converged (check mode agrees); one on CPU 4 is moved", async () => {
    const within = args({ managed: "skip", cpus_match: "within" });
    await converge(irqAffinityModule, within, host);
    await writeFile(join(dir, "proc/irq/24/smp_affinity_list"), "6\n");
    await writeFile(join(dir, "proc/irq/25/smp_affinity_list"), "4-5\n");
    expect((await checkPlan(irqAffinityModule, within, host)).map((c) => c.summary)).toEqual([
      "IRQ 25 (eth0-TxRx-1): 4-5 → 0-3,5-7",
    ]);
    const r = await converge(irqAffinityModule, within, host);
    expect(r.changes.map((c) => c.summary)).toEqual(["IRQ 25 (eth0-TxRx-1): 4-5 → 0-3,5-7"]);
    expect(r.replan).toEqual([]);
    expect(await readFile(join(dir, "proc/irq/24/smp_affinity_list"), "utf8")).toBe("6\n");
    expect(await readFile(join(dir, "proc/irq/25/smp_affinity_list"), "utf8")).toBe("0-3,5-7\n");
    // only the kernel-managed IRQ stays outside the list
    expect(r.report?.effective_outside).toEqual(["IRQ 28 (nvme0q0): effective 4"]);
    // exact: the narrowed IRQ is not in the desired state
    const exact = await checkPlan(irqAffinityModule, args({ managed: "skip" }), host);
    expect(exact.map((c) => c.summary)).toEqual(["IRQ 24 (eth0-TxRx-0): 6 → 0-3,5-7"]);
  });

  test("managed: fail (the default) fails the task with the IRQ's number and name", async () => {
    const r = await converge(irqAffinityModule, args(), host);
    expect(r.result?.failed).toBe(true);
    expect(r.result?.msg).toMatch(/^IRQ 28 \(nvme0q0\) is kernel-managed: .*Operation not permitted/);
  });
});

function pick(a: IrqAffinityArgs): IrqAffinityArgs {
  return { irqbalance_config: a.irqbalance_config, save_file: a.save_file, proc_root: a.proc_root };
}
