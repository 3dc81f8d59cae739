/**
 * net_queue_masks on this machine's shell over a fixture sysfs tree (test/lab/irq-fixture.ts: eth0
 * with four queues, lo and br0 with one, whose xps_cpus reads ENOENT as the kernel's does for a
 * one-queue device), through the engine's own probe → plan → apply → re-plan loop.
 */
import { execFile } from "node:child_process";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import {
  isUnsupported,
  maskWithout,
  type NetQueueMasksArgs,
  type NetQueueState,
  netQueueMasksModule,
  planNetQueues,
} from "../../../src/modules/isolation/net_queue_masks.js";
import { writeNetFixture } from "../../lab/irq-fixture.js";
import { checkPlan, converge, scratchDir } from "../harness.js";

const exec = promisify(execFile);

/** Every file under `dir` with its bytes (links as their target), sorted: the tree byte for byte. */
async function tree(dir: string): Promise<string> {
  const { stdout } = await exec("sh", [
    "-c",
    'cd "$1" && find . | sort | while read -r f; do if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; elif [ -f "$f" ]; then echo "$f $(od -An -c "$f" | tr -s " ")"; else echo "$f/"; fi; done',
    "sh",
    dir,
  ]);
  return stdout;
}

describe("queue masks, pure", () => {
  it("drops the isolated CPUs and keeps the kernel's width; a mask without them, or 0, is left", () => {
    expect(maskWithout("f0", [4])).toBe("e0");
    expect(maskWithout("11", [4])).toBe("01");
    expect(maskWithout("10", [4])).toBe("00");
    expect(maskWithout("00", [4])).toBeUndefined();
    expect(maskWithout("0f", [4])).toBeUndefined();
    expect(maskWithout("00000000,000000ff", [4, 5])).toBe("00000000,000000cf");
    expect(maskWithout("not a mask", [4])).toBeUndefined();
  });

  it("takes ENOENT, EINVAL and EOPNOTSUPP for an unsupported queue, nothing else", () => {
    expect(
      ["No such file or directory", "Invalid argument", "Operation not supported"].map(isUnsupported),
    ).toEqual([true, true, true]);
    expect(
      ["Operation not permitted", "Permission denied", "Read-only file system"].map(isUnsupported),
    ).toEqual([false, false, false]);
  });

  it("skips a queue whose new mask the kernel refused before, and names it", () => {
    const path = "/sys/class/net/eth0/queues/tx-0/xps_cpus";
    const state: NetQueueState = {
      queues: [{ path, value: "11" }],
      stateFile: {
        path: "/s.json",
        exists: true,
        content: "",
        data: { version: 1, originals: {}, refused: { [path]: "Invalid argument" } },
      },
    };
    const args: NetQueueMasksArgs = { isolated: "4", state_file: "/s.json" };
    expect(planNetQueues(args, state)).toEqual([]);
    expect(netQueueMasksModule.report?.(args, state)).toMatchObject({
      unsupported: ["eth0 tx-0 xps_cpus: the kernel refused a new mask (Invalid argument)"],
      on_isolated: [],
    });
  });
});

