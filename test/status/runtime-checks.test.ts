/**
 * The runtime checks of `tickless status` as tables of (probe, record settings) → finding, no host:
 * irqbalance's ban in both of its spellings and both config paths, the workqueue mask, the NIC
 * queues' steering masks, which Redis is judged (by the port in its title) and the thread roles with and without server_cpulist.
 */
import { describe, expect, test } from "vitest";
import type { RecordSettings } from "../../src/modules/isolation/record.js";
import type { RedisProcess, StatusProbe } from "../../src/status/probe.js";
import {
  irqbalanceFinding,
  irqEffectiveFinding,
  redisThreadsFinding,
  steeringFinding,
  workqueueFinding,
} from "../../src/status/runtime-checks.js";
import { ISOLATED_4 } from "../modules/isolation/record-fixture.js";

const probe = (over: Partial<StatusProbe> = {}): StatusProbe => ({
  cmdline: "",
  irqs: new Map(),
  irqEffective: new Map(),
  hashes: new Map(),
  steeringMasks: new Map(),
  irqbalancePids: [],
  redis: [],
  ...over,
});

const settings = (over: Partial<RecordSettings> = {}): RecordSettings => ({
  ...ISOLATED_4,
  grub: { method: "snippet", files: [] },
  state_files: [],
  units: [],
  workqueue: { cpumask_path: "/sys/devices/virtual/workqueue/cpumask", cpus: "0-3,5-7" },
  redis: { unit: "redis-server.service", port: 6379, threads_split: false },
  ...over,
});

const redis = (
  pid: number,
  title: string,
  threads: [number, string, string, boolean?][],
  ppid = 1,
): RedisProcess => ({
  pid,
  ppid,
  title,
  threads: threads.map(([tid, comm, cpus, child]) => ({ tid, comm, cpus, child: child ?? false })),
});

describe("irqbalance's ban", () => {
  const cfg = (path: string, text: string) => probe({ irqbalanceConfig: { path, text } });
  test.each([
    ["/etc/default/irqbalance", 'IRQBALANCE_BANNED_CPULIST="4"\n', [], ""],
    ["/etc/default/irqbalance", "IRQBALANCE_BANNED_CPULIST=4-5\n", [], ""],
    [
      "/etc/default/irqbalance",
      "IRQBALANCE_BANNED_CPULIST=4\nIRQBALANCE_BANNED_CPULIST=\n",
      [901],
      "/etc/default/irqbalance: IRQBALANCE_BANNED_CPULIST= does not ban CPU 4; irqbalance runs (pid 901)",
    ],
    ["/etc/sysconfig/irqbalance", "IRQBALANCE_BANNED_CPUS=00000010\n", [], ""],
    [
      "/etc/sysconfig/irqbalance",
      "IRQBALANCE_BANNED_CPUS=0x20\n",
      [],
      "/etc/sysconfig/irqbalance: IRQBALANCE_BANNED_CPUS=0x20 does not ban CPU 4; irqbalance is not running",
    ],
    [
      "/etc/default/irqbalance",
      "#IRQBALANCE_BANNED_CPULIST=4\n",
      [],
      "/etc/default/irqbalance: no IRQBALANCE_BANNED_CPULIST bans CPU 4; irqbalance is not running",
    ],
    [
      "/etc/default/irqbalance",
      "IRQBALANCE_BANNED_CPULIST=four\n",
      [],
      "/etc/default/irqbalance: IRQBALANCE_BANNED_CPULIST=four is not a CPU list; irqbalance is not running",
    ],
  ] as const)("%s %j (pids %j) → %j", (path, text, pids, want) => {
    expect(irqbalanceFinding({ ...cfg(path, text), irqbalancePids: [...pids] }, [4])).toBe(want);
  });

  test("no config at all is a finding", () => {
    expect(irqbalanceFinding(probe(), [4])).toBe(
      "no /etc/default/irqbalance or /etc/sysconfig/irqbalance bans CPU 4; irqbalance is not running",
    );
  });
});

