/**
 * validate_isolation's kthreads check: the kernel threads that may run on an isolated CPU and
 * could be moved. Fixture /proc/PID/stat and /proc/PID/status in the kernel's formats (stat lines
 * and a status file recorded from a 6.x kernel, their CPU lists set for an 8-CPU host), read by
 * the probe script for real; then the script on this machine's own /proc, read only.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import { kthreadCheck, parseKthreads } from "../../src/modules/isolation/kthreads.js";
import {
  evaluate,
  parseSnapshot,
  probeScript,
  type ValidateIsolationArgs,
} from "../../src/modules/isolation/validate_isolation.js";

/** Recorded stat lines (pid and name replaced): flags 2129984 = PF_KTHREAD without PF_NO_SETAFFINITY; 69238848 with it; 4194560 a user process. */
const STAT = {
  kthreadd:
    "S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 6 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0",
  rcu: "I 2 0 0 0 -1 2129984 0 0 0 0 4 3390 0 0 20 0 1 0 6 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0",
  bound:
    "S 2 0 0 0 -1 69238848 0 0 0 0 1 1649 0 0 20 0 1 0 6 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
  kworker:
    "I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 0 -20 1 0 6 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
  irq: "S 2 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 -51 0 1 0 14 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 17 1 50 1 0 0 0 0 0 0 0 0 0 0 0",
  user: "S 0 0 0 0 -1 4194560 275894 1220269912 0 11677 1310 2103 9461651 656555 10 -10 39 0 6 54882304 3411 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0",
};

/** pid, name, stat rest, Cpus_allowed_list, Cpus_allowed (hex). */
const THREADS: [number, string, string, string, string][] = [
  [1, "systemd", STAT.user, "0-7", "ff"],
  [2, "kthreadd", STAT.kthreadd, "0-7", "ff"],
  [15, "rcu_preempt", STAT.rcu, "0-7", "ff"],
  [33, "khungtaskd", STAT.rcu, "0-3,5-7", "ef"],
  [42, "ksoftirqd/4", STAT.bound, "4", "10"],
  [43, "migration/4", STAT.bound, "4", "10"],
  [44, "cpuhp/4", STAT.bound, "4", "10"],
  [46, "kworker/4:1H-kblockd", STAT.kworker, "4", "10"],
  [50, "kworker/u16:0-events_unbound", STAT.kworker, "0-7", "ff"],
  [53, "irq/25-eth0-TxRx-1", STAT.irq, "4", "10"],
  [812, "redis-server", STAT.user, "4", "10"],
  [901, "(sd-pam)", STAT.user, "0-7", "ff"],
];

const ARGS: ValidateIsolationArgs = {
  isolated_cpus: "4",
  nic_irq_pattern: "^eth0-TxRx-",
  window: 0,
  osnoise: "off",
};

