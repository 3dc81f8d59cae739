/** source_archive, release_link, build_id and redis_server's pure parts, on real files through the local connection. */
import { mkdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import { buildId } from "../../src/modules/redis/build_id.js";
import {
  parseKeyValues,
  parseProbe,
  redisServerModule,
  restartProblems,
  restartScript,
  startCommand,
} from "../../src/modules/redis/redis_server.js";
import { releaseLinkModule } from "../../src/modules/redis/release_link.js";
import { sha256Hex, sourceArchiveModule } from "../../src/modules/redis/source_archive.js";
import { checkPlan, converge, scratchDir, testContext } from "../modules/harness.js";

let dir: string;
let cleanup: () => Promise<void>;
const conn = new LocalConnection();
const TARBALL = Buffer.from("not really a tarball, but bytes with a known sum\n");
const SUM = sha256Hex(TARBALL);

beforeEach(async () => {
  ({ dir, cleanup } = await scratchDir());
});
afterEach(() => cleanup());

describe("source_archive", () => {
  it("uploads a controller tarball whose sha256 matches, then leaves it alone", async () => {
    await writeFile(join(dir, "src.tar.gz"), TARBALL);
    const args = { src: join(dir, "src.tar.gz"), dest: join(dir, "host", "src", "x.tar.gz"), sha256: SUM };
    const first = await converge(sourceArchiveModule, args, conn, testContext());
    expect(first.changes.map((c) => c.summary)).toEqual([`upload ${args.src}`]);
    expect(first.replan).toEqual([]);
    expect(await readFile(args.dest)).toEqual(TARBALL);
    expect((await converge(sourceArchiveModule, args, conn, testContext())).changes).toEqual([]);
  });

  it("refuses a controller tarball with another sha256 before anything reaches the host", async () => {
    await writeFile(join(dir, "src.tar.gz"), TARBALL);
    const args = {
      src: join(dir, "src.tar.gz"),
      dest: join(dir, "host", "x.tar.gz"),
      sha256: "0".repeat(64),
    };
    await expect(converge(sourceArchiveModule, args, conn, testContext())).rejects.toThrow(
      /has sha256 [0-9a-f]{64}, expected 0{64}/,
    );
    await expect(readFile(args.dest)).rejects.toThrow(/ENOENT/);
  });

  it("downloads from a URL, verifies, and removes a download whose sum is wrong", async () => {
    await writeFile(join(dir, "mirror.tar.gz"), TARBALL);
    const url = `file://${join(dir, "mirror.tar.gz")}`;
    const good = { url, dest: join(dir, "dl", "ok.tar.gz"), sha256: SUM };
    expect((await converge(sourceArchiveModule, good, conn, testContext())).replan).toEqual([]);
    expect(await readFile(good.dest)).toEqual(TARBALL);
    const bad = { url, dest: join(dir, "dl", "bad.tar.gz"), sha256: "f".repeat(64) };
    await expect(converge(sourceArchiveModule, bad, conn, testContext())).rejects.toThrow(/sha256 mismatch/);
    expect((await conn.run(`ls -A ${join(dir, "dl")}`)).stdout.trim()).toBe("ok.tar.gz");
  });

  it("plans a replacement when the file on the host has another sum (check mode shows the sums)", async () => {
    await mkdir(join(dir, "h"));
    await writeFile(join(dir, "h", "x.tar.gz"), "old");
    const changes = await checkPlan(
      sourceArchiveModule,
      { url: "https://example.invalid/x.tar.gz", dest: join(dir, "h", "x.tar.gz"), sha256: SUM },
      conn,
    );
    expect(changes).toHaveLength(1);
    expect(changes[0].summary).toBe("download https://example.invalid/x.tar.gz (sha256 differs)");
    expect(changes[0].after).toBe(`sha256 ${SUM}\n`);
  });
});

describe("release_link", () => {
  it("switches current atomically, records the previous target, and converges", async () => {
    const a = join(dir, "releases", "a");
    const b = join(dir, "releases", "b");
    await mkdir(a, { recursive: true });
    await mkdir(b, { recursive: true });
    const current = join(dir, "current");
    const record = join(dir, "state", "previous-release");
    expect((await converge(releaseLinkModule, { path: current, target: a }, conn)).replan).toEqual([]);
    expect(await readlink(current)).toBe(a);
    const sw = await converge(releaseLinkModule, { path: current, target: b, previous_file: record }, conn);
    expect(sw.changes.map((c) => c.summary)).toEqual([`switch ${a} → ${b}`]);
    expect(sw.replan).toEqual([]);
    expect(await readlink(current)).toBe(b);
    expect(await readFile(record, "utf8")).toBe(`${a}\n`);
    // a second run changes nothing and keeps the record
    expect(
      (await converge(releaseLinkModule, { path: current, target: b, previous_file: record }, conn)).changes,
    ).toEqual([]);
    expect(await readFile(record, "utf8")).toBe(`${a}\n`);
  });

  it("refuses a missing release and a path that is not a link", async () => {
    const current = join(dir, "current");
    await expect(
      converge(releaseLinkModule, { path: current, target: join(dir, "nope") }, conn),
    ).rejects.toThrow(/does not exist/);
    await mkdir(join(dir, "rel"));
    await writeFile(current, "a file");
    await expect(
      converge(releaseLinkModule, { path: current, target: join(dir, "rel") }, conn),
    ).rejects.toThrow(/not a symbolic link/);
    await rm(current);
  });
});

describe("build_id", () => {
  it("is stable, 12 hex digits, and changes with any input", () => {
    const id = buildId(["7.0.15", "abc", "-O3"]);
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(buildId(["7.0.15", "abc", "-O3"])).toBe(id);
    expect(buildId(["7.0.15", "abc", "-O2"])).not.toBe(id);
    expect(buildId(["7.0.15a", "bc", "-O3"])).not.toBe(id);
  });
});

describe("redis_server (pure parts)", () => {
  const args = { config: "/etc/redis-hft/redis.conf", port: 7001 };
  it("plans nothing when the running exe is the binary's real path", () => {
    const s = parseProbe(
      "/opt/redis-hft/releases/x/bin/redis-server\n42\n/opt/redis-hft/releases/x/bin/redis-server\n",
    );
    expect(redisServerModule.plan(args, s)).toEqual([]);
  });

  it("plans a restart from the stock binary, and a start when nothing runs", () => {
    const s = parseProbe("/opt/redis-hft/releases/x/bin/redis-server\n42\n/usr/bin/redis-server\n");
    expect(redisServerModule.plan(args, s).map((c) => c.summary)).toEqual([
      "restart: /usr/bin/redis-server → /opt/redis-hft/releases/x/bin/redis-server",
    ]);
    expect(redisServerModule.plan(args, parseProbe("/usr/bin/redis-server\n\n\n"))[0].summary).toMatch(
      /^start /,
    );
  });

  it("fails the probe with the real cause when redis-cli is missing, not with a timeout", async () => {
    const missing = { ...args, cli: join(dir, "no-such-redis-cli") };
    await expect(redisServerModule.probe(conn, missing, testContext())).rejects.toThrow(
      /no-such-redis-cli is not installed or not on the PATH/,
    );
  });

  it("puts redis-cli's last answer into the PING timeout message", async () => {
    // A "server" that starts and exits at once, on a port nothing listens on: PING never answers.
    const fake = join(dir, "cli");
    await writeFile(
      fake,
      '#!/bin/sh\necho "Could not connect to Redis at 127.0.0.1:1: Connection refused" >&2\nexit 1\n',
      {
        mode: 0o755,
      },
    );
    const r = await conn.run(restartScript({ ...args, cli: fake, binary: "/bin/true", start_timeout_s: 1 }));
    expect(r.rc).toBe(12);
    expect(r.stderr).toContain(
      "redis did not answer PING within 1 s (last answer: exit 1: Could not connect to Redis at 127.0.0.1:1: Connection refused)",
    );
  });

  it("treats a replaced binary ('(deleted)') as stale", () => {
    const s = parseProbe("/opt/r/bin/redis-server\n42\n/opt/r/bin/redis-server (deleted)\n");
    expect(redisServerModule.plan(args, s)).toHaveLength(1);
  });

  it("plans a restart of the same binary when a start condition differs, naming each one", () => {
    const wants = {
      ...args,
      malloc_opts: { prof: "true", lg_prof_sample: "19" },
      settings: { "enable-debug-command": "local" },
    };
    const exe = "/opt/r/bin/redis-server";
    const plain = parseProbe(
      `${exe}\n42\n${exe}\nopt\tprof\tfalse\nopt\tlg_prof_sample\t19\nset\tenable-debug-command\tno\n`,
    );
    expect(plain).toMatchObject({
      malloc: { prof: "false", lg_prof_sample: "19" },
      settings: { "enable-debug-command": "no" },
    });
    const [change] = redisServerModule.plan(wants, plain);
    expect(change.summary).toBe(
      'restart to apply opt.prof: "false" → "true", enable-debug-command: "no" → "local"',
    );
    expect(change.before).toBe(`${exe}\nopt.prof: false\nopt.lg_prof_sample: 19\nenable-debug-command no\n`);
    expect(change.after).toBe(`${exe}\nopt.prof: true\nopt.lg_prof_sample: 19\nenable-debug-command local\n`);
    const profiled = parseProbe(
      `${exe}\n42\n${exe}\nopt\tprof\ttrue\nopt\tlg_prof_sample\t19\nset\tenable-debug-command\tlocal\n`,
    );
    expect(redisServerModule.plan(wants, profiled)).toEqual([]);
    const off = { ...args, malloc_opts: { prof: "false" }, settings: { "enable-debug-command": "no" } };
    expect(redisServerModule.plan(off, profiled)[0]?.summary).toBe(
      'restart to apply opt.prof: "true" → "false", enable-debug-command: "local" → "no"',
    );
    expect(redisServerModule.plan(off, plain)).toEqual([]);
    // an allocator without a profiler does not report opt.prof: profiling is off
    expect(
      redisServerModule.plan(
        off,
        parseProbe(`${exe}\n42\n${exe}\nopt\tprof\t\nset\tenable-debug-command\tno\n`),
      ),
    ).toEqual([]);
    // a new binary names the binary; the diff still carries the conditions
    const stock = parseProbe(`${exe}\n42\n/usr/bin/redis-server\nopt\tprof\tfalse\n`);
    expect(redisServerModule.plan(wants, stock)[0]?.summary).toBe(`restart: /usr/bin/redis-server → ${exe}`);
  });

  it("starts directly with the variables set, and those asked empty unset", async () => {
    // printenv as the "server": what the started process sees, through a real shell
    const line = (config: string) =>
      startCommand({
        config,
        binary: "/usr/bin/printenv",
        environment: { MALLOC_CONF: "", JE_MALLOC_CONF: "prof:true,prof_active:true" },
      });
    const inherited = "export MALLOC_CONF=narenas:1 JE_MALLOC_CONF=prof:false; ";
    expect((await conn.run(inherited + line("JE_MALLOC_CONF"))).stdout).toBe("prof:true,prof_active:true\n");
    expect((await conn.run(inherited + line("MALLOC_CONF"))).rc).toBe(1);
    expect(startCommand({ config: "/etc/r.conf", binary: "/opt/r/bin/redis-server" })).toBe(
      "/opt/r/bin/redis-server /etc/r.conf",
    );
  });

  it("names lost data and a too long downtime", () => {
    const ok = parseKeyValues("downtime_ms=180\ndbsize_before=12\ndbsize_after=12\nsentinel=ok\n");
    expect(restartProblems(ok, 5000)).toEqual([]);
    const bad = parseKeyValues("downtime_ms=6100\ndbsize_before=12\ndbsize_after=0\nsentinel=lost\n");
    expect(restartProblems(bad, 5000)).toEqual([
      "the sentinel key written before the restart is gone",
      "DBSIZE 12 before the restart, 0 after",
      "downtime 6100 ms is over 5000 ms",
    ]);
  });
});
