import { describe, expect, it } from "vitest";
import { blockOrder, loadgenCpu } from "../../src/modules/redis/protocol.js";

describe("blockOrder", () => {
  it("replays for a seed, mixes both orders, and moves with another seed", () => {
    const a = blockOrder(50, 123);
    expect(blockOrder(50, 123)).toEqual(a);
    expect(a).toHaveLength(50);
    for (const pair of a) expect([...pair].sort()).toEqual(["baseline", "candidate"]);
    const first = a.filter(([s]) => s === "baseline").length;
    expect(first).toBeGreaterThan(15);
    expect(first).toBeLessThan(35);
    expect(blockOrder(50, 124)).not.toEqual(a);
    expect(blockOrder(0, 1)).toEqual([]);
  });
});

const range = (from: number, to?: number) =>
  to === undefined
    ? Array.from({ length: from }, (_, i) => i)
    : Array.from({ length: to - from }, (_, i) => from + i);

describe("loadgenCpu", () => {
  it.each([
    [
      "8 CPUs, 4-7 isolated",
      { cpus_online_list: [0, 1, 2, 3, 4, 5, 6, 7], cpus_isolated_list: [4, 5, 6, 7] },
      3,
    ],
    [
      "isolated and nohz_full differ",
      { cpus_online_list: [0, 1, 2, 3], cpus_isolated_list: [3], cpus_nohz_full_list: [2] },
      1,
    ],
    ["nothing isolated", { cpus_online_list: [0, 1], cpus_isolated_list: [] }, 1],
    ["only CPU 0 housekeeping", { cpus_online_list: [0, 1, 2], cpus_isolated_list: [1, 2] }, 0],
    ["isolated low CPUs", { cpus_online_list: [0, 1, 2, 3, 4, 5], cpus_isolated_list: [1, 2] }, 5],
  ])("%s", (_name, facts, cpu) => {
    expect(loadgenCpu(facts).cpu).toBe(cpu);
  });

  it.each([
    [
      "two nodes, isolated on node 0: node 0's highest, not the machine's",
      {
        cpus_online_list: range(16),
        cpus_isolated_list: [4, 5, 6, 7],
        numa_nodes: { "0": range(8), "1": range(8, 16) },
      },
      3,
      "housekeeping CPU 3, the highest of 0,1,2,3,8,9,10,11,12,13,14,15 other than CPU 0 on NUMA node 0 (isolated CPU 4's)",
    ],
    [
      "two nodes, isolated on node 1",
      {
        cpus_online_list: range(16),
        cpus_isolated_list: [12, 13, 14, 15],
        numa_nodes: { "0": range(8), "1": range(8, 16) },
      },
      11,
      "housekeeping CPU 11, the highest of 0,1,2,3,4,5,6,7,8,9,10,11 other than CPU 0 on NUMA node 1 (isolated CPU 12's)",
    ],
    [
      "the isolated CPU's node has only CPU 0 left: another node's, said so",
      { cpus_online_list: [0, 1, 2, 3], cpus_isolated_list: [1], numa_nodes: { "0": [0, 1], "1": [2, 3] } },
      3,
      "housekeeping CPU 3, the highest of 0,2,3 other than CPU 0; NUMA node 0 (isolated CPU 1's) has none",
    ],
    [
      "one node (this machine's facts): as without NUMA",
      { cpus_online_list: [0, 1, 2, 3], cpus_isolated_list: [2], numa_nodes: { "0": [0, 1, 2, 3] } },
      3,
      "housekeeping CPU 3, the highest of 0,1,3 other than CPU 0 on NUMA node 0 (isolated CPU 2's)",
    ],
  ])("NUMA: %s", (_name, facts, cpu, why) => {
    expect(loadgenCpu(facts)).toEqual({ cpu, why });
  });

  it("says why, and refuses without facts or without a housekeeping CPU", () => {
    expect(loadgenCpu({ cpus_online_list: [0, 1, 2, 3], cpus_isolated_list: [2, 3] }).why).toBe(
      "housekeeping CPU 1, the highest of 0,1 other than CPU 0",
    );
    expect(() => loadgenCpu(undefined)).toThrow(/cpu: auto needs the host's facts/);
    expect(() => loadgenCpu({ cpus_online_list: [0], cpus_isolated_list: [0] })).toThrow(
      /no housekeeping CPU/,
    );
  });
});