describe("kernel threads on the isolated CPUs", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-kthreads-"));
    const status = await readFile(join(import.meta.dirname, "fixtures/kthread-status.txt"), "utf8");
    for (const [pid, name, rest, list, mask] of THREADS) {
      const d = join(dir, "proc", String(pid));
      await mkdir(d, { recursive: true });
      await writeFile(join(d, "stat"), `${pid} (${name}) ${rest}\n`);
      const kthread = (Number(rest.split(" ")[6]) & 0x200000) !== 0;
      await writeFile(
        join(d, "status"),
        status
          .replace(/^Name:\t.*$/m, `Name:\t${name}`)
          .replace(/^(Tgid|Pid|NStgid|NSpid):\t.*$/gm, `$1:\t${pid}`)
          .replace(/^Kthread:\t.*$/m, `Kthread:\t${kthread ? 1 : 0}`)
          .replace(/^Cpus_allowed:\t.*$/m, `Cpus_allowed:\t${mask}`)
          .replace(/^Cpus_allowed_list:\t.*$/m, `Cpus_allowed_list:\t${list}`),
      );
    }
    await writeFile(join(dir, "proc/interrupts"), "           CPU0       CPU1\n");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("the probe reads every kernel thread (PF_KTHREAD) with its CPUs, and no user process", async () => {
    const r = await new LocalConnection().run(probeScript({ ...ARGS, proc_root: `${dir}/proc` }));
    expect(r.rc).toBe(0);
    const threads = parseKthreads(parseSnapshot(r.stdout).kthreads ?? "");
    expect(threads.map((t) => `${t.pid} ${t.name} ${t.cpus.join(",")}`)).toEqual([
      "15 rcu_preempt 0,1,2,3,4,5,6,7",
      "2 kthreadd 0,1,2,3,4,5,6,7",
      "33 khungtaskd 0,1,2,3,5,6,7",
      "42 ksoftirqd/4 4",
      "43 migration/4 4",
      "44 cpuhp/4 4",
      "46 kworker/4:1H-kblockd 4",
      "50 kworker/u16:0-events_unbound 0,1,2,3,4,5,6,7",
      "53 irq/25-eth0-TxRx-1 4",
    ]);
  });

  it("warns, naming each movable one on CPU 4; per-CPU threads and kworkers (PF_NO_SETAFFINITY) and threads off CPU 4 are not named; the host does not fail for it", async () => {
    const r = await new LocalConnection().run(probeScript({ ...ARGS, proc_root: `${dir}/proc` }));
    const checks = evaluate(ARGS, parseSnapshot(r.stdout));
    expect(checks.find((c) => c.name === "kthreads")).toEqual({
      name: "kthreads",
      status: "warning",
      detail:
        "3 movable kernel threads may run on CPU 4: rcu_preempt (PID 15, CPUs 0-7), kthreadd (PID 2, CPUs 0-7), irq/25-eth0-TxRx-1 (PID 53, CPUs 4). with nohz_full= on the running kernel, kthreadd starts new ones on the housekeeping CPUs; taskset -pc <housekeeping CPUs> PID moves one",
    });
    expect(checks.filter((c) => c.status === "failed").map((c) => c.name)).not.toContain("kthreads");
  });

  it("is ok when none may run there, skipped when /proc was not read; a name with parentheses or spaces is read after its last parenthesis", () => {
    const line = (pid: number, name: string, rest: string, list: string) =>
      `${pid}\t${list}\t${pid} (${name}) ${rest}`;
    expect(kthreadCheck([4], line(33, "khungtaskd", STAT.rcu, "0-3,5-7"), "/proc")).toEqual({
      name: "kthreads",
      status: "ok",
      detail:
        "no movable kernel thread may run on CPU 4 (1 kernel threads read; those bound to a CPU, such as ksoftirqd/N, are the kernel's)",
    });
    expect(kthreadCheck([4], undefined, "/proc").status).toBe("skipped");
    expect(parseKthreads(line(7, "x) S 1 (y", STAT.rcu, "\t0-7"))).toEqual([
      { pid: 7, name: "x) S 1 (y", flags: 2129984, cpus: [0, 1, 2, 3, 4, 5, 6, 7] },
    ]);
    expect(parseKthreads(line(8, "a b", STAT.user, "4"))).toEqual([]);
  });

  it("on this machine's /proc (read only): kthreadd is a movable kernel thread, ksoftirqd/N is not", async (ctx) => {
    const r = await new LocalConnection().run(probeScript({ ...ARGS, proc_root: "/proc", sys_root: dir }));
    const threads = parseKthreads(parseSnapshot(r.stdout).kthreads ?? "");
    // a container's PID namespace shows no kernel threads
    if (!threads.some((t) => t.pid === 2)) ctx.skip();
    const all = threads.flatMap((t) => t.cpus).filter((c, i, a) => a.indexOf(c) === i);
    const check = kthreadCheck(all, parseSnapshot(r.stdout).kthreads, "/proc");
    expect(check.status).toBe("warning");
    expect(check.detail).toContain("kthreadd (PID 2,");
    expect(check.detail).not.toMatch(/ksoftirqd\/\d+ \(PID/);
  });
});