describe("the workqueue cpumask", () => {
  test.each([
    ["ef", ""],
    ["000000ef", ""],
    ["ff", "/sys/devices/virtual/workqueue/cpumask is ff (CPUs 0-7), the record says 0-3,5-7"],
    ["zz", "/sys/devices/virtual/workqueue/cpumask holds zz, not a CPU mask"],
    [undefined, "/sys/devices/virtual/workqueue/cpumask is missing"],
  ])("%j → %j", (mask, want) => {
    expect(workqueueFinding(probe({ workqueueMask: mask }), settings())).toBe(want);
  });

  test("a record without a workqueue file is not judged", () => {
    expect(workqueueFinding(probe({ workqueueMask: "ff" }), settings({ workqueue: undefined }))).toBe("");
  });
});

describe("packet steering", () => {
  const NET = "/sys/class/net";
  const wide = (over: Partial<RecordSettings> = {}) =>
    settings({ isolated_cpus: "2,6-7", housekeeping_cpus: "0-1,3-5", ...over });
  const masks = (m: Record<string, string>) => probe({ steeringMasks: new Map(Object.entries(m)) });

  test.each([
    ["3b", ""],
    ["0", ""],
    ["00000000,0000003b", ""],
    ["ff", "ens3 rx-0 rps_cpus ff (CPU 2,6-7)"],
    ["04", "ens3 rx-0 rps_cpus 04 (CPU 2)"],
    ["00000000,00000040", "ens3 rx-0 rps_cpus 00000000,00000040 (CPU 6)"],
    ["zz", ""],
  ])("rx-0 rps_cpus %j → %j", (mask, want) => {
    expect(
      steeringFinding(
        masks({ "ens3/queues/rx-0/rps_cpus": mask }),
        wide({ steering: { off_isolated: true, net_path: NET } }),
      ),
    ).toBe(want);
  });

  test("every queue holding an isolated CPU is named, receive and transmit, in the NICs' and queues' order", () => {
    const found = steeringFinding(
      masks({
        "eth1/queues/tx-10/xps_cpus": "80",
        "eth1/queues/tx-2/xps_cpus": "01",
        "eth1/queues/tx-3/xps_cpus": "40",
        "eth0/queues/rx-1/rps_cpus": "0",
        "eth0/queues/rx-0/rps_cpus": "f",
      }),
      wide({ steering: { off_isolated: true, net_path: NET } }),
    );
    expect(found).toBe(
      "eth0 rx-0 rps_cpus f (CPU 2), eth1 tx-3 xps_cpus 40 (CPU 6), eth1 tx-10 xps_cpus 80 (CPU 7)",
    );
  });

  test("a queue the kernel refused a new mask (net-queues.json) is left, as the play leaves it; a corrupt save refuses nothing", () => {
    const p = masks({ "eth0/queues/rx-0/rps_cpus": "ff", "eth0/queues/rx-1/rps_cpus": "ff" });
    const s = wide({ steering: { off_isolated: true, net_path: NET } });
    p.netQueueSave = JSON.stringify({
      version: 1,
      originals: {},
      refused: { [`${NET}/eth0/queues/rx-0/rps_cpus`]: "Invalid argument" },
    });
    expect(steeringFinding(p, s)).toBe("eth0 rx-1 rps_cpus ff (CPU 2,6-7)");
    p.netQueueSave = "{not json";
    expect(steeringFinding(p, s)).toBe(
      "eth0 rx-0 rps_cpus ff (CPU 2,6-7), eth0 rx-1 rps_cpus ff (CPU 2,6-7)",
    );
  });

  test("not judged: a record written before the check (no steering), or a play told to leave the masks", () => {
    const p = masks({ "ens3/queues/rx-0/rps_cpus": "ff" });
    expect(steeringFinding(p, wide())).toBe("");
    expect(steeringFinding(p, wide({ steering: { off_isolated: false, net_path: NET } }))).toBe("");
  });
});

