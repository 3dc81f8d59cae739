/**
 * redis_threads on a real redis-server this test starts (2 CPUs here: CPU 1 plays the isolated
 * CPU, CPU 0 housekeeping; only this test's own Redis is pinned): with server_cpulist 1 and the
 * bio/bgsave/aof-rewrite lists on 0, each thread and a BGSAVE child runs where configured, read
 * from /proc/PID/task/TID/{comm,status}; without the lists the main thread is named as misplaced.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import { checkThreads, type RedisThread, redisThreadsModule } from "../../src/modules/redis/redis_threads.js";
import { renderTemplateFile } from "../../src/template/index.js";
import { scratchDir, testContext } from "../modules/harness.js";
import { freePort } from "../ssh-e2e/helpers.js";

const exec = promisify(execFile);
let dir: string;
let cleanup: () => Promise<void>;
let port: number;

const cli = (...a: string[]) =>
  exec("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...a]).then((r) => r.stdout.trim());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(extra: string): Promise<void> {
  const config = join(dir, "redis.conf");
  await writeFile(
    config,
    `port ${port}\nbind 127.0.0.1\ndaemonize yes\nlogfile ${dir}/redis.log\ndir ${dir}\nsave ""\nappendonly yes\n${extra}`,
  );
  await exec("/usr/bin/redis-server", [config]);
  for (let i = 0; i < 50 && (await cli("PING").catch(() => "")) !== "PONG"; i++) await sleep(20);
}

beforeEach(async () => {
  ({ dir, cleanup } = await scratchDir());
  port = await freePort();
});
afterEach(async () => {
  await cli("SHUTDOWN", "NOSAVE").catch(() => undefined);
  await cleanup();
});

const args = () => ({ server_cpus: "1", background_cpus: "0", port });
const run = () => redisThreadsModule.apply(new LocalConnection(), args(), testContext());

describe("redis_threads on a real Redis", () => {
  it("redis.yml's redis.conf with the CPU lists: main thread on CPU 1; bio threads and the BGSAVE child on CPU 0", async () => {
    const conf = await renderTemplateFile(join(import.meta.dirname, "../../templates/redis/redis.conf.hbs"), {
      redis_bind: "127.0.0.1",
      redis_port: port,
      redis_supervisor: "direct",
      redis_pidfile: "",
      redis_logfile: join(dir, "redis.log"),
      redis_data_dir: dir,
      redis_server_cpulist: "1",
      redis_background_cpulist: "0",
    });
    expect(conf).toContain("server_cpulist 1\nbio_cpulist 0\naof_rewrite_cpulist 0\nbgsave_cpulist 0\n");
    // a slow save (100 ms a key) keeps the BGSAVE child alive while the threads are read
    await writeFile(join(dir, "redis.conf"), `${conf}appendonly yes\nrdb-key-save-delay 100000\n`);
    await exec("/usr/bin/redis-server", [join(dir, "redis.conf")]);
    for (let i = 0; i < 50 && (await cli("PING").catch(() => "")) !== "PONG"; i++) await sleep(20);
    await cli("MSET", ...Array.from({ length: 40 }, (_, i) => [`k${i}`, "v"]).flat());
    expect(await cli("BGSAVE")).toBe("Background saving started");
    const r = await run();
    expect(r.failed).toBeUndefined();
    const threads = r.threads as (RedisThread & { role: string; ok: boolean })[];
    const byName = (n: string) => threads.filter((t) => t.comm === n).map((t) => [t.role, t.cpus, t.child]);
    expect(byName("redis-server")).toEqual([["main", "1", false]]);
    for (const bio of ["bio_close_file", "bio_aof_fsync", "bio_lazy_free"]) {
      expect(byName(bio)).toEqual([["background", "0", false]]);
    }
    expect(byName("redis-rdb-bgsave")).toEqual([["background", "0", true]]);
  });

  it("without Redis's CPU lists the main thread and bio threads are named as misplaced", async () => {
    await start("");
    const r = await run();
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(
      /^redis-server \(TID \d+\) may run on 0-1, expected 1; bio_close_file \(TID \d+\) may run on 0-1, expected 0;/,
    );
  });
});

describe("redis.yml's drop-in for the distribution's unit", () => {
  const dropin = (vars: Record<string, unknown>) =>
    renderTemplateFile(join(import.meta.dirname, "../../templates/redis/redis-dropin.conf.hbs"), {
      redis_root: "/opt/redis-hft",
      jemalloc_root: "/opt/jemalloc",
      redis_config: "/etc/redis/redis-hft.conf",
      redis_data_dir: "/var/lib/redis",
      ...vars,
    });
  it("takes sched_setaffinity out of a unit's deny list only when Redis places its threads itself", async () => {
    // Debian's redis-server.service denies @resources; Redis with server_cpulist calls
    // sched_setaffinity as it starts and would die of SIGSYS in a restart loop.
    expect(await dropin({ redis_allow_setaffinity: true })).toMatch(/^SystemCallFilter=sched_setaffinity$/m);
    // Without a deny list, a lone SystemCallFilter= line would be an allow list of one call.
    expect(await dropin({})).not.toMatch(/SystemCallFilter/);
  });

  it("heap profiling: a drop-in of its own sets the profiler's options alone in the variable jemalloc reads", async () => {
    const text = await renderTemplateFile(
      join(import.meta.dirname, "../../templates/redis/redis-heap-profiling.conf.hbs"),
      {
        redis_malloc_conf_var: "JE_MALLOC_CONF",
        redis_heap_profiling_conf: "prof:true,prof_active:true,lg_prof_sample:19",
        redis_heap_profiling_lg_sample: 19,
      },
    );
    const lines = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    // the build's compiled-in options (narenas:2 …) are not repeated: jemalloc reads them first
    expect(lines).toEqual([
      "[Service]",
      "Environment=JE_MALLOC_CONF=prof:true,prof_active:true,lg_prof_sample:19",
    ]);
  });
});

describe("checkThreads (pure)", () => {
  it("io threads go with the main thread; other threads only need to stay within both sets", () => {
    const t = (tid: number, comm: string, cpus: string, child = false) => ({ tid, comm, cpus, child });
    const r = checkThreads({ server_cpus: "4", background_cpus: "0-3" }, 10, [
      t(10, "redis-server", "4"),
      t(11, "io_thd_1", "0-4"),
      t(12, "jemalloc_bg_thd", "0-4"),
      t(13, "jemalloc_bg_thd", "0-7"),
    ]);
    expect(r.msg).toBe(
      "io_thd_1 (TID 11) may run on 0-4, expected 4; jemalloc_bg_thd (TID 13) may run on 0-7, expected 0-4 (redis.conf: server_cpulist, bio_cpulist, bgsave_cpulist, aof_rewrite_cpulist; the unit's CPUAffinity must allow both sets)",
    );
  });
});
