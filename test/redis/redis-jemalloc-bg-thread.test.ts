/**
 * redis_jemalloc_bg_thread on a real redis-server this test starts with Debian's setting
 * (`jemalloc-bg-thread yes`) in a config file of its own (2 CPUs here: CPU 1 plays the isolated
 * CPU; the thread is allowed on 0-1). Reported, turned off at runtime and in the file (the thread
 * gone from /proc, a restart keeping it off), a second run changing nothing, check mode predicting
 * the run, and `state: restored` giving back the file byte for byte and the setting (the thread
 * back).
 */
import { execFile } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import {
  configOff,
  planBgThread,
  type RedisBgThreadArgs,
  redisJemallocBgThreadModule,
  threadsOnIsolated,
} from "../../src/modules/redis/redis_jemalloc_bg_thread.js";
import { checkPlan, converge, scratchDir, snapshot } from "../modules/harness.js";
import { freePort } from "../ssh-e2e/helpers.js";

const exec = promisify(execFile);
let dir: string;
let cleanup: () => Promise<void>;
let port: number;
const host = new LocalConnection();

const cli = (...a: string[]) =>
  exec("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...a]).then((r) => r.stdout.trim());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const config = () => join(dir, "redis.conf");

/** As Debian's redis.conf has it: the setting with its comment, among others. */
const DEBIAN = (p: number, d: string) =>
  [
    "# Redis configuration file example.",
    `port ${p}`,
    "bind 127.0.0.1",
    "daemonize yes",
    `logfile ${d}/redis.log`,
    `dir ${d}`,
    'save ""',
    "# Jemalloc background thread for purging will be enabled by default",
    "jemalloc-bg-thread yes",
    "",
    "# Set redis server/io threads to cpu affinity 0,2,4,6:",
    "# server_cpulist 0-7:2",
    "",
  ].join("\n");

async function start(): Promise<void> {
  await exec("/usr/bin/redis-server", [config()]);
  for (let i = 0; i < 50 && (await cli("PING").catch(() => "")) !== "PONG"; i++) await sleep(20);
}

/** The running Redis's thread names, from /proc. */
async function threadNames(): Promise<string[]> {
  const pid = /process_id:(\d+)/.exec(await cli("INFO", "server"))?.[1];
  const tids = await readdir(`/proc/${pid}/task`);
  return Promise.all(tids.map(async (t) => (await readFile(`/proc/${pid}/task/${t}/comm`, "utf8")).trim()));
}

beforeEach(async () => {
  ({ dir, cleanup } = await scratchDir());
  port = await freePort();
  await writeFile(config(), DEBIAN(port, dir));
  await start();
});
afterEach(async () => {
  await cli("SHUTDOWN", "NOSAVE").catch(() => undefined);
  await cleanup();
});

const args = (over: Partial<RedisBgThreadArgs> = {}): RedisBgThreadArgs => ({
  isolated: "1",
  enabled: false,
  port,
  state_file: join(dir, "state/redis-jemalloc-bg-thread.json"),
  ...over,
});

describe("jemalloc's background thread of a stock Redis", () => {
  it("enabled: true changes nothing and names the thread allowed on the isolated CPU (none on a CPU it cannot reach)", async () => {
    expect(await threadNames()).toContain("jemalloc_bg_thd");
    const r = await converge(redisJemallocBgThreadModule, args({ enabled: true }), host);
    expect(r.changes).toEqual([]);
    expect(r.report?.jemalloc_bg_thread).toBe("yes");
    expect(r.report?.config_file).toBe(config());
    expect(r.report?.on_isolated).toEqual([
      expect.stringMatching(/^jemalloc_bg_thd \(TID \d+\) may run on 0-1$/),
    ]);
    const elsewhere = await converge(
      redisJemallocBgThreadModule,
      args({ enabled: true, isolated: "5" }),
      host,
    );
    expect(elsewhere.report?.on_isolated).toEqual([]);
  });

  it("enabled: false: check mode predicts the run; off at runtime and in the config file; a restart keeps it off; a second run changes nothing; restored gives back the file byte for byte and the thread", async () => {
    const original = await readFile(config(), "utf8");
    const before = await snapshot(config());
    const check = await checkPlan(redisJemallocBgThreadModule, args(), host);
    expect(check.map((c) => `${c.target.replace(dir, "")}: ${c.summary.replace(dir, "")}`)).toEqual([
      "/state/redis-jemalloc-bg-thread.json: save jemalloc-bg-thread yes and the original of /redis.conf (state: restored puts them back)",
      "/redis.conf: jemalloc-bg-thread no",
      expect.stringMatching(
        new RegExp(
          `^redis:${port} jemalloc-bg-thread: CONFIG SET jemalloc-bg-thread no: jemalloc_bg_thd \\(TID \\d+\\) may run on 0-1$`,
        ),
      ),
    ]);
    expect(await snapshot(config())).toBe(before);
    expect(await cli("CONFIG", "GET", "jemalloc-bg-thread")).toBe("jemalloc-bg-thread\nyes");

    const first = await converge(redisJemallocBgThreadModule, args(), host);
    expect(first.changes).toEqual(check);
    expect(first.result?.failed).toBeUndefined();
    expect(first.replan).toEqual([]);
    expect(await cli("CONFIG", "GET", "jemalloc-bg-thread")).toBe("jemalloc-bg-thread\nno");
    expect(await threadNames()).not.toContain("jemalloc_bg_thd");
    // only that line changed
    expect(await readFile(config(), "utf8")).toBe(
      original.replace("\njemalloc-bg-thread yes\n", "\njemalloc-bg-thread no\n"),
    );
    const saved = JSON.parse(await readFile(join(dir, "state/redis-jemalloc-bg-thread.json"), "utf8"));
    expect(saved).toMatchObject({ version: 1, port, value: "yes", config: { path: config(), original } });

    await cli("SHUTDOWN", "NOSAVE").catch(() => undefined);
    await start();
    expect(await cli("CONFIG", "GET", "jemalloc-bg-thread")).toBe("jemalloc-bg-thread\nno");
    expect(await threadNames()).not.toContain("jemalloc_bg_thd");

    const second = await converge(redisJemallocBgThreadModule, args(), host);
    expect(second.changes).toEqual([]);

    const back = await converge(redisJemallocBgThreadModule, args({ state: "restored" }), host);
    expect(back.changes.map((c) => c.target.replace(dir, ""))).toEqual([
      "/redis.conf",
      `redis:${port} jemalloc-bg-thread`,
      "/state/redis-jemalloc-bg-thread.json",
    ]);
    expect(back.replan).toEqual([]);
    expect(await readFile(config(), "utf8")).toBe(original);
    expect(await cli("CONFIG", "GET", "jemalloc-bg-thread")).toBe("jemalloc-bg-thread\nyes");
    expect(await threadNames()).toContain("jemalloc_bg_thd");
    expect(await snapshot(join(dir, "state"))).toBe("absent");
    const again = await converge(redisJemallocBgThreadModule, args({ state: "restored" }), host);
    expect(again.changes).toEqual([]);
  });

  it("restored refuses to put the original back over a later edit of the file, naming the save", async () => {
    await converge(redisJemallocBgThreadModule, args(), host);
    await writeFile(config(), `${await readFile(config(), "utf8")}maxmemory 1gb\n`);
    const err = await converge(redisJemallocBgThreadModule, args({ state: "restored" }), host).catch(
      (e: Error) => e,
    );
    expect(String(err instanceof Error ? err.message : err)).toMatch(
      /redis\.conf changed since tickless set jemalloc-bg-thread no in it/,
    );
    expect(await cli("CONFIG", "GET", "jemalloc-bg-thread")).toBe("jemalloc-bg-thread\nno");
  });
});

describe("configOff", () => {
  it("replaces the last say, appends one when there is none, leaves a file that says no", () => {
    expect(configOff("jemalloc-bg-thread yes\nport 1\njemalloc-bg-thread  yes  \n")).toBe(
      "jemalloc-bg-thread yes\nport 1\njemalloc-bg-thread no\n",
    );
    expect(configOff("port 1")).toBe("port 1\njemalloc-bg-thread no\n");
    expect(configOff("# jemalloc-bg-thread yes\n")).toBe("# jemalloc-bg-thread yes\njemalloc-bg-thread no\n");
    expect(configOff("jemalloc-bg-thread no\n")).toBe("jemalloc-bg-thread no\n");
  });
});

describe("threadsOnIsolated and the restore's port", () => {
  it("names each jemalloc_bg_thd allowed on an isolated CPU; none started yet: the main thread's list, which it inherits", () => {
    const out =
      "@@value yes\n@@t 800|redis-server|4\n@@t 801|bio_close_file|0-3,5-7\n@@t 812|jemalloc_bg_thd|0-7\n";
    expect(threadsOnIsolated(out, [4])).toEqual(["jemalloc_bg_thd (TID 812) may run on 0-7"]);
    expect(threadsOnIsolated(out.replace("0-7", "0-3"), [4])).toEqual([]);
    expect(threadsOnIsolated("@@t 800|redis-server|4\n", [4])).toEqual([
      "jemalloc_bg_thd (not started yet; Redis's main thread TID 800) may run on 4",
    ]);
  });

  it("a save of the Redis on another port is not restored onto this one", () => {
    const state = {
      value: "no",
      configPath: "/etc/redis/redis.conf",
      config: { exists: true, content: "jemalloc-bg-thread no\n" },
      onIsolated: [],
      save: {
        path: "/var/lib/tickless/redis-jemalloc-bg-thread.json",
        data: { version: 1 as const, port: 6380, value: "yes" },
      },
    };
    expect(() => planBgThread({ state: "restored", port: 6379 }, state)).toThrow(
      "/var/lib/tickless/redis-jemalloc-bg-thread.json is the save of the Redis on port 6380, not 6379",
    );
    expect(planBgThread({ state: "restored", port: 6380 }, state).map((c) => c.summary)).toEqual([
      "CONFIG SET jemalloc-bg-thread yes (as found)",
      "drop the save (setting given back)",
    ]);
  });
});
