import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import {
  type CpuSetsArgs,
  checkCpuSets,
  cpuSetsModule,
  numaWarnings,
} from "../../../src/modules/isolation/cpu_sets.js";
import { writeNetFixture } from "../../lab/irq-fixture.js";
import { scratchDir, testContext } from "../harness.js";

const EIGHT = { online: "0-7", siblings: {} };

describe("checkCpuSets", () => {
  const refused: [string, CpuSetsArgs, string][] = [
    [
      "a CPU that is not online",
      { isolated: "9" },
      "isolated_cpus: CPU 9 not online on this host (online: 0-7)",
    ],
    ["some not online", { isolated: "6-9" }, "isolated_cpus: CPUs 8-9 not online on this host (online: 0-7)"],
    ["CPU 0 alone", { isolated: "0" }, 'isolated_cpus "0" includes CPU 0, the boot CPU'],
    ["CPU 0 in a range", { isolated: "0-1" }, 'isolated_cpus "0-1" includes CPU 0'],
    ["CPU 0 in a list", { isolated: "0,4" }, 'isolated_cpus "0,4" includes CPU 0'],
    ["CPU 0 as a number", { isolated: 0 }, 'isolated_cpus "0" includes CPU 0'],
    [
      "an open range",
      { isolated: "4-" },
      'isolated_cpus: invalid CPU list "4-": "4-" is neither a CPU nor a range',
    ],
    ["a letter", { isolated: "a" }, 'isolated_cpus: invalid CPU list "a": "a" is neither a CPU nor a range'],
    [
      "a backwards range",
      { isolated: "7-4" },
      'isolated_cpus: invalid CPU list "7-4": range "7-4" runs backwards',
    ],
    ["empty", { isolated: "" }, 'isolated_cpus "" names no CPU'],
    [
      "an empty item",
      { isolated: "4,,5" },
      'isolated_cpus: invalid CPU list "4,,5": an empty item (two commas, or a comma at an end)',
    ],
    ["whitespace", { isolated: "4, 5" }, 'isolated_cpus "4, 5" has whitespace'],
    [
      "every online CPU (CPU 0 offline)",
      { isolated: "1-3", housekeeping: "" },
      "no housekeeping CPU would remain (online: 1-3, isolated: 1-3)",
    ],
    ["overlapping lists", { isolated: "4-5", housekeeping: "0-4" }, "CPU 4 both isolated and housekeeping"],
    [
      "housekeeping offline",
      { isolated: "4", housekeeping: "0-3,12" },
      "housekeeping_cpus: CPU 12 not online",
    ],
    [
      "a bad housekeeping token",
      { isolated: "4", housekeeping: "0-3,x" },
      'housekeeping_cpus: invalid CPU list "0-3,x": "x" is neither',
    ],
  ];
  test.each(refused)("refused: %s", (_name, args, message) => {
    const out = checkCpuSets(args, _name.includes("CPU 0 offline") ? { online: "1-3", siblings: {} } : EIGHT);
    expect(out.problems.join("\n")).toContain(message);
  });

  test("accepted: housekeeping defaults to the online CPUs minus the isolated ones", () => {
    expect(checkCpuSets({ isolated: "4" }, EIGHT)).toEqual({
      isolated: [4],
      housekeeping: [0, 1, 2, 3, 5, 6, 7],
      problems: [],
      warnings: [],
      numaWarnings: [],
    });
    expect(
      checkCpuSets({ isolated: [2, 3], housekeeping: "0-1" }, { online: "0-3", siblings: {} }).problems,
    ).toEqual([]);
    // offline CPUs are not housekeeping either
    expect(checkCpuSets({ isolated: "2" }, { online: "0-2,4", siblings: {} }).housekeeping).toEqual([
      0, 1, 4,
    ]);
  });

  test("SMT: a sibling left to housekeeping is a warning; isolating both siblings is not", () => {
    const topo = { online: "0-7", siblings: { 3: "3,7", 7: "3,7" } };
    expect(checkCpuSets({ isolated: "3" }, topo).warnings).toEqual([
      "CPU 3's hyperthread sibling CPU 7 stays a housekeeping CPU: it shares CPU 3's core (caches, execution units); isolate the sibling too or disable SMT",
    ]);
    expect(checkCpuSets({ isolated: "3,7" }, topo).warnings).toEqual([]);
  });
});

