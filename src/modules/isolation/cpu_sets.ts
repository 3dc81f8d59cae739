/**
 * `cpu_sets`: the isolation preflight. Checks the isolated and housekeeping CPU lists against the
 * host before anything is changed, and sets the fact `housekeeping_cpus`:
 * - every list parses as a kernel cpulist (a bad token such as `4-`, `a`, `7-4`, `4,,5` is named);
 * - at least one CPU is isolated, and CPU 0 is not (the boot CPU: nohz_full cannot take it);
 * - every CPU of both lists is online (`<sys_root>/devices/system/cpu/online`): `CPUAffinity=9`
 *   on an 8-CPU host makes a unit systemd cannot start;
 * - the lists do not overlap and at least one housekeeping CPU remains (default: online − isolated);
 * - SMT: an isolated CPU whose hyperthread sibling (`cpuN/topology/thread_siblings_list`) stays a
 *   housekeeping CPU shares its core with housekeeping work: a warning, a failure with
 *   `require_idle_sibling: true`.
 * - NUMA: each NIC's node (`class/net/<nic>/device/numa_node`; `nics`, default every NIC with a
 *   device) and each isolated CPU's (`cpuN/nodeM`, else `devices/system/node/nodeM/cpulist`),
 *   reported as `numa`; an isolated CPU on another node than a NIC is a warning (its packets
 *   cross the interconnect), never a failure. A node the kernel does not know (-1) is left out.
 * Reads the host in one command; changes nothing.
 */
