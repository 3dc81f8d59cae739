/**
 * The save before a Redis restart, on a real redis-server this test starts on a temp dir: keys
 * survive a restart through redis_server (and redis_restart, through a systemctl that restarts the
 * test's own server), a save that cannot complete refuses the restart, and a restart allowed
 * without a save that loses keys fails naming both DBSIZEs.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import { redisRestartModule } from "../../src/modules/redis/redis_restart.js";
import { parseKeyValues, redisServerModule } from "../../src/modules/redis/redis_server.js";
import { saveGuardScript } from "../../src/modules/redis/save-guard.js";
import { converge, scratchDir, testContext } from "../modules/harness.js";
import { freePort } from "../ssh-e2e/helpers.js";

const exec = promisify(execFile);
const conn = new LocalConnection();
let dir: string;
let cleanup: () => Promise<void>;
let port: number;
let immutable: string[] = [];

const cli = (...a: string[]) =>
  exec("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...a]).then((r) => r.stdout.trim());

/** Starts `binary` with a config of its own (no automatic saves), and writes `keys` keys. */
async function startRedis(binary: string, keys: number, extra = ""): Promise<string> {
  const config = join(dir, "redis.conf");
  await mkdir(join(dir, "data"), { recursive: true });
  await writeFile(
    config,
    `port ${port}\nbind 127.0.0.1\ndaemonize yes\npidfile ${dir}/redis.pid\nlogfile ${dir}/redis.log\ndir ${dir}/data\nsave ""\nappendonly no\n${extra}`,
  );
  await exec(binary, [config]);
  for (let i = 0; i < 50 && (await cli("PING").catch(() => "")) !== "PONG"; i++) await sleep(20);
  const pairs = Array.from({ length: keys }, (_, i) => [`key:${i}`, `value-${i}`]).flat();
  if (keys > 0) await cli("MSET", ...pairs);
  return config;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pid = async () => Number((await readFile(join(dir, "redis.pid"), "utf8")).trim());

beforeEach(async () => {
  ({ dir, cleanup } = await scratchDir());
  port = await freePort();
  // a copy of the binary: the running server is then "another binary" and redis_server plans a restart
  await mkdir(join(dir, "old"));
  await copyFile("/usr/bin/redis-server", join(dir, "old/redis-server"));
  await exec("chmod", ["755", join(dir, "old/redis-server")]);
});
afterEach(async () => {
  if (immutable.length > 0) await exec("chattr", ["-i", ...immutable]);
  immutable = [];
  await cli("SHUTDOWN", "NOSAVE").catch(() => undefined);
  await cleanup();
});

describe("redis_server: a restart keeps the data", () => {
  it("saves (BGSAVE) before the restart; every key is there after, on the new binary", async () => {
    const config = await startRedis(join(dir, "old/redis-server"), 200);
    const r = await converge(
      redisServerModule,
      { config, port, binary: "/usr/bin/redis-server", start_timeout_s: 10 },
      conn,
    );
    expect(r.result).toMatchObject({ saved: "rdb", dbsize_before: 201, dbsize_after: 201, sentinel: "ok" });
    expect(r.result?.failed).toBeUndefined();
    expect(await cli("DBSIZE")).toBe("200");
    expect(await cli("GET", "key:137")).toBe("value-137");
    expect((await exec("readlink", [`/proc/${await pid()}/exe`])).stdout.trim()).toBe(
      (await exec("readlink", ["-f", "/usr/bin/redis-server"])).stdout.trim(),
    );
  });

  it("refuses to restart when the save cannot complete, naming the reason; the server keeps running", async () => {
    const config = await startRedis(join(dir, "old/redis-server"), 20);
    const before = await pid();
    immutable = [join(dir, "data")];
    await exec("chattr", ["+i", ...immutable]); // BGSAVE's temp file cannot be created, even by root
    const args = { config, port, binary: "/usr/bin/redis-server", start_timeout_s: 10, save_timeout_s: 10 };
    await expect(converge(redisServerModule, args, conn)).rejects.toThrow(
      new RegExp(
        `not restarted: refusing to restart Redis holding 21 key\\(s\\): BGSAVE to ${dir}/data/dump.rdb failed \\(rdb_last_bgsave_status:err`,
      ),
    );
    expect(await pid()).toBe(before);
    // the sentinel key written before the save is taken back
    expect(await cli("DBSIZE")).toBe("20");

    // allowed without a save: restarted, the reason reported, and the lost keys fail the task
    const forced = await converge(redisServerModule, { ...args, restart_without_save: true }, conn);
    expect(forced.result).toMatchObject({
      failed: true,
      saved: "skipped",
      save_skipped: expect.stringContaining("BGSAVE to"),
    });
    expect(forced.result?.msg).toContain("DBSIZE 21 before the restart, 0 after");
    expect(await pid()).not.toBe(before);
  });
});

// Debian's redis-server links the distribution's libjemalloc, built with the profiler and reading
// MALLOC_CONF (the bundled one of the releases reads JE_MALLOC_CONF): the same path, stock binary.
describe("redis_server: a start condition (jemalloc's options, a setting) restarts through the same guard", () => {
  const opt = async (name: string) =>
    new RegExp(`^ *opt\\.${name}: (\\S+)`, "m").exec(await cli("MEMORY", "MALLOC-STATS"))?.[1];
  const profiling = {
    environment: { MALLOC_CONF: "prof:true,prof_active:true,lg_prof_sample:17" },
    malloc_opts: { prof: "true", prof_active: "true", lg_prof_sample: "17" },
  };

  it("the same binary restarts with the variable, the keys kept; nothing to do after; and back", async () => {
    const config = await startRedis("/usr/bin/redis-server", 30);
    const before = await pid();
    const args = { config, port, binary: "/usr/bin/redis-server", start_timeout_s: 10, ...profiling };
    const r = await converge(redisServerModule, args, conn);
    expect(r.changes.map((c) => c.summary)).toEqual([
      'restart to apply opt.prof: "false" → "true", opt.lg_prof_sample: "19" → "17"',
    ]);
    expect(r.result).toMatchObject({ saved: "rdb", dbsize_before: 31, dbsize_after: 31, sentinel: "ok" });
    expect(r.replan).toEqual([]);
    expect(await pid()).not.toBe(before);
    expect(await opt("prof")).toBe("true");
    expect(await opt("lg_prof_sample")).toBe("17");
    expect(await cli("DBSIZE")).toBe("30");
    expect((await converge(redisServerModule, args, conn)).changes).toEqual([]);

    // off again: the variable unset at the start, the profiler off
    const off = {
      config,
      port,
      binary: "/usr/bin/redis-server",
      start_timeout_s: 10,
      environment: { MALLOC_CONF: "" },
      malloc_opts: { prof: "false" },
    };
    const o = await converge(redisServerModule, off, conn);
    expect(o.changes.map((c) => c.summary)).toEqual(['restart to apply opt.prof: "true" → "false"']);
    expect(o.replan).toEqual([]);
    expect(await opt("prof")).toBe("false");
    expect(await cli("DBSIZE")).toBe("30");
  });

  it("a setting the config does not give: restarted once, and the re-plan names what still differs", async () => {
    const config = await startRedis("/usr/bin/redis-server", 0);
    const r = await converge(
      redisServerModule,
      {
        config,
        port,
        binary: "/usr/bin/redis-server",
        start_timeout_s: 10,
        settings: { "enable-debug-command": "local" },
      },
      conn,
    );
    expect(r.replan.map((c) => c.summary)).toEqual(['restart to apply enable-debug-command: "no" → "local"']);
  });

  it("a restart for the profiler is refused like any other when the save cannot complete", async () => {
    const config = await startRedis("/usr/bin/redis-server", 12);
    const before = await pid();
    immutable = [join(dir, "data")];
    await exec("chattr", ["+i", ...immutable]);
    const args = {
      config,
      port,
      binary: "/usr/bin/redis-server",
      start_timeout_s: 10,
      save_timeout_s: 10,
      ...profiling,
    };
    await expect(converge(redisServerModule, args, conn)).rejects.toThrow(
      /not restarted: refusing to restart Redis holding 13 key\(s\): BGSAVE to .* failed/,
    );
    expect(await pid()).toBe(before);
    expect(await opt("prof")).toBe("false");
  });
});

describe("redis_server: a Redis whose last BGSAVE failed (MISCONF) is saved or left running", () => {
  // the RDB's final name taken by a directory: the BGSAVE's rename fails, even as root; then
  // stop-writes-on-bgsave-error (with a save point) refuses writes and PING itself with MISCONF
  async function misconf(keys: number): Promise<string> {
    const config = await startRedis(join(dir, "old/redis-server"), keys, "save 900 1\n");
    await mkdir(join(dir, "data", "dump.rdb", "keep"), { recursive: true });
    await cli("BGSAVE");
    for (let i = 0; i < 200 && !(await cli("PING")).startsWith("MISCONF"); i++) await sleep(20);
    expect(await cli("PING")).toMatch(/^MISCONF /);
    return config;
  }
  const args = (config: string) => ({
    config,
    port,
    binary: "/usr/bin/redis-server",
    start_timeout_s: 10,
    save_timeout_s: 10,
  });

  it("refuses while the save still fails: the server, its keys and no sentinel key stay", async () => {
    const config = await misconf(40);
    const before = await pid();
    await expect(converge(redisServerModule, args(config), conn)).rejects.toThrow(
      /refusing to restart Redis holding 40 key\(s\): BGSAVE to .*dump\.rdb failed/,
    );
    expect(await pid()).toBe(before);
    expect(await cli("DBSIZE")).toBe("40");
    // PING is refused, no sentinel was written
    expect(await cli("EXISTS", "tickless:restart-sentinel")).toBe("0");
  });

  it("saves once the cause is gone, then restarts with every key", async () => {
    const config = await misconf(40);
    await exec("rm", ["-rf", join(dir, "data", "dump.rdb")]);
    const before = await pid();
    const r = await converge(redisServerModule, args(config), conn);
    expect(r.result).toMatchObject({ saved: "rdb", dbsize_before: 40, dbsize_after: 40 });
    expect(await pid()).not.toBe(before);
    expect(await cli("DBSIZE")).toBe("40");
  });

  it("a refused restart of a writable Redis leaves no sentinel key behind", async () => {
    const config = await startRedis(join(dir, "old/redis-server"), 7);
    await mkdir(join(dir, "data", "dump.rdb", "keep"), { recursive: true });
    await expect(converge(redisServerModule, args(config), conn)).rejects.toThrow(
      /refusing to restart Redis holding 8 key/,
    );
    expect(await cli("EXISTS", "tickless:restart-sentinel")).toBe("0");
  });
});

describe("the guard alone against a kill -9 right after it", () => {
  async function guardThenKill(): Promise<Record<string, string>> {
    const cliLine = `redis-cli -h 127.0.0.1 -p ${port}`;
    const g = await conn.run(
      `set -u\n${saveGuardScript({ cli: cliLine, timeoutS: 10, withoutSave: false })}`,
    );
    expect(g.rc).toBe(0);
    await exec("kill", ["-9", String(await pid())]);
    await sleep(50);
    return parseKeyValues(g.stdout);
  }

  it("RDB: the BGSAVE completed after the last write, so nothing is lost", async () => {
    const config = await startRedis("/usr/bin/redis-server", 300);
    expect(await guardThenKill()).toMatchObject({ dbsize_before: "300", saved: "rdb" });
    await exec("/usr/bin/redis-server", [config]);
    for (let i = 0; i < 50 && (await cli("PING").catch(() => "")) !== "PONG"; i++) await sleep(20);
    expect(await cli("DBSIZE")).toBe("300");
  });

  it("AOF: the log is written and synced (appendfsync always)", async () => {
    const config = await startRedis("/usr/bin/redis-server", 120, "appendonly yes\nappendfsync always\n");
    expect(await guardThenKill()).toMatchObject({ dbsize_before: "120", saved: "aof" });
    await exec("/usr/bin/redis-server", [config]);
    for (let i = 0; i < 50 && (await cli("PING").catch(() => "")) !== "PONG"; i++) await sleep(20);
    expect(await cli("DBSIZE")).toBe("120");
  });

  it("a save that does not complete within save_timeout_s refuses the restart", async () => {
    // one second a key: the BGSAVE of 5 keys outlasts a 1 s timeout
    await startRedis("/usr/bin/redis-server", 5, "rdb-key-save-delay 1000000\n");
    const line = `redis-cli -h 127.0.0.1 -p ${port}`;
    const r = await conn.run(saveGuardScript({ cli: line, timeoutS: 1, withoutSave: false }));
    expect(r.rc).toBe(15);
    expect(r.stderr).toContain(
      "refusing to restart Redis holding 5 key(s): no save completed after the last write within 1 s (rdb_changes_since_last_save:5)",
    );
  });

  it("an empty Redis needs no save; a missing data directory is named", async () => {
    await startRedis("/usr/bin/redis-server", 0);
    const line = `redis-cli -h 127.0.0.1 -p ${port}`;
    const empty = await conn.run(saveGuardScript({ cli: line, timeoutS: 5, withoutSave: false }));
    expect(parseKeyValues(empty.stdout)).toMatchObject({ dbsize_before: "0", saved: "empty" });
    await cli("SET", "a", "1");
    await exec("rm", ["-rf", join(dir, "data")]);
    const gone = await conn.run(saveGuardScript({ cli: line, timeoutS: 5, withoutSave: false }));
    expect(gone.rc).toBe(15);
    expect(gone.stderr).toContain("the data directory (removed while Redis runs) does not exist");
  });
});

describe("redis_restart (systemd): save, restart, PING, DBSIZE", () => {
  it("restarts through systemctl after a completed save; the keys are there after", async () => {
    const config = await startRedis("/usr/bin/redis-server", 50);
    const before = await pid();
    // a systemctl that restarts this test's server as the unit would (and only it)
    const bin = join(dir, "bin");
    await mkdir(bin);
    await writeFile(
      join(bin, "systemctl"),
      `#!/bin/sh\n[ "$1 $3" = "restart redis-test" ] || exit 2\nredis-cli -h 127.0.0.1 -p ${port} SHUTDOWN >/dev/null\nwhile kill -0 ${before} 2>/dev/null; do sleep 0.01; done\nexec /usr/bin/redis-server ${config}\n`,
      { mode: 0o755 },
    );
    const host = new LocalConnection();
    const r = await redisRestartModule.apply(
      { ...host, run: (cmd: string, o?: object) => host.run(`PATH=${bin}:$PATH\n${cmd}`, o) } as never,
      { service: "redis-test", port, start_timeout_s: 10 },
      testContext(),
    );
    expect(r).toMatchObject({ saved: "rdb", dbsize_before: 50, dbsize_after: 50 });
    expect(r.failed).toBeUndefined();
    expect(await pid()).not.toBe(before);
  });
});