describe("NUMA (pure)", () => {
  const numa = { cpus: { 2: 0, 3: 0, 4: 1, 5: 1 }, nics: { eth0: 0, eth1: 1 } };
  test("an isolated CPU on another node than a NIC is a warning naming both nodes; the same node is not", () => {
    expect(numaWarnings([2, 3], numa, ["eth0"])).toEqual([]);
    expect(numaWarnings([4, 5], numa, ["eth0"])).toEqual([
      "CPUs 4-5 on NUMA node 1, eth0 on node 0: its packets and their memory cross the interconnect to reach them; isolate CPUs of node 0 (cat /sys/devices/system/node/node0/cpulist)",
    ]);
    // every NIC by default
    expect(numaWarnings([2], numa)).toEqual([
      "CPU 2 on NUMA node 0, eth1 on node 1: its packets and their memory cross the interconnect to reach it; isolate CPUs of node 1 (cat /sys/devices/system/node/node1/cpulist)",
    ]);
    // a CPU whose node is unknown is not guessed
    expect(numaWarnings([7], numa)).toEqual([]);
    expect(numaWarnings([4], undefined)).toEqual([]);
  });

  test("the NUMA warning is never a failure, even with require_idle_sibling", () => {
    const out = checkCpuSets(
      { isolated: "4", require_idle_sibling: true },
      { online: "0-7", siblings: {}, numa: { cpus: { 4: 1 }, nics: { eth0: 0 } } },
    );
    expect(out.problems).toEqual([]);
    expect(out.numaWarnings).toHaveLength(1);
  });
});