import { quote } from "shell-quote";
import { TicklessError } from "../../errors.js";
import type { ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { formatCpuList, parseCpuList } from "./cpus.js";

type CpuList = string | number | number[];

export interface CpuSetsArgs {
  isolated: CpuList;
  /** "" or absent: every online CPU that is not isolated. */
  housekeeping?: CpuList | null;
  sys_root?: string;
  require_idle_sibling?: boolean;
  /** The NICs whose NUMA node the isolated CPUs should share; absent or empty: every NIC with a device. */
  nics?: string[];
  /** The lists' names in messages (default isolated_cpus, housekeeping_cpus): the playbook's variables. */
  isolated_name?: string;
  housekeeping_name?: string;
  /** Set the fact housekeeping_cpus (default true; false where the lists are not isolation's). */
  set_fact?: boolean;
}

/** What the host says: the online list and each isolated CPU's thread siblings ("" when unknown). */
export interface CpuTopology {
  online: string;
  siblings: Record<number, string>;
  /** Each isolated CPU's NUMA node, and each NIC's (with a device), where sysfs says. */
  numa?: NumaTopology;
}

export interface NumaTopology {
  cpus: Record<number, number>;
  nics: Record<string, number>;
}

export interface CpuSetsOutcome {
  isolated: number[];
  housekeeping: number[];
  problems: string[];
  warnings: string[];
  /** Isolated CPUs on another node than a NIC: warnings only (require_idle_sibling leaves them). */
  numaWarnings: string[];
}

/** A CPU list, or the reason it is not one (naming the token). */
function parse(what: string, list: CpuList): number[] | string {
  try {
    return parseCpuList(list);
  } catch (err) {
    return `${what}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

const plural = (cpus: number[]) => `CPU${cpus.length > 1 ? "s" : ""} ${formatCpuList(cpus)}`;

/** Pure: the checks above against a topology. */
export function checkCpuSets(args: CpuSetsArgs, topo: CpuTopology): CpuSetsOutcome {
  const iso = args.isolated_name ?? "isolated_cpus";
  const hk = args.housekeeping_name ?? "housekeeping_cpus";
  const problems: string[] = [];
  const warnings: string[] = [];
  const online = parse("the host's online CPUs", topo.online);
  const isolated = parse(iso, args.isolated);
  const given = args.housekeeping === undefined || args.housekeeping === null || args.housekeeping === "";
  const housekeepingArg = given ? undefined : parse(hk, args.housekeeping as CpuList);
  for (const r of [online, isolated, housekeepingArg]) if (typeof r === "string") problems.push(r);
  if (typeof online === "string" || typeof isolated === "string" || typeof housekeepingArg === "string") {
    return { isolated: [], housekeeping: [], problems, warnings, numaWarnings: [] };
  }
  if (online.length === 0) problems.push("the host's online CPU list is empty");
  if (typeof args.isolated === "string" && /\s/.test(args.isolated.trim())) {
    problems.push(
      `${iso} ${JSON.stringify(args.isolated)} has whitespace: the kernel splits its command line on it (write 4-7,9)`,
    );
  }
  if (isolated.length === 0) problems.push(`${iso} ${JSON.stringify(args.isolated)} names no CPU`);
  if (isolated.includes(0)) {
    problems.push(
      `${iso} ${JSON.stringify(String(args.isolated))} includes CPU 0, the boot CPU: nohz_full cannot take it and the kernel needs it for housekeeping`,
    );
  }
  const offline = isolated.filter((c) => !online.includes(c));
  if (offline.length) {
    problems.push(`${iso}: ${plural(offline)} not online on this host (online: ${topo.online.trim()})`);
  }
  const housekeeping = housekeepingArg ?? online.filter((c) => !isolated.includes(c));
  if (housekeepingArg) {
    const off = housekeepingArg.filter((c) => !online.includes(c));
    if (off.length)
      problems.push(`${hk}: ${plural(off)} not online on this host (online: ${topo.online.trim()})`);
    const both = housekeepingArg.filter((c) => isolated.includes(c));
    if (both.length) problems.push(`${plural(both)} both isolated and housekeeping`);
  }
  if (housekeeping.filter((c) => online.includes(c) && !isolated.includes(c)).length === 0) {
    problems.push(
      `no housekeeping CPU would remain (online: ${topo.online.trim()}, isolated: ${formatCpuList(isolated)})`,
    );
  }
  for (const cpu of isolated) {
    const text = topo.siblings[cpu] ?? "";
    const siblings = text.trim() === "" ? [] : parse("thread_siblings_list", text);
    if (typeof siblings === "string") continue;
    const busy = siblings.filter((s) => s !== cpu && !isolated.includes(s));
    if (busy.length) {
      warnings.push(
        `CPU ${cpu}'s hyperthread sibling ${plural(busy)} stays a housekeeping CPU: it shares CPU ${cpu}'s core (caches, execution units); isolate the sibling too or disable SMT`,
      );
    }
  }
  return {
    isolated,
    housekeeping,
    problems,
    warnings,
    numaWarnings: numaWarnings(isolated, topo.numa, args.nics),
  };
}

/** Pure: an isolated CPU whose node is not a NIC's, named with both nodes (and the NIC). */
export function numaWarnings(isolated: number[], numa: NumaTopology | undefined, only?: string[]): string[] {
  if (!numa) return [];
  const nics = Object.entries(numa.nics).filter(([n]) => !only?.length || only.includes(n));
  const out: string[] = [];
  for (const [nic, node] of nics) {
    const away = isolated.filter((c) => numa.cpus[c] !== undefined && numa.cpus[c] !== node);
    if (away.length === 0) continue;
    const nodes = [...new Set(away.map((c) => numa.cpus[c]))].join(", ");
    out.push(
      `${plural(away)} on NUMA node ${nodes}, ${nic} on node ${node}: its packets and their memory cross the interconnect to reach ${away.length > 1 ? "them" : "it"}; isolate CPUs of node ${node} (cat /sys/devices/system/node/node${node}/cpulist)`,
    );
  }
  return out;
}

/**
 * One command: the online list, then each CPU's thread siblings after an `@N` line; after `@@numa`,
 * `cpu C N` (the cpuC/nodeN link), `node N <cpulist>` and `nic NAME <numa_node>` lines.
 */
function topologyScript(sysRoot: string, cpus: number[]): string {
  const root = sysRoot.replace(/\/+$/, "");
  const dir = quote([`${root}/devices/system/cpu`]);
  const nodes = quote([`${root}/devices/system/node`]);
  const net = quote([`${root}/class/net`]);
  return [
    `cat ${dir}/online || exit 3`,
    `for c in ${cpus.join(" ")}; do echo "@$c"; cat ${dir}/cpu$c/topology/thread_siblings_list 2>/dev/null; done`,
    "echo @@numa",
    `for c in ${cpus.join(" ")}; do for n in ${dir}/cpu$c/node[0-9]*; do [ -e "$n" ] && echo "cpu $c \${n##*/node}"; done; done`,
    `for n in ${nodes}/node[0-9]*; do [ -r "$n/cpulist" ] && echo "node \${n##*/node} $(cat "$n/cpulist")"; done`,
    `for d in ${net}/*; do [ -e "$d/device" ] && echo "nic \${d##*/} $(cat "$d/device/numa_node" 2>/dev/null)"; done`,
    "true",
  ].join("\n");
}

