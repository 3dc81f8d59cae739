/**
 * redis.yml's `redis_heap_profiling` on a real sshd lab host, with the playbooks' own build (Redis
 * 7.0.15 and its bundled jemalloc configured --enable-prof, from the build cache; a cold cache builds
 * it first) and a stock Redis holding data before: without the option heap-profile.yml is refused;
 * with it, check mode predicts the restart and the config, the run restarts Redis after a completed
 * save with the profiler on beside the build's own options, a second run changes nothing, and
 * heap-profile.yml writes a profile; a restart that cannot save first is refused as any other;
 * off again gives the config back byte for byte and the profiler off; rollback-redis.yml after the
 * option gives back the stock config.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { byStatus, type Run, removeDir, run, tempDir } from "../e2e/helpers.js";
import { expectCheckPredicts } from "../e2e/predicts.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";
import { freePort } from "../ssh-e2e/helpers.js";
import { buildDefaults, fetchSources, releaseNames, seedBuild } from "./build-cache.js";
import { buildOnLab, sourceVars } from "./lab-build.js";

const PLAYBOOKS = join(import.meta.dirname, "..", "..", "playbooks");
const CONFIG = "/etc/redis-hft/redis.conf";
const RESTART = "Redis runs the current release";

describe.skipIf(sharedLab() === undefined)("redis.yml's heap profiling option on a lab host", () => {
  let lab: Lab;
  let conn: Connection;
  let home: Awaited<ReturnType<typeof isolateHome>>;
  let results: string;
  let port: number;
  let release: string;
  let vars: Record<string, unknown>;
  let configOff: string;
  let cache: string;
  const stockConfig = (p: number) =>
    `# stock config\nbind 127.0.0.1\nport ${p}\ndaemonize yes\npidfile /var/lib/redis-hft/stock.pid\ndir /var/lib/redis-hft\nsave 900 1\nlogfile /var/lib/redis-hft/stock.log\n`;

  const sh = async (cmd: string) => {
    const r = await conn.run(cmd);
    if (r.rc !== 0) throw new Error(`${cmd}: rc ${r.rc}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const cli = (args: string) => sh(`redis-cli -h 127.0.0.1 -p ${port} ${args}`);
  const pid = async () => (await cli("INFO server")).match(/process_id:(\d+)/)?.[1];
  const opt = async (name: string) =>
    new RegExp(`^ *opt\\.${name}: (\\S+)`, "m").exec(await cli("MEMORY MALLOC-STATS"))?.[1];
  const play = (name: string, extra: Record<string, unknown> = {}, check = false) =>
    run({
      playbook: join(PLAYBOOKS, name),
      inventory: lab.inventoryFile,
      extraVars: { ...vars, ...extra },
      check,
    });
  const profile = (name: string) =>
    play("heap-profile.yml", { heap_profile_name: name, latency_results_dir: results });
  const failures = (r: Run) =>
    r.results
      .filter((e) => e.status === "failed")
      .map((e) => `${e.task}: ${JSON.stringify(e.result?.msg ?? e.result)}`);
  /** What check mode must leave alone: the managed trees, the config's bytes, the running process. */
  const hostState = async () =>
    sh(
      `find /opt/redis-hft /etc/redis-hft /var/lib/tickless -printf '%p %y %l %s\\n' 2>/dev/null | grep -Ev '^/var/lib/tickless(/lock)? ' | sort; md5sum ${CONFIG}; echo pid ${await pid()}`,
    );
  const readOn = async (_host: string, path: string) => (await conn.readFile(path)).content?.toString();

  beforeAll(async () => {
    home = await isolateHome();
    lab = await startLab(1, { names: ["heapopt-lab"] });
    conn = await openSsh(labSettings(lab, lab.hosts[0]));
    results = await tempDir("tickless-heapopt-");
    port = await freePort();
    cache = await fetchSources();
    const names = releaseNames(await buildDefaults());
    const trees = [
      { parent: "/opt/redis-hft/releases", name: names.redis },
      { parent: "/opt/jemalloc-hft", name: names.jemalloc },
    ];
    const seed = async () => (await Promise.all(trees.map((t) => seedBuild(conn, cache, t)))).every(Boolean);
    if (!(await seed())) {
      await buildOnLab({});
      if (!(await seed())) throw new Error("the build cache has no release trees after building them");
    }
    release = `/opt/redis-hft/releases/${names.redis}`;
    vars = {
      ...sourceVars(cache),
      redis_port: port,
      redis_supervisor: "direct",
      redis_logfile: "/var/lib/redis-hft/redis.log",
    };
    // stock Redis, as a Debian host has it, with data
    await sh("mkdir -p /etc/redis-hft /var/lib/redis-hft");
    await conn.writeFile(CONFIG, stockConfig(port));
    await sh(`/usr/bin/redis-server ${CONFIG}`);
    await sh(
      `for i in $(seq 50); do [ "$(redis-cli -p ${port} PING 2>/dev/null)" = PONG ] && exit 0; sleep 0.1; done; exit 1`,
    );
    await sh(`seq 2000 | sed 's/.*/SET key:& value-&/' | redis-cli -p ${port} >/dev/null`);
    await cli("SET trade:last 101.25");
  }, 1_800_000);

  afterAll(async () => {
    await conn?.run(`redis-cli -p ${port} SHUTDOWN NOSAVE`);
    await conn?.close();
    await lab?.stop();
    await removeDir(results);
    await home?.release();
  });

  it("without the option: the custom build runs with the profiler off and DEBUG refused; heap-profile.yml says why and keeps nothing", async () => {
    const r = await play("redis.yml");
    expect(failures(r)).toEqual([]);
    expect(r.summary.exitCode).toBe(0);
    expect(await sh(`readlink /proc/${await pid()}/exe`)).toBe(`${release}/bin/redis-server`);
    expect(await opt("prof")).toBe("false");
    expect(await cli("CONFIG GET enable-debug-command")).toBe("enable-debug-command\nno");
    configOff = await sh(`cat ${CONFIG}`);
    expect(configOff).not.toMatch(/enable-debug-command/);

    const p = await profile("heap-off");
    expect(p.summary.exitCode).toBe(2);
    expect(failures(p).join("\n")).toMatch(/Redis refuses DEBUG.*redis_heap_profiling=true/);
    expect(await sh("ls /var/lib/tickless/latency/ 2>/dev/null | grep -c heap-off || true")).toBe("0");
  }, 300_000);

  it("with the option: check mode predicts the config and the restart; the run restarts after a save, the profiler on beside the build's options", async () => {
    const on = { redis_heap_profiling: true, redis_heap_profiling_lg_sample: 14 };
    const before = await pid();
    const { check, real } = await expectCheckPredicts({
      check: () => play("redis.yml", on, true),
      real: () => play("redis.yml", on),
      snapshot: hostState,
      hosts: ["heapopt-lab"],
      read: readOn,
    });
    expect(byStatus(check, "changed").sort()).toEqual(
      [
        "redis.conf (jemalloc-bg-thread no; enable-debug-command local with heap profiling)",
        `${RESTART} (a completed save before, data checked after)`,
      ]
        .map((t) => `heapopt-lab:${t}`)
        .sort(),
    );
    const planned = check.results.find((e) => e.task.startsWith(RESTART))?.result?.changes?.[0]?.summary;
    expect(planned).toBe(
      'restart to apply opt.prof: "false" → "true", opt.lg_prof_sample: "19" → "14", enable-debug-command: "no" → "local"',
    );
    expect(failures(real)).toEqual([]);
    const restart = real.results.find((e) => e.task.startsWith(RESTART))?.result;
    expect(restart).toMatchObject({ saved: "rdb", dbsize_before: 2002, dbsize_after: 2002, sentinel: "ok" });
    expect(await pid()).not.toBe(before);
    expect(await sh(`readlink /proc/${await pid()}/exe`)).toBe(`${release}/bin/redis-server`);
    // the profiler's options from the environment, the build's compiled-in ones kept
    const stats = await cli("MEMORY MALLOC-STATS");
    expect(stats).toContain('config.malloc_conf: "narenas:2,background_thread:false,metadata_thp:auto"');
    expect(await opt("narenas")).toBe("2");
    expect(await opt("prof")).toBe("true");
    expect(await opt("prof_active")).toBe("true");
    expect(await opt("lg_prof_sample")).toBe("14");
    expect(await cli("CONFIG GET enable-debug-command")).toBe("enable-debug-command\nlocal");
    const config = await sh(`cat ${CONFIG}`);
    expect(config).toBe(
      `${configOff}\n# heap-profile.yml reaches jemalloc's profiler through DEBUG MALLCTL (redis_heap_profiling)\nenable-debug-command local`,
    );
    expect(await cli("DBSIZE")).toBe("2001");

    const again = await play("redis.yml", on);
    expect(failures(again)).toEqual([]);
    expect(byStatus(again, "changed")).toEqual([]);
  }, 300_000);

  it("heap-profile.yml then writes a profile of the data", async () => {
    await cli("DEBUG POPULATE 3000 pop 2000");
    const r = await profile("heap-on");
    expect(failures(r)).toEqual([]);
    expect(r.summary.exitCode).toBe(0);
    const heap = await readFile(join(results, "heapopt-lab", "heap-on.heap"), "utf8");
    expect(heap.startsWith("heap_v2/16384\n")).toBe(true);
    const summary = JSON.parse(await readFile(join(results, "heapopt-lab", "heap-on.json"), "utf8"));
    expect(summary.sampled_objects).toBeGreaterThan(100);
    expect(summary.sampled_bytes).toBeGreaterThan(0);
    console.log(
      `heap profile through redis.yml's option: ${String(r.results.find((e) => e.task === "what the profile holds")?.result?.msg)}`,
    );
    await cli("FLUSHALL");
    await sh(`seq 2000 | sed 's/.*/SET key:& value-&/' | redis-cli -p ${port} >/dev/null`);
    await cli("SET trade:last 101.25");
  }, 300_000);

  it("off again: refused while the data cannot be saved; then the config's bytes come back and the profiler is off", async () => {
    // the RDB's final name taken by a directory: every BGSAVE fails, even as root (2002 keys with
    // the restart's sentinel)
    await sh("rm -f /var/lib/redis-hft/dump.rdb && mkdir -p /var/lib/redis-hft/dump.rdb/keep");
    const before = await pid();
    let refused: Run;
    try {
      refused = await play("redis.yml", { redis_heap_profiling: false });
    } finally {
      await sh("rm -rf /var/lib/redis-hft/dump.rdb");
    }
    expect(refused.summary.exitCode).toBe(2);
    expect(failures(refused).join("\n")).toMatch(
      /not restarted: refusing to restart Redis holding 2002 key\(s\): BGSAVE to \/var\/lib\/redis-hft\/dump\.rdb failed/,
    );
    expect(await pid()).toBe(before);
    expect(await opt("prof")).toBe("true");
    // the failed save stops writes (MISCONF): the restart's sentinel key cannot be deleted, and expires
    const ttl = Number(await cli("TTL tickless:restart-sentinel"));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60 + 40 + 600);

    const r = await play("redis.yml", { redis_heap_profiling: "false" });
    expect(failures(r)).toEqual([]);
    expect(byStatus(r, "changed").join("\n")).toContain(RESTART);
    expect(await sh(`cat ${CONFIG}`)).toBe(configOff);
    expect(await opt("prof")).toBe("false");
    expect(await opt("narenas")).toBe("2");
    expect(await cli("DBSIZE")).toBe("2001");
    const p = await profile("heap-off-again");
    expect(p.summary.exitCode).toBe(2);
    expect(failures(p).join("\n")).toMatch(/Redis refuses DEBUG/);
    const again = await play("redis.yml");
    expect(byStatus(again, "changed")).toEqual([]);
  }, 300_000);

  it("rollback-redis.yml after the option: the stock binary on the stock config, no profiler", async () => {
    const on = await play("redis.yml", { redis_heap_profiling: true });
    expect(failures(on)).toEqual([]);
    expect(await opt("prof")).toBe("true");
    const r = await play("rollback-redis.yml");
    expect(failures(r)).toEqual([]);
    expect(await sh(`cat ${CONFIG}`)).toBe(stockConfig(port).trim());
    expect(await sh(`readlink /proc/${await pid()}/exe`)).toBe(await sh("readlink -f /usr/bin/redis-server"));
    expect(await opt("prof")).toBe("false");
    expect(await cli("CONFIG GET enable-debug-command")).toBe("enable-debug-command\nno");
    expect(await cli("GET trade:last")).toBe("101.25");
  }, 300_000);

  it("the standalone build: the variable is MALLOC_CONF, the profile is written, and off again", async () => {
    const standalone = { redis_jemalloc: "standalone" };
    const name = releaseNames({ ...(await buildDefaults()), ...standalone }).redis;
    const tree = { parent: "/opt/redis-hft/releases", name };
    if (!(await seedBuild(conn, cache, tree))) {
      await buildOnLab(standalone);
      if (!(await seedBuild(conn, cache, tree))) throw new Error("the build cache has no standalone tree");
    }
    const r = await play("redis.yml", { ...standalone, redis_heap_profiling: true });
    expect(failures(r)).toEqual([]);
    expect(await sh(`readlink /proc/${await pid()}/exe`)).toBe(
      `/opt/redis-hft/releases/${name}/bin/redis-server`,
    );
    expect(await cli("INFO memory")).toMatch(/mem_allocator:jemalloc-5\.3\.0/);
    expect(await cli("MEMORY MALLOC-STATS")).toContain(
      'config.malloc_conf: "narenas:2,background_thread:false,metadata_thp:auto"',
    );
    expect(await opt("narenas")).toBe("2");
    expect(await opt("prof")).toBe("true");
    await cli("DEBUG POPULATE 3000 pop 2000");
    const p = await profile("heap-standalone");
    expect(failures(p)).toEqual([]);
    const summary = JSON.parse(await readFile(join(results, "heapopt-lab", "heap-standalone.json"), "utf8"));
    expect(summary.sample_interval_bytes).toBe(524288);
    // as Redis was started: through the current link
    expect(summary.executable).toBe("/opt/redis-hft/current/bin/redis-server");
    expect(summary.sampled_objects).toBeGreaterThan(0);
    console.log(
      `standalone build with the option: ${String(p.results.find((e) => e.task === "what the profile holds")?.result?.msg)}`,
    );

    const off = await play("redis.yml", standalone);
    expect(failures(off)).toEqual([]);
    expect(await opt("prof")).toBe("false");
    expect(await cli("CONFIG GET enable-debug-command")).toBe("enable-debug-command\nno");
  }, 1_800_000);
});