describe("on a fixture sys_root with the local connection", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const host = new LocalConnection();
  beforeEach(async () => {
    ({ dir, cleanup } = await scratchDir());
    const cpu = join(dir, "devices/system/cpu");
    await mkdir(cpu, { recursive: true });
    await writeFile(join(cpu, "online"), "0-7\n");
    for (let c = 0; c < 8; c++) {
      await mkdir(join(cpu, `cpu${c}/topology`), { recursive: true });
      await writeFile(join(cpu, `cpu${c}/topology/thread_siblings_list`), `${c % 4},${(c % 4) + 4}\n`);
    }
  });
  afterEach(() => cleanup());
  const run = (args: Partial<CpuSetsArgs>) =>
    cpuSetsModule.run({ isolated: "4", sys_root: dir, ...args }, testContext(), host);

  test("sets housekeeping_cpus; warns about the sibling; require_idle_sibling makes it a failure", async () => {
    const ok = await run({});
    expect(ok.failed).toBeUndefined();
    expect(ok.facts).toEqual({ housekeeping_cpus: "0-3,5-7" });
    expect(ok.msg).toBe(
      "WARNING: CPU 4's hyperthread sibling CPU 0 stays a housekeeping CPU: it shares CPU 4's core (caches, execution units); isolate the sibling too or disable SMT",
    );
    const strict = await run({ require_idle_sibling: true });
    expect(strict.failed).toBe(true);
    expect(strict.facts).toBeUndefined();
    const pair = await run({ isolated: "3,7", require_idle_sibling: true });
    expect(pair.failed).toBeUndefined();
    expect(pair.facts).toEqual({ housekeeping_cpus: "0-2,4-6" });
  });

  test("NUMA on the real sysfs layout: the NIC's device/numa_node, cpuN/nodeM links (or node/nodeM/cpulist); a CPU off the NIC's node is warned about, one on it is not", async () => {
    // two nodes: CPUs 0-3 on node 0, 4-7 on node 1; eth0 on PCI 0000:3b:00.0 on node 0; lo has no device
    await writeNetFixture(dir);
    await writeFile(join(dir, "devices/pci0000:00/0000:3b:00.0/numa_node"), "0\n");
    for (const [node, cpus] of [
      [0, [0, 1, 2, 3]],
      [1, [4, 5, 6, 7]],
    ] as const) {
      await mkdir(join(dir, `devices/system/node/node${node}`), { recursive: true });
      await writeFile(join(dir, `devices/system/node/node${node}/cpulist`), `${cpus[0]}-${cpus[3]}\n`);
      for (const c of cpus)
        await symlink(`../../node/node${node}`, join(dir, `devices/system/cpu/cpu${c}/node${node}`));
    }
    const away = await run({ isolated: "4-5,7" });
    expect(away.failed).toBeUndefined();
    expect(away.numa).toEqual({ cpus: { 4: 1, 5: 1, 7: 1 }, nics: { eth0: 0 } });
    expect(String(away.msg)).toContain(
      "WARNING: CPUs 4-5,7 on NUMA node 1, eth0 on node 0: its packets and their memory cross the interconnect to reach them; isolate CPUs of node 0",
    );
    const near = await run({ isolated: "2-3", require_idle_sibling: false });
    expect(near.numa).toEqual({ cpus: { 2: 0, 3: 0 }, nics: { eth0: 0 } });
    expect(String(near.msg)).not.toContain("NUMA");
    // without the cpuN/nodeM links (older kernels): the node's cpulist says it
    for (const c of [4, 5]) await rm(join(dir, `devices/system/cpu/cpu${c}/node1`));
    expect((await run({ isolated: "4-5" })).numa).toEqual({ cpus: { 4: 1, 5: 1 }, nics: { eth0: 0 } });
    // a NIC the kernel puts on no node (-1, most single-socket hosts) is left out; `nics` narrows the set
    await writeFile(join(dir, "devices/pci0000:00/0000:3b:00.0/numa_node"), "-1\n");
    const none = await run({ isolated: "4" });
    expect(none.numa).toEqual({ cpus: { 4: 1 }, nics: {} });
    expect(String(none.msg)).not.toContain("NUMA");
    await writeFile(join(dir, "devices/pci0000:00/0000:3b:00.0/numa_node"), "0\n");
    expect(String((await run({ isolated: "4", nics: ["eth1"] })).msg)).not.toContain("NUMA");
  });

  test("CPU 9 on an 8-CPU host fails naming it; a missing online file is a clear error", async () => {
    const bad = await run({ isolated: "9" });
    expect(bad).toMatchObject({
      failed: true,
      msg: "isolated_cpus: CPU 9 not online on this host (online: 0-7)",
    });
    const err = await run({ sys_root: join(dir, "nowhere") }).catch((e) => e);
    expect(String(err.message)).toContain(`cannot read ${join(dir, "nowhere")}/devices/system/cpu/online on`);
  });

  test("redis.yml's use: the lists named by its variables in messages, and no housekeeping_cpus fact", async () => {
    const names = { isolated_name: "redis_server_cpulist", housekeeping_name: "redis_background_cpulist" };
    expect(await run({ isolated: "9", ...names })).toMatchObject({
      failed: true,
      msg: "redis_server_cpulist: CPU 9 not online on this host (online: 0-7)",
    });
    expect(String((await run({ isolated: "4", housekeeping: "4-5", ...names })).msg)).toBe(
      "CPU 4 both isolated and housekeeping",
    );
    expect(String((await run({ isolated: "4", housekeeping: "12", ...names })).msg)).toContain(
      "redis_background_cpulist: CPU 12 not online",
    );
    const ok = await run({ isolated: "4", housekeeping: "0-3", ...names, set_fact: false });
    expect(ok.failed).toBeUndefined();
    expect(ok.facts).toBeUndefined();
  });
});