describe("net_queue_masks on a local host (fixture sys_root)", () => {
  const host = new LocalConnection();
  let dir: string;
  let sys: string;
  let cleanup: () => Promise<void>;
  let args: NetQueueMasksArgs;
  let stateFile: string;
  const eth0 = (q: string) => join(sys, "devices/pci0000:00/0000:3b:00.0/net/eth0/queues", q);
  // the paths as the probe sees them, through class/net's links
  const cls = (dev: string, q: string) => join(sys, "class/net", dev, "queues", q);

  beforeEach(async () => {
    ({ dir, cleanup } = await scratchDir());
    sys = join(dir, "sys");
    await writeNetFixture(sys);
    stateFile = join(dir, "var/lib/tickless/net-queues.json");
    args = { isolated: "4", sys_root: sys, state_file: stateFile };
  });
  afterEach(async () => {
    await exec("chattr", ["-i", eth0("rx-1/rps_cpus")]).catch(() => undefined);
    await cleanup();
  });

  it("check mode predicts the save and each mask's change, and touches nothing", async () => {
    const before = await tree(dir);
    const plan = await checkPlan(netQueueMasksModule, args, host);
    expect(plan.map((c) => c.summary)).toEqual([
      "save the original masks of eth0 rx-1 rps_cpus, eth0 tx-0 xps_cpus",
      "eth0 rx-1 rps_cpus: f0 → e0 (CPUs 4-7 → 5-7)",
      "eth0 tx-0 xps_cpus: 11 → 01 (CPUs 0,4 → 0)",
    ]);
    expect(plan.slice(1).map((c) => [c.target, c.before, c.after])).toEqual([
      [cls("eth0", "rx-1/rps_cpus"), "f0\n", "e0\n"],
      [cls("eth0", "tx-0/xps_cpus"), "11\n", "01\n"],
    ]);
    expect(await tree(dir)).toBe(before);
  });

  it("present: the originals saved (0600) before the writes, converges, a second run changes nothing; the one-queue devices' xps_cpus are named, not warned about", async () => {
    const first = await converge(netQueueMasksModule, args, host);
    expect(first.changes.map((c) => c.target)).toEqual([
      stateFile,
      cls("eth0", "rx-1/rps_cpus"),
      cls("eth0", "tx-0/xps_cpus"),
    ]);
    expect(first.replan).toEqual([]);
    expect(first.result?.msg).toBe(`2 queue masks off CPUs 4 (originals in ${stateFile})`);
    expect(await readFile(eth0("rx-1/rps_cpus"), "utf8")).toBe("e0\n");
    expect(await readFile(eth0("tx-0/xps_cpus"), "utf8")).toBe("01\n");
    expect(await readFile(eth0("tx-2/xps_cpus"), "utf8")).toBe("44\n");
    expect(JSON.parse(await readFile(stateFile, "utf8"))).toEqual({
      version: 1,
      originals: { [cls("eth0", "rx-1/rps_cpus")]: "f0", [cls("eth0", "tx-0/xps_cpus")]: "11" },
    });
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    expect(first.report).toMatchObject({
      single_queue: ["br0 tx-0 xps_cpus", "lo tx-0 xps_cpus"],
      unsupported: [],
      on_isolated: [],
    });

    const second = await converge(netQueueMasksModule, args, host);
    expect(second.changes).toEqual([]);
  });

  it("a drifted mask is corrected and the first original kept; rollback gives back every byte", async () => {
    const before = await tree(sys);
    await converge(netQueueMasksModule, args, host);
    await writeFile(eth0("tx-0/xps_cpus"), "1f\n");
    const again = await converge(netQueueMasksModule, args, host);
    expect(again.changes.map((c) => c.summary)).toEqual(["eth0 tx-0 xps_cpus: 1f → 0f (CPUs 0-4 → 0-3)"]);
    expect(JSON.parse(await readFile(stateFile, "utf8")).originals[cls("eth0", "tx-0/xps_cpus")]).toBe("11");

    const restored = { state: "restored" as const, sys_root: sys, state_file: stateFile };
    const plan = await checkPlan(netQueueMasksModule, restored, host);
    expect(plan.map((c) => c.summary)).toEqual([
      "restore eth0 rx-1 rps_cpus: e0 → f0 (CPUs 5-7 → 4-7)",
      "restore eth0 tx-0 xps_cpus: 0f → 11 (CPUs 0-3 → 0,4)",
      `drop the saved queue masks; remove ${stateFile} (empty)`,
    ]);
    const back = await converge(netQueueMasksModule, restored, host);
    expect(back.replan).toEqual([]);
    expect(await tree(sys)).toBe(before);
    await expect(stat(stateFile)).rejects.toThrow(/ENOENT/);
    const none = await converge(netQueueMasksModule, restored, host);
    expect(none.changes).toEqual([]);
    expect(none.report?.msg).toBe(`no saved queue masks in ${stateFile}: nothing (left) to restore`);
  });

  it("a queue gone since (the NIC removed) is named and dropped; the others are restored", async () => {
    await converge(netQueueMasksModule, args, host);
    await rm(eth0("rx-1"), { recursive: true });
    const restored = { state: "restored" as const, sys_root: sys, state_file: stateFile };
    const back = await converge(netQueueMasksModule, restored, host);
    expect(back.changes.map((c) => c.summary)).toEqual([
      "restore eth0 tx-0 xps_cpus: 01 → 11 (CPUs 0 → 0,4)",
      `drop the saved queue masks (gone since: eth0 rx-1 rps_cpus); remove ${stateFile} (empty)`,
    ]);
    expect(await readFile(eth0("tx-0/xps_cpus"), "utf8")).toBe("11\n");
  });

  it("a write the kernel refuses for another reason fails the task naming the queue; the original of each written queue is saved", async () => {
    // immutable: even root's write fails (EPERM), as a locked-down attribute's would
    await exec("chattr", ["+i", eth0("rx-1/rps_cpus")]);
    const first = await converge(netQueueMasksModule, args, host);
    expect(first.result).toMatchObject({
      failed: true,
      msg: "the kernel refused e0 for eth0 rx-1 rps_cpus (Operation not permitted)",
    });
    expect(await readFile(eth0("tx-0/xps_cpus"), "utf8")).toBe("01\n");
    expect(JSON.parse(await readFile(stateFile, "utf8")).originals).toEqual({
      [cls("eth0", "rx-1/rps_cpus")]: "f0",
      [cls("eth0", "tx-0/xps_cpus")]: "11",
    });
  });

  it("restored reads exactly the saved paths (whatever sys_root says); a refused original fails the task and keeps the save", async () => {
    await converge(netQueueMasksModule, args, host);
    const saved = await readFile(stateFile, "utf8");
    // immutable: even root's write fails (EPERM)
    await exec("chattr", ["+i", eth0("rx-1/rps_cpus")]);
    const restored = { state: "restored" as const, state_file: stateFile };
    const refused = await converge(netQueueMasksModule, restored, host);
    expect(refused.result).toMatchObject({
      failed: true,
      msg: `the kernel refused the originals: f0 for eth0 rx-1 rps_cpus (Operation not permitted); ${stateFile} kept`,
    });
    expect(await readFile(stateFile, "utf8")).toBe(saved);
    await exec("chattr", ["-i", eth0("rx-1/rps_cpus")]);
    const back = await converge(netQueueMasksModule, restored, host);
    expect(back.replan).toEqual([]);
    expect(await readFile(eth0("rx-1/rps_cpus"), "utf8")).toBe("f0\n");
    expect(await readFile(eth0("tx-0/xps_cpus"), "utf8")).toBe("11\n");
  });

  it("refuses an empty CPU list before anything is read", () => {
    expect(() => netQueueMasksModule.normalize?.({ isolated: "" })).toThrow(/isolated names no CPU/);
  });
});
