/**
 * redis_latency's preparation on real Redis servers on this machine (loopback): the same keyspace
 * loaded into both sides before measuring, so that every GET finds its key, and warm-up runs made
 * and discarded before the interleaved blocks.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import { keyspaceLine, redisLatencyModule } from "../../src/modules/redis/redis_latency.js";
import { removeDir, tempDir } from "../support/fs.js";
import { coreContext } from "../support/module-context.js";
import { freePort } from "../support/net.js";

const HAS_REDIS = existsSync("/usr/bin/redis-server") && existsSync("/usr/bin/redis-benchmark");

describe.skipIf(!HAS_REDIS)("the dataset and the warm-up before measuring", () => {
  let dir: string;
  const ports: number[] = [];
  const cli = (port: number, ...args: string[]) =>
    execFileSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" }).trim();
  const stat = (port: number, name: string) =>
    Number(new RegExp(`${name}:(\\d+)`).exec(cli(port, "INFO", "stats"))?.[1]);

  beforeAll(async () => {
    dir = await tempDir("tickless-keyspace-");
    for (const side of ["a", "b"]) {
      const port = await freePort();
      execFileSync("redis-server", [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--daemonize",
        "yes",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
        "--pidfile",
        `${dir}/${side}.pid`,
        "--logfile",
        `${dir}/${side}.log`,
      ]);
      ports.push(port);
      for (let i = 0; i < 50 && cli(port, "PING") !== "PONG"; i++)
        await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    for (const port of ports) {
      try {
        cli(port, "SHUTDOWN", "NOSAVE");
      } catch {
        // already gone
      }
    }
    await removeDir(dir);
  });

  it("loads redis-benchmark's key names with a value of its size", () => {
    expect(keyspaceLine(3, { port: 7000, address: "127.0.0.1" })).toBe(
      "awk 'BEGIN { for (i = 0; i < 3; i++) printf \"SET key:%012d xxx\\r\\n\", i }' | redis-cli -h 127.0.0.1 -p 7000 --pipe",
    );
  });

  it("both servers hold the same keyspace and every GET hits; warm-up runs are made and not kept", async () => {
    const [a, b] = ports;
    const before = ports.map((p) => stat(p, "total_connections_received"));
    const r = await redisLatencyModule.apply(
      new LocalConnection("box1"),
      {
        cpu: 0,
        port: b,
        baseline_port: a,
        runs: 2,
        requests: 500,
        tests: ["get", "set"],
        keyspace: 2000,
        warmup: 2,
        seed: 5,
        state_dir: `${dir}/results`,
      },
      coreContext(),
    );
    const used = ports.map((p, i) => stat(p, "total_connections_received") - before[i]);
    expect(r.command).toMatch(/ -t get\\,set -r 2000$/);
    expect(r).toMatchObject({ keyspace: 2000, warmup_runs: 2 });
    expect(r.keyspace_load_s).toBeGreaterThan(0);
    expect(r.setup_s).toBeGreaterThan(r.keyspace_load_s as number);
    expect(r.runs).toHaveLength(2);
    expect(r.baseline_runs).toHaveLength(2);
    for (const port of ports) {
      // (2 warm-up + 2 measured runs) of 500 GETs on each, every one a hit
      expect(stat(port, "keyspace_misses")).toBe(0);
      expect(stat(port, "keyspace_hits")).toBe(4 * 500);
      // the loaded keys, and nothing else: SET under -r writes within the same names
      expect(cli(port, "DBSIZE")).toBe("2000");
      // 3 bytes: the size redis-benchmark's SET writes (its own random bytes after the first SET)
      expect(cli(port, "STRLEN", "key:000000001999")).toBe("3");
      expect(cli(port, "EXISTS", "key:000000002000")).toBe("0");
    }
    expect(used[0]).toBe(used[1]);
    // the same servers without warm-up: half the benchmark connections
    const before2 = ports.map((p) => stat(p, "total_connections_received"));
    await redisLatencyModule.apply(
      new LocalConnection("box1"),
      {
        cpu: 0,
        port: b,
        baseline_port: a,
        runs: 2,
        requests: 500,
        tests: ["get", "set"],
        keyspace: 2000,
        seed: 5,
      },
      coreContext(),
    );
    const used2 = ports.map((p, i) => stat(p, "total_connections_received") - before2[i]);
    // besides the benchmark: the load's redis-cli and the INFO that counts; the benchmark's halve
    expect(used2[0]).toBe(used2[1]);
    expect(used[0] - 2).toBe(2 * (used2[0] - 2));
  });

  it("a server that refuses writes fails the task before measuring, in its own words", async () => {
    const [a] = ports;
    cli(a, "CONFIG", "SET", "min-replicas-to-write", "1");
    try {
      const run = redisLatencyModule.apply(
        new LocalConnection("box1"),
        { cpu: 0, port: a, runs: 1, requests: 100, tests: ["get"], keyspace: 10 },
        coreContext(),
      );
      await expect(run).rejects.toThrow(/^loading 10 keys failed: .*NOREPLICAS/s);
    } finally {
      cli(a, "CONFIG", "SET", "min-replicas-to-write", "0");
    }
  });
});
