/**
 * irq_affinity in a check run reads the affinities earlier tasks planned (irq-proc.ts
 * withPlannedAffinities over HostReader.plannedAt), on the fixture /proc tree the module takes as
 * `proc_root`: a second task on the same IRQs plans nothing (through the list file, and through the
 * mask of an IRQ without one), and check mode predicts the real run (predicts.ts).
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
    expect(byStatus(check, "changed")).toEqual(["h1:move two queues", "h1:a queue by its mask"]);
    const read = (r: typeof check) =>
      r.results.find((e) => e.task === "what the second task read")?.result.msg;
    expect(read(check)).toBe("0-3 0-3");
    expect(read(real)).toBe("0-3 0-3");
    const targets = check.results
      .filter((e) => e.status === "changed")
      .flatMap((e) =>
        (e.result.changes ?? []).map((c) => `${c.target.slice(root.length)} ${c.after?.trim()}`),
      );
    expect(targets).toEqual([
      "/proc/irq/24/smp_affinity_list 0-3",
      "/proc/irq/25/smp_affinity_list 0-3",
      "/proc/irq/default_smp_affinity 0f",
      "/proc/irq/26/smp_affinity 02",
    ]);
  });
});
