/**
 * heap-profile.yml on a real sshd lab host against the playbooks' own build (Redis 7.0.15 with its
 * bundled jemalloc configured --enable-prof, and jemalloc.yml's release for jeprof, both from the
 * build cache; a cold cache builds them first): Redis started with JE_MALLOC_CONF=prof:true and a
 * known dataset (DEBUG POPULATE), then the profile is dumped, kept and read by jeprof.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { type Run, removeDir, run, tempDir } from "../e2e/helpers.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";
import { freePort } from "../ssh-e2e/helpers.js";
import { buildDefaults, fetchSources, releaseNames, seedBuild } from "./build-cache.js";
import { buildOnLab } from "./lab-build.js";

const PLAYBOOK = join(import.meta.dirname, "..", "..", "playbooks", "heap-profile.yml");
const KEYS = 5000;
const VALUE_BYTES = 2000;

describe.skipIf(sharedLab() === undefined)("heap profile of a running Redis on a lab host", () => {
  let lab: Lab;
  let conn: Connection;
  let home: Awaited<ReturnType<typeof isolateHome>>;
  let results: string;
  let server: string;
  const ports: number[] = [];

  const sh = async (cmd: string) => {
    const r = await conn.run(cmd);
    if (r.rc !== 0) throw new Error(`${cmd}: rc ${r.rc}: ${r.stderr}`);
    return r.stdout.trim();
  };
  /** A Redis of the build on a free port, with its own dir and environment. */
  const start = async (name: string, env: string, debug: "local" | "no") => {
    const port = await freePort();
    ports.push(port);
    const dir = `/var/lib/heap-${name}`;
    await sh(
      `mkdir -p ${dir} && ${env} ${server} --port ${port} --bind 127.0.0.1 --daemonize yes --dir ${dir} --save '' --appendonly no --enable-debug-command ${debug} --logfile ${dir}/redis.log`,
    );
    await sh(
      `for i in $(seq 50); do [ "$(redis-cli -p ${port} PING 2>/dev/null)" = PONG ] && exit 0; sleep 0.1; done; exit 1`,
    );
    return port;
  };
  const play = (port: number, name: string, check = false) =>
    run({
      playbook: PLAYBOOK,
      inventory: lab.inventoryFile,
      check,
      extraVars: { heap_profile_port: port, heap_profile_name: name, latency_results_dir: results },
    });
  const failures = (r: Run) =>
    r.results.filter((e) => e.status === "failed").map((e) => `${e.task}: ${JSON.stringify(e.result?.msg)}`);

  beforeAll(async () => {
    home = await isolateHome();
    lab = await startLab(1, { names: ["heap-lab"] });
    conn = await openSsh(labSettings(lab, lab.hosts[0]));
    results = await tempDir("tickless-heap-");
    const cache = await fetchSources();
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
    server = `/opt/redis-hft/releases/${names.redis}/bin/redis-server`;
  }, 1_800_000);

  afterAll(async () => {
    for (const port of ports) await conn?.run(`redis-cli -p ${port} SHUTDOWN NOSAVE`);
    await conn?.close();
    await lab?.stop();
    await removeDir(results);
    await home?.release();
  });

  it("dumps the profile through DEBUG MALLCTL-STR, keeps it with the malloc stats, and jeprof reads it", async () => {
    // a sample every 16 KiB on average, so that a 10 MB dataset gives hundreds of samples
    const port = await start("prof", "JE_MALLOC_CONF=prof:true,lg_prof_sample:14", "local");
    expect(await sh(`redis-cli -p ${port} DEBUG POPULATE ${KEYS} key ${VALUE_BYTES}`)).toBe("OK");
    // check mode: says what it would do, dumps nothing
    const dry = await play(port, "heap-dry", true);
    expect(failures(dry)).toEqual([]);
    expect(dry.summary.exitCode).toBe(0);
    expect(await sh("ls -A /var/lib/tickless/latency/ 2>/dev/null | grep -c heap-dry || true")).toBe("0");
    const r = await play(port, "heap-prof");
    expect(failures(r)).toEqual([]);
    expect(r.summary.exitCode).toBe(0);

    const dir = join(results, "heap-lab");
    const heap = await readFile(join(dir, "heap-prof.heap"), "utf8");
    expect(heap.startsWith("heap_v2/16384\n")).toBe(true);
    expect(heap).toContain("MAPPED_LIBRARIES:");
    expect(await sh("head -c 13 /var/lib/tickless/latency/heap-prof.heap")).toBe("heap_v2/16384");
    // Redis's own directory keeps no leftover dump
    expect(await sh(`ls -A /var/lib/heap-prof`)).toBe("redis.log");
    const stats = await readFile(join(dir, "heap-prof.malloc-stats.txt"), "utf8");
    expect(stats).toContain("___ Begin jemalloc statistics ___");
    expect(stats).toMatch(/config\.prof: true/);

    const summary = JSON.parse(await readFile(join(dir, "heap-prof.json"), "utf8"));
    expect(summary).toMatchObject({
      format: "heap_v2",
      sample_interval_bytes: 16384,
      prof_active: true,
      port,
    });
    expect(summary.executable).toBe(server);
    const dataset = KEYS * VALUE_BYTES;
    // a 2,000-byte value is sampled about once in 8 (2,000 / 16,384): hundreds of samples, a
    // fraction of the heap, which jeprof's estimate scales back to the whole
    expect(summary.sampled_objects).toBeGreaterThan(300);
    expect(summary.sampled_bytes).toBeLessThan(summary.used_memory);
    expect(summary.stacks).toBeGreaterThan(5);
    expect(summary.jeprof_total_bytes).toBeGreaterThan(dataset * 0.7);
    expect(summary.jeprof_total_bytes).toBeLessThan(summary.used_memory * 2);
    // the dataset was made by DEBUG POPULATE: the profile puts most of the heap under it
    const populate = summary.jeprof_top.find((e: { function: string }) => e.function === "debugCommand");
    expect(populate?.cum_bytes).toBeGreaterThan(dataset * 0.6);
    const text = await readFile(join(dir, "heap-prof.jeprof.txt"), "utf8");
    expect(text).toMatch(/^Total: \d+ B$/m);
    const line = r.results.find((e) => e.task === "what the profile holds");
    console.log(
      `heap profile: ${String(line?.result?.msg)}; jeprof total ${summary.jeprof_total_bytes} B, used_memory ${summary.used_memory} B, under debugCommand ${populate?.cum_bytes} B`,
    );
    expect(String(line?.result?.msg)).toMatch(/^heap profile of redis:\d+: \d+ sampled live objects/);
  }, 300_000);

  it("says why, and keeps nothing, when profiling was not enabled at start or DEBUG is refused", async () => {
    const plain = await start("plain", "", "local");
    const r = await play(plain, "heap-plain");
    expect(r.summary.exitCode).toBe(2);
    expect(failures(r).join("\n")).toMatch(
      /profiler was not enabled when this Redis started \(opt\.prof: 0\)/,
    );
    const locked = await start("locked", "JE_MALLOC_CONF=prof:true", "no");
    const l = await play(locked, "heap-locked");
    expect(l.summary.exitCode).toBe(2);
    expect(failures(l).join("\n")).toMatch(/refuses DEBUG/);
    expect(
      await sh("ls /var/lib/tickless/latency/ 2>/dev/null | grep -c -E 'heap-(plain|locked)' || true"),
    ).toBe("0");
  }, 120_000);
});
