/** intrinsic_latency: redis-cli's own loop, pinned with taskset, on this machine. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import {
  intrinsicLatencyModule,
  noiseCpu,
  parseIntrinsic,
} from "../../src/modules/redis/intrinsic_latency.js";
import { testContext } from "../modules/harness.js";

const recorded = readFileSync(join(import.meta.dirname, "fixtures", "intrinsic-latency-7.0.15.txt"), "utf8");
const has = (cmd: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
};

describe("intrinsic latency", () => {
  it("reads the worst stall and the average loop from redis-cli's output", () => {
    expect(parseIntrinsic(recorded)).toEqual({ max_us: 1481, avg_us: 0.0718, loops: 13919527 });
    expect(parseIntrinsic("Could not connect")).toBeUndefined();
  });

  it("auto measures the first isolated CPU, and says so; without one it names the fix", () => {
    expect(noiseCpu("auto", { cpus_isolated_list: [6, 2], cpus_nohz_full_list: [7] })).toEqual({
      cpu: "2",
      why: "isolated CPU 2, the first of the host's isolated CPUs",
    });
    expect(noiseCpu(3, {})).toEqual({ cpu: "3" });
    expect(() => noiseCpu("auto", { cpus_isolated_list: [] })).toThrow(/no isolated CPU.*/);
  });

  it.skipIf(!has("redis-cli") || !has("taskset"))("measures a real CPU with redis-cli, pinned", async () => {
    const r = await intrinsicLatencyModule.apply(
      new LocalConnection(),
      { cpu: 0, seconds: 1 },
      testContext(),
    );
    expect(r.command).toBe("taskset -c 0 redis-cli --intrinsic-latency 1");
    expect(r.loops as number).toBeGreaterThan(1000);
    expect(r.avg_us as number).toBeGreaterThan(0);
    expect(r.max_us as number).toBeGreaterThanOrEqual(r.avg_us as number);
  });

  it.skipIf(!has("taskset"))("a CPU that is not online fails with redis-cli's own error", async () => {
    await expect(
      intrinsicLatencyModule.apply(new LocalConnection(), { cpu: 4095, seconds: 1 }, testContext()),
    ).rejects.toThrow(/intrinsic-latency failed \(rc \d+\): .*taskset/);
  });
});