describe("Redis's threads", () => {
  const whole = (cpus: string) =>
    redis(812, "/usr/bin/redis-server 127.0.0.1:6379", [
      [812, "redis-server", cpus],
      [815, "bio_close_file", cpus],
    ]);

  test("without server_cpulist every thread belongs on the isolated CPUs", () => {
    expect(redisThreadsFinding(probe({ redis: [whole("4")] }), settings())).toBe("");
    expect(redisThreadsFinding(probe({ redis: [whole("0-7")] }), settings())).toBe(
      "Redis 812 (port 6379): redis-server (TID 812, main) may run on 0-7, expected 4; bio_close_file (TID 815, background) may run on 0-7, expected 4",
    );
  });

  test("with server_cpulist: the main thread on the isolated CPUs, bio threads and children on housekeeping, others within both", () => {
    const split = settings({ redis: { unit: "redis-server.service", port: 6379, threads_split: true } });
    const r = redis(812, "redis-server *:6379", [
      [812, "redis-server", "4"],
      [813, "io_thd_1", "4"],
      [815, "bio_close_file", "0-3,5-7"],
      [818, "jemalloc_bg_thd", "0-7"],
      [901, "redis-aof-rewrite", "0-3,5-7", true],
    ]);
    expect(redisThreadsFinding(probe({ redis: [r] }), split)).toBe("");
    r.threads[2].cpus = "4";
    expect(redisThreadsFinding(probe({ redis: [r] }), split)).toBe(
      "Redis 812 (port 6379): bio_close_file (TID 815, background) may run on 4, expected 0-3,5-7",
    );
  });

  test("the Redis judged is the one on the recorded port; its fork child (also redis-server) is not a Redis of its own; none running is no finding", () => {
    const other = whole("0-7");
    other.pid = 700;
    other.title = "/usr/bin/redis-server 127.0.0.1:6380";
    const child = redis(901, "redis-rdb-bgsave 127.0.0.1:6379", [[901, "redis-server", "0-7"]], 812);
    expect(redisThreadsFinding(probe({ redis: [other, whole("4"), child] }), settings())).toBe("");
    expect(redisThreadsFinding(probe({ redis: [other] }), settings())).toBe("");
    expect(redisThreadsFinding(probe(), settings())).toBe("");
    // a title without a port (its own proc-title-template): the only Redis there is
    const bare = whole("0-7");
    bare.title = "redis-server";
    expect(redisThreadsFinding(probe({ redis: [bare] }), settings())).toMatch(/^Redis 812 \(port 6379\): /);
  });
});

describe("IRQs' effective affinity", () => {
  const save = JSON.stringify({
    version: 1,
    irqs: {
      "24": { name: "eth0-TxRx-0", smp_affinity_list: "0-7", smp_affinity: "ff" },
      "25": { name: "eth0-TxRx-1", smp_affinity_list: "0-7", smp_affinity: "ff" },
      "28": { name: "nvme0q0", smp_affinity_list: "0-7", smp_affinity: "ff" },
    },
    unchangeable: { "28": "nvme0q0: Input/output error" },
  });
  test("a moved IRQ delivered to an isolated CPU is named; one whose list has it (the irq check) and a kernel-managed one are not", () => {
    const p = probe({
      irqSave: save,
      irqs: new Map([
        ["24", "0-3,5-7"],
        ["25", "3-4"],
        ["28", "4"],
      ]),
      irqEffective: new Map([
        ["24", "4"],
        ["25", "4"],
        ["28", "4"],
      ]),
    });
    expect(irqEffectiveFinding(p, [4])).toBe("IRQ 24 (eth0-TxRx-0) delivered to CPU 4");
    // never fired since boot (a NIC's config-change IRQ): nothing delivered, the move completes at its first interrupt
    p.irqTotals = new Map([["24", 0]]);
    expect(irqEffectiveFinding(p, [4])).toBe("");
    p.irqTotals = new Map([["24", 1]]);
    expect(irqEffectiveFinding(p, [4])).toBe("IRQ 24 (eth0-TxRx-0) delivered to CPU 4");
    p.irqEffective.set("24", "");
    expect(irqEffectiveFinding(p, [4])).toBe("");
  });
});
