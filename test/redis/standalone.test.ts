/**
 * redis_jemalloc=standalone on a real sshd lab host: redis.yml links Redis against the shared
 * libjemalloc jemalloc.yml built (MALLOC=libc + -DUSE_JEMALLOC + -ljemalloc) instead of its
 * bundled copy, under a build id of its own; the running binary proves it (INFO memory says
 * jemalloc-5.3.0, MEMORY MALLOC-STATS shows the compiled-in malloc_conf and opt.narenas: 2, ldd
 * shows the prefix's library), and the documented trade-off holds: no active defrag.
 * The build is cached like the others (build-cache.ts); TICKLESS_FULL_BUILD=1 forces it.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { byStatus, type Run, run } from "../e2e/helpers.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";
import { freePort } from "../ssh-e2e/helpers.js";
import { buildDefaults, fetchSources, releaseNames, saveBuild, seedBuild } from "./build-cache.js";
import { sourceVars } from "./lab-build.js";

const PLAYBOOKS = join(import.meta.dirname, "..", "..", "playbooks");

describe.skipIf(sharedLab() === undefined)("Redis linked against the standalone jemalloc (lab host)", () => {
  let lab: Lab;
  let conn: Connection;
  let home: Awaited<ReturnType<typeof isolateHome>>;
  let cache: string;
  let port: number;
  let vars: Record<string, unknown>;
  let names: { jemalloc: string; redis: string };
  let bundled: string;

  const sh = async (cmd: string) => {
    const r = await conn.run(cmd);
    if (r.rc !== 0) throw new Error(`${cmd}: rc ${r.rc}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const cli = (args: string) => sh(`redis-cli -h 127.0.0.1 -p ${port} ${args}`);
  const play = (name: string, extra: Record<string, unknown> = {}) =>
    run({ playbook: join(PLAYBOOKS, name), inventory: lab.inventoryFile, extraVars: { ...vars, ...extra } });
  const failures = (r: Run) =>
    r.results
      .filter((e) => e.status === "failed")
      .map(
        (e) => `${e.task}: ${JSON.stringify(e.result?.msg)} ${String(e.result?.stderr ?? "").slice(-1500)}`,
      );

  beforeAll(async () => {
    home = await isolateHome();
    cache = await fetchSources();
    const defaults = await buildDefaults();
    names = releaseNames({ ...defaults, redis_jemalloc: "standalone" });
    bundled = releaseNames(defaults).redis;
    lab = await startLab(1, { names: ["redis-standalone"] });
    conn = await openSsh(labSettings(lab, lab.hosts[0]));
    port = await freePort();
    vars = {
      ...sourceVars(cache),
      redis_port: port,
      redis_supervisor: "direct",
      redis_logfile: "/var/lib/redis-hft/redis.log",
      redis_jemalloc: "standalone",
    };
  }, 300_000);

  afterAll(async () => {
    await conn?.run(`redis-cli -p ${port} SHUTDOWN NOSAVE`).catch(() => undefined);
    await conn?.close();
    await lab?.stop();
    await home?.release();
  });

  it("without jemalloc.yml's build, redis.yml says to run it first", async () => {
    const r = await play("redis.yml");
    expect(r.summary.exitCode).not.toBe(0);
    expect(failures(r).join("\n")).toMatch(
      /needs jemalloc\.yml's build at \/opt\/jemalloc-hft\/5\.3\.0-[0-9a-f]{12}: run jemalloc\.yml first/,
    );
    const bad = await play("redis.yml", { redis_jemalloc: "system" });
    expect(failures(bad).join("\n")).toContain("redis_jemalloc must be bundled or standalone, not system");
  });

  it(
    "builds (or reuses the cached build) under its own id and runs on the prefix's libjemalloc",
    async () => {
      await seedBuild(conn, cache, { parent: "/opt/jemalloc-hft", name: names.jemalloc });
      const je = await play("jemalloc.yml");
      expect(failures(je)).toEqual([]);
      if (byStatus(je, "changed").some((t) => t.includes("configure, build and install"))) {
        await saveBuild(conn, cache, { parent: "/opt/jemalloc-hft", name: names.jemalloc });
      }
      const cached = await seedBuild(conn, cache, { parent: "/opt/redis-hft/releases", name: names.redis });
      const t0 = Date.now();
      const r = await play("redis.yml");
      const built = byStatus(r, "changed").some((t) => t.includes("build with the tuned jemalloc"));
      if (built) {
        console.log(`standalone redis build: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        await saveBuild(conn, cache, { parent: "/opt/redis-hft/releases", name: names.redis });
      }
      expect(failures(r)).toEqual([]);
      expect(built).toBe(!cached);
      expect(names.redis).not.toBe(bundled);

      const release = `/opt/redis-hft/releases/${names.redis}`;
      const prefix = `/opt/jemalloc-hft/${names.jemalloc}`;
      const pid = (await cli("INFO server")).match(/process_id:(\d+)/)?.[1];
      expect(await sh(`readlink /proc/${pid}/exe`)).toBe(`${release}/bin/redis-server`);
      expect(await cli("INFO memory")).toMatch(/mem_allocator:jemalloc-5\.3\.0\r?$/m);
      const stats = await cli("MEMORY MALLOC-STATS");
      expect(stats).toContain('config.malloc_conf: "narenas:2,background_thread:false,metadata_thp:auto"');
      expect(stats).toMatch(/opt\.narenas: 2\b/);
      expect(stats).toMatch(/config\.prof: true/);
      expect(await sh(`ldd ${release}/bin/redis-server | grep libjemalloc`)).toContain(
        `${prefix}/lib/libjemalloc.so.2`,
      );
      // the process really maps the prefix's library (not only the file on disk)
      expect(await sh(`grep -c ${prefix}/lib/libjemalloc.so.2 /proc/${pid}/maps`)).not.toBe("0");
      const log = await sh(`cat ${release}/build.log`);
      expect(log).toContain(`-DUSE_JEMALLOC -DJEMALLOC_NO_DEMANGLE -I${prefix}/include`);
      expect(log).not.toContain("deps/jemalloc/lib/libjemalloc.a");
      expect(await sh(`cat ${release}/.tickless-build`)).toContain("jemalloc=standalone --enable-prof");
      // the trade-off: Redis has HAVE_DEFRAG only with its patched copy (JEMALLOC_FRAG_HINT)
      const defrag = await conn.run(`redis-cli -p ${port} CONFIG SET activedefrag yes`);
      expect(defrag.stdout).toContain("Active defragmentation cannot be enabled");
    },
    30 * 60_000,
  );

  it("a second run rebuilds and changes nothing", async () => {
    const r = await play("redis.yml");
    expect(failures(r)).toEqual([]);
    expect(byStatus(r, "changed")).toEqual([]);
  }, 120_000);
});
