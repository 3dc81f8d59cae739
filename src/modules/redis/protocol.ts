/**
 * The A/B measurement protocol's pure parts: the order of the interleaved blocks (one baseline
 * run and one candidate run each, which first drawn from a seeded generator) and the CPU the load
 * generator runs on (a housekeeping CPU other than CPU 0, on the isolated CPU's NUMA node, from the
 * gathered facts).
 */
import { TicklessError } from "../../errors.js";
import { mulberry32 } from "../../stats/random.js";

export type Side = "baseline" | "candidate";

/** `blocks` pairs, each "baseline then candidate" or the reverse, the same for the same seed. */
export function blockOrder(blocks: number, seed: number): Array<[Side, Side]> {
  const rng = mulberry32(seed);
  return Array.from({ length: blocks }, () =>
    rng() < 0.5 ? ["baseline", "candidate"] : ["candidate", "baseline"],
  );
}

export interface CpuChoice {
  cpu: number;
  why: string;
}

const list = (v: unknown): number[] =>
  Array.isArray(v) ? v.filter((c): c is number => Number.isInteger(c)) : [];

/** The NUMA node holding `cpu` (the `numa_nodes` fact), or undefined when the facts do not say. */
function nodeOf(f: Record<string, unknown>, cpu: number): string | undefined {
  const nodes = (f.numa_nodes ?? {}) as Record<string, unknown>;
  return Object.keys(nodes).find((n) => list(nodes[n]).includes(cpu));
}

/**
 * The load generator's CPU: a housekeeping CPU (online, neither isolated nor nohz_full) other than
 * CPU 0, which carries most of the kernel's housekeeping (timers, RCU, unpinned IRQs), on the NUMA
 * node of the first isolated CPU (where Redis runs: the request then stays on one node) — the
 * highest such one; a housekeeping CPU of another node (other than CPU 0) when that node has none;
 * CPU 0 only when it is the only housekeeping CPU.
 */
export function loadgenCpu(facts: unknown): CpuChoice {
  const f = (facts ?? {}) as Record<string, unknown>;
  const online = list(f.cpus_online_list);
  if (online.length === 0) {
    throw new TicklessError("MODULE_ARGS", "cpu: auto needs the host's facts (cpus_online_list)", {
      hint: "gather facts in the play (gather_facts: true), or give the load generator's CPU (cpu: 3)",
    });
  }
  const isolated = list(f.cpus_isolated_list).sort((a, b) => a - b);
  const reserved = new Set([...isolated, ...list(f.cpus_nohz_full_list)]);
  const housekeeping = online.filter((c) => !reserved.has(c)).sort((a, b) => a - b);
  const others = housekeeping.filter((c) => c !== 0);
  const node = isolated.length > 0 ? nodeOf(f, isolated[0]) : undefined;
  if (node !== undefined) {
    const near = others.filter((c) => nodeOf(f, c) === node);
    if (near.length > 0) {
      const cpu = near[near.length - 1];
      return {
        cpu,
        why: `housekeeping CPU ${cpu}, the highest of ${housekeeping.join(",")} other than CPU 0 on NUMA node ${node} (isolated CPU ${isolated[0]}'s)`,
      };
    }
  }
  if (others.length > 0) {
    const cpu = others[others.length - 1];
    const far = node === undefined ? "" : `; NUMA node ${node} (isolated CPU ${isolated[0]}'s) has none`;
    return {
      cpu,
      why: `housekeeping CPU ${cpu}, the highest of ${housekeeping.join(",")} other than CPU 0${far}`,
    };
  }
  if (housekeeping.length > 0) return { cpu: 0, why: "CPU 0, the only housekeeping CPU" };
  throw new TicklessError("TASK", "no housekeeping CPU: every online CPU is isolated or nohz_full", {
    hint: "give the load generator's CPU (cpu: N)",
  });
}
