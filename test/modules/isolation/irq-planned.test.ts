/**
 * irq_affinity in a check run reads the affinities earlier tasks planned (irq-proc.ts
 * withPlannedAffinities over HostReader.plannedAt), on the fixture /proc tree the module takes as
 * `proc_root`: a second task on the same IRQs plans nothing (through the list file, and through the
 * mask of an IRQ without one); the save of the originals is a planned file too, which a restore
 * later in the run reads; and check mode predicts the real run (predicts.ts).
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { byStatus, hashTree, localInventory, removeDir, run, tempDir } from "../../e2e/helpers.js";
import { expectCheckPredicts } from "../../e2e/predicts.js";
import { writeIrqFixture } from "../../lab/irq-fixture.js";

const ARGS = `proc_root: "{{ root }}/proc", name_regex: "^eth0-TxRx-[01]$", cpus: "0-3", default_smp_affinity: "0-3", save_file: "{{ root }}/irq.json", irqbalance_config: "{{ root }}/irqbalance"`;
const MASK = `proc_root: "{{ root }}/proc", irqs: [26], cpus: "1", save_file: "{{ root }}/irq.json", irqbalance_config: "{{ root }}/irqbalance"`;
const PLAY = `- hosts: all
  gather_facts: false
  tasks:
    - name: move two queues
      irq_affinity: { ${ARGS} }
    - name: the same again
      irq_affinity: { ${ARGS} }
      register: again
    - name: what the second task read
      debug: { msg: "{{ again.irqs | map(attribute='affinity') | join(' ') }}" }
    - name: a queue by its mask
      irq_affinity: { ${MASK} }
    - name: the mask again
      irq_affinity: { ${MASK} }
    - name: give back the originals
      irq_affinity: { state: restored, proc_root: "{{ root }}/proc", save_file: "{{ root }}/irq.json", irqbalance_config: "{{ root }}/irqbalance" }
`;

let base: string;
let root: string;
beforeAll(async () => {
  base = await tempDir("tickless-irq-planned-");
  root = path.join(base, "h1");
  await writeIrqFixture(path.join(root, "proc"));
  // IRQ 26 without its list file: the module writes the mask (older kernels)
  const { rm } = await import("node:fs/promises");
  await rm(path.join(root, "proc/irq/26/smp_affinity_list"));
  await writeFile(path.join(base, "inventory.yml"), localInventory(base, ["h1"]));
  await writeFile(path.join(base, "play.yml"), PLAY);
});
afterAll(async () => {
  if (base) await removeDir(base);
});

const play = (check: boolean) =>
  run({
    playbook: path.join(base, "play.yml"),
    inventory: path.join(base, "inventory.yml"),
    check,
    diff: true,
  });

describe("irq_affinity reads the affinities a check run planned", () => {
  test("the second task on the same IRQs plans nothing; check mode predicts the run", async () => {
    const { check, real } = await expectCheckPredicts({
      check: () => play(true),
      real: () => play(false),
      snapshot: () => hashTree(root),
      hosts: ["h1"],
      read: async (_h, p) => readFile(p, "utf8").catch(() => undefined),
    });
    expect(byStatus(check, "changed")).toEqual([
      "h1:move two queues",
      "h1:a queue by its mask",
      "h1:give back the originals",
    ]);
    const read = (r: typeof check) =>
      r.results.find((e) => e.task === "what the second task read")?.result.msg;
    expect(read(check)).toBe("0-3 0-3");
    expect(read(real)).toBe("0-3 0-3");
    const targets = check.results
      .filter((e) => e.status === "changed")
      .flatMap((e) =>
        (e.result.changes ?? []).map((c) => `${c.target.slice(root.length)} ${c.after?.trim()}`),
      );
    const saved = (irqs: Record<string, [string, string, string]>, dflt?: string) =>
      `/irq.json ${JSON.stringify(
        {
          version: 1,
          irqs: Object.fromEntries(
            Object.entries(irqs).map(([n, [name, list, mask]]) => [
              n,
              { name, smp_affinity_list: list, smp_affinity: mask },
            ]),
          ),
          unchangeable: {},
          ...(dflt ? { default_smp_affinity: dflt } : {}),
        },
        null,
        2,
      )}`;
    const two: Record<string, [string, string, string]> = {
      "24": ["eth0-TxRx-0", "0-7", "ff"],
      "25": ["eth0-TxRx-1", "0-7", "ff"],
    };
    expect(targets).toEqual([
      saved(two, "ff"),
      "/proc/irq/24/smp_affinity_list 0-3",
      "/proc/irq/25/smp_affinity_list 0-3",
      "/proc/irq/default_smp_affinity 0f",
      // the second save adds IRQ 26 to the planned one (its diff is against those bytes)
      saved({ ...two, "26": ["eth0-TxRx-2", "", "ff"] }, "ff"),
      "/proc/irq/26/smp_affinity 02",
      // the restore reads the planned save: every original back, then the save removed
      "/proc/irq/24/smp_affinity_list 0-7",
      "/proc/irq/25/smp_affinity_list 0-7",
      "/proc/irq/26/smp_affinity ff",
      "/proc/irq/default_smp_affinity ff",
      "/irq.json undefined",
    ]);
    const saves = check.results.flatMap((e) =>
      (e.result.changes ?? []).filter((c) => c.target.endsWith("/irq.json")),
    );
    expect(saves[1].before).toBe(saves[0].after);
    expect(saves[2]).toMatchObject({
      summary: "remove the saved IRQ state (restored)",
      before: saves[1].after,
    });
    // the run ends where it began
    expect(await readFile(path.join(root, "irq.json"), "utf8").catch(() => "absent")).toBe("absent");
  });
});