export function parseTopology(stdout: string): CpuTopology {
  const [cpuPart, numaPart] = stdout.split(/^@@numa$/m);
  const [online, ...rest] = cpuPart.split("\n@");
  const siblings: Record<number, string> = {};
  for (const block of rest) {
    const [n, ...lines] = block.split("\n");
    siblings[Number(n)] = lines.join("\n").trim();
  }
  if (numaPart === undefined) return { online: online.trim(), siblings };
  return { online: online.trim(), siblings, numa: parseNuma(numaPart, Object.keys(siblings).map(Number)) };
}

/** The `@@numa` lines: a CPU's node from its link, else from the node whose cpulist holds it. */
function parseNuma(text: string, cpus: number[]): NumaTopology {
  const numa: NumaTopology = { cpus: {}, nics: {} };
  const byList: [number, number[]][] = [];
  for (const line of text.split("\n")) {
    const [kind, a, b = ""] = line.trim().split(/\s+/);
    if (kind === "cpu" && /^\d+$/.test(b)) numa.cpus[Number(a)] = Number(b);
    else if (kind === "node" && b !== "") {
      const list = parse("node cpulist", b);
      if (typeof list !== "string") byList.push([Number(a), list]);
    } else if (kind === "nic" && /^\d+$/.test(b)) numa.nics[a] = Number(b);
  }
  for (const c of cpus) {
    if (numa.cpus[c] !== undefined) continue;
    const node = byList.find(([, list]) => list.includes(c));
    if (node) numa.cpus[c] = node[0];
  }
  return numa;
}

export const cpuSetsModule = defineModule<CpuSetsArgs>({
  name: "cpu_sets",
  kind: "action",
  description:
    "Check isolated/housekeeping CPU lists against the host (online, CPU 0, overlap, SMT siblings, the NIC's NUMA node); set housekeeping_cpus.",
  args: {
    type: "object",
    properties: {
      isolated: {
        anyOf: [{ type: "string" }, { type: "integer" }, { type: "array", items: { type: "integer" } }],
      },
      housekeeping: {
        anyOf: [
          { type: "string" },
          { type: "integer" },
          { type: "array", items: { type: "integer" } },
          { type: "null" },
        ],
      },
      sys_root: { type: "string", pattern: "^/" },
      require_idle_sibling: { type: "boolean" },
      nics: { type: "array", items: { type: "string", minLength: 1 } },
      isolated_name: { type: "string", minLength: 1 },
      housekeeping_name: { type: "string", minLength: 1 },
      set_fact: { type: "boolean" },
    },
    required: ["isolated"],
    additionalProperties: false,
  },
  async run(args, _ctx, host): Promise<ModuleResult> {
    const sysRoot = args.sys_root ?? "/sys";
    const isolated = parse("isolated_cpus", args.isolated);
    const res = await host.run(topologyScript(sysRoot, typeof isolated === "string" ? [] : isolated));
    if (res.rc !== 0) {
      throw new TicklessError(
        "TASK",
        `cannot read ${sysRoot}/devices/system/cpu/online on ${host.name} (rc ${res.rc}): ${res.stderr.trim()}`,
        { hint: "sys_root must hold the kernel's devices/system/cpu (a fixture's too)" },
      );
    }
    const topo = parseTopology(res.stdout);
    const out = checkCpuSets(args, topo);
    const strict = args.require_idle_sibling === true;
    const problems = [...out.problems, ...(strict ? out.warnings : [])];
    const warnings = [...(strict ? [] : out.warnings), ...out.numaWarnings];
    const result = {
      online: topo.online,
      isolated: formatCpuList(out.isolated),
      housekeeping: formatCpuList(out.housekeeping),
      numa: topo.numa ?? { cpus: {}, nics: {} },
      warnings,
      problems,
    };
    if (problems.length) return { ...result, failed: true, msg: problems.join("\n") };
    return {
      ...result,
      msg: warnings.length
        ? warnings.map((w) => `WARNING: ${w}`).join("\n")
        : `isolated ${result.isolated}, housekeeping ${result.housekeeping} (online ${topo.online})`,
      ...(args.set_fact === false ? {} : { facts: { housekeeping_cpus: result.housekeeping } }),
    };
  },
});
