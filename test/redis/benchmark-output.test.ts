import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import { parseBenchmark } from "../../src/modules/redis/benchmark-output.js";
import {
  benchmarkLine,
  redisLatencyModule as redisLatency,
  runTimeoutMs,
} from "../../src/modules/redis/redis_latency.js";
import { coreContext } from "../support/module-context.js";

// Recorded from redis-benchmark 7.0.15 (Debian) against a local Redis: -c 1 -P 1 --precision 3 -n 1000 -t ping,get,set
const recorded = readFileSync(join(import.meta.dirname, "fixtures", "benchmark-7.0.15.txt"), "utf8");

describe("parseBenchmark", () => {
  const parsed = parseBenchmark(recorded);

  it("finds every test of the run", () => {
    expect(Object.keys(parsed)).toEqual(["PING_INLINE", "PING_MBULK", "SET", "GET"]);
  });

  it("takes p50, p99 and max from the summary and p99.9 from the percentile ticks, in µs", () => {
    expect(parsed.PING_INLINE).toMatchObject({ requests: 1000, p50_us: 23, p99_us: 8583, max_us: 64575 });
    // first printed tick at or above 99.9 %: "99.902% <= 64.575 milliseconds"
    expect(parsed.PING_INLINE.p999_us).toBe(64575);
    expect(parsed.PING_MBULK).toMatchObject({ p50_us: 47, p99_us: 7975, max_us: 164223 });
    for (const t of Object.values(parsed)) {
      expect(t.p50_us).toBeLessThanOrEqual(t.p99_us);
      expect(t.p99_us).toBeLessThanOrEqual(t.p999_us);
      expect(t.p999_us).toBeLessThanOrEqual(t.max_us);
      expect(t.rps).toBeGreaterThan(0);
    }
  });

  it("returns nothing for output that is not a benchmark (e.g. a refused connection)", () => {
    expect(parseBenchmark("Could not connect to Redis at 127.0.0.1:1: Connection refused\n")).toEqual({});
  });
});

describe("benchmarkLine", () => {
  it("pins the client with taskset and asks for one connection, no pipelining, µs precision", () => {
    expect(benchmarkLine({ cpu: 3, port: 7000, requests: 5000 })).toBe(
      "taskset -c 3 redis-benchmark -h 127.0.0.1 -p 7000 -c 1 -P 1 --precision 3 -n 5000 -t ping\\,get\\,set",
    );
  });
});

describe("a latency run against a server that does not answer", () => {
  // redis-benchmark waits forever for a server that is not there; the run is bounded and says why.
  it.skipIf(!existsSync("/usr/bin/redis-benchmark"))(
    "fails within its bound, with redis-benchmark's last words",
    async () => {
      const args = { cpu: 0, port: 1, runs: 1, requests: 10, tests: ["ping"] };
      expect(runTimeoutMs(args)).toBe(60200);
      expect(runTimeoutMs({ ...args, run_timeout: 3 })).toBe(3000);
      const run = redisLatency.apply(new LocalConnection("box1"), { ...args, run_timeout: 3 }, coreContext());
      await expect(run).rejects.toThrow(
        /^redis-benchmark failed: exit 124: Could not connect to Redis at 127\.0\.0\.1:1: Connection refused/,
      );
    },
  );
});
