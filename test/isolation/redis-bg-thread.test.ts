/**
 * isolation.yml and rollback.yml with a stock Redis on a lab host of its own (real sshd, real
 * redis-server inside the host, started with Debian's own redis.conf from this machine: port, pid
 * file, log and dir moved, `jemalloc-bg-thread yes` kept). This machine has 2 CPUs, so CPU 1 plays
 * the isolated CPU: Redis's `jemalloc_bg_thd` may run on 0-1. By default the play warns naming the
 * thread and changes nothing of Redis; with redis_jemalloc_bg_thread=false check mode predicts the
 * change, the run turns the thread off at runtime and in the config file (its owner and mode kept),
 * a second run changes nothing, and rollback.yml gives back the file byte for byte and the thread.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { run } from "../e2e/helpers.js";
import { writeNetFixture } from "../lab/irq-fixture.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, labSettings } from "../lab/use-lab.js";
import { freePort } from "../ssh-e2e/helpers.js";

const ROOT = join(import.meta.dirname, "../..");
const HOST_SYS = "/opt/tickless-test/sys";
const HOST_FIXTURE = "/opt/tickless-test/grub-mkconfig.sh";
const CONF = "/etc/redis/redis-bg.conf";
const STOCK = "/etc/redis/redis.conf";
const TASK = "jemalloc's background thread of Redis (jemalloc-bg-thread)";
const WARNING = "jemalloc's background thread may run on the isolated CPUs";

const haveRedis = await readFile(STOCK, "utf8").then(
  () => true,
  () => false,
);

describe.skipIf(!haveRedis)("a stock Redis's jemalloc background thread, isolation.yml on a lab host", () => {
  let lab: Lab;
  let conn: Connection;
  let home: Awaited<ReturnType<typeof isolateHome>>;
  let port: number;
  let results: string;
  const sh = async (cmd: string) => {
    const r = await conn.run(cmd);
    expect(r.rc, `${cmd}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const cli = (...a: string[]) =>
    sh(`redis-cli -h 127.0.0.1 -p ${port} ${a.join(" ")}`).then((s) => s.trim());
  const threads = () =>
    sh(
      `pid=$(redis-cli -p ${port} INFO server | tr -d '\\r' | sed -n 's/^process_id://p'); cat /proc/$pid/task/*/comm`,
    );
  const play = (name: string, check: boolean, extra: Record<string, unknown> = {}) =>
    run({
      playbook: join(ROOT, "playbooks", name),
      inventory: lab.inventoryFile,
      extraVars: {
        require_systemd: false,
        validate_window: 1,
        results_dir: results,
        isolated_cpus: "1",
        housekeeping_cpus: "0,2-7",
        nic_irq_pattern: "^(eth0-TxRx-\\d+|nvme0q0)$",
        grub_mkconfig_command: `sh ${HOST_FIXTURE} -o /boot/grub/grub.cfg`,
        sys_root: HOST_SYS,
        isolation_sysctls: [],
        thp_enabled: "",
        ksm_run: "",
        redis_port: port,
        ...extra,
      },
      check,
      diff: true,
    });
  const task = (r: Awaited<ReturnType<typeof play>>, name: string) => r.results.find((x) => x.task === name);

  beforeAll(async () => {
    lab = await startLab(1, { names: ["bgredis"] });
    home = await isolateHome();
    results = await mkdtemp(join(tmpdir(), "tickless-bg-results-"));
    conn = await openSsh(labSettings(lab, lab.hosts[0]));
    port = await freePort();
    // the sysfs fixture of an 8-CPU host (online CPUs, workqueue mask, a NIC's queues) and GRUB's
    await sh(
      `mkdir -p ${HOST_SYS}/devices/virtual/workqueue ${HOST_SYS}/devices/system/cpu && echo ff > ${HOST_SYS}/devices/virtual/workqueue/cpumask && echo 0-7 > ${HOST_SYS}/devices/system/cpu/online && for n in 0 1 2 3 4 5 6 7; do mkdir -p ${HOST_SYS}/devices/system/cpu/cpu$n/topology && echo $n > ${HOST_SYS}/devices/system/cpu/cpu$n/topology/thread_siblings_list; done`,
    );
    const local = await mkdtemp(join(tmpdir(), "tickless-net-"));
    try {
      await writeNetFixture(join(local, "sys"));
      const tar = await new Promise<Buffer>((resolve, reject) =>
        execFile("tar", ["-C", join(local, "sys"), "-c", "."], { encoding: "buffer" }, (e, out) =>
          e ? reject(e) : resolve(out),
        ),
      );
      await conn.writeFile("/opt/tickless-test/net.tar", tar, { mode: "0644" });
      await sh(`tar -C ${HOST_SYS} -xf /opt/tickless-test/net.tar`);
    } finally {
      await rm(local, { recursive: true, force: true });
    }
    await conn.writeFile(
      HOST_FIXTURE,
      await readFile(join(import.meta.dirname, "fixtures/grub-mkconfig.sh")),
      {
        mode: "0755",
      },
    );
    // Debian's redis.conf, owned by redis (0640) as the package installs it, moved off this machine's own paths
    await sh(
      `mkdir -p /var/lib/tickless-test-redis && chown redis:redis /var/lib/tickless-test-redis && sed -e 's/^port 6379$/port ${port}/' -e 's|^pidfile .*|pidfile /tmp/redis-bg.pid|' -e 's|^logfile .*|logfile ""|' -e 's|^dir .*|dir /var/lib/tickless-test-redis|' ${STOCK} > ${CONF} && chown redis:redis ${CONF} && chmod 0640 ${CONF} && grep -qx 'jemalloc-bg-thread yes' ${CONF} && grep -qx 'port ${port}' ${CONF}`,
    );
    await sh(
      `redis-server ${CONF} && for i in $(seq 50); do redis-cli -p ${port} PING 2>/dev/null | grep -q PONG && break; sleep 0.1; done`,
    );
  });
  afterAll(async () => {
    await conn?.run(`redis-cli -p ${port} SHUTDOWN NOSAVE`);
    await conn?.close();
    await lab?.stop();
    await home?.release();
    await rm(results, { recursive: true, force: true });
  });

  test("by default a warning names the thread and Redis is left as it is; redis_jemalloc_bg_thread=false: check mode predicts, the run turns it off at runtime and in the file, a second run changes nothing, rollback gives back the file byte for byte and the thread", async () => {
    const original = await sh(`cat ${CONF}`);
    const stat = () => sh(`stat -c '%U:%G %a' ${CONF}`);
    const owner = await stat();
    expect(await threads()).toContain("jemalloc_bg_thd");

    const warned = await play("isolation.yml", false);
    expect(warned.summary.exitCode).toBe(0);
    expect(task(warned, TASK)?.status).toBe("ok");
    expect(String(task(warned, WARNING)?.result.msg)).toMatch(
      new RegExp(
        `^WARNING: Redis on port ${port} keeps jemalloc's background thread \\(jemalloc-bg-thread yes\\), which may run on the isolated CPUs 1: jemalloc_bg_thd \\(TID \\d+\\) may run on 0-1\\. Set redis_jemalloc_bg_thread=false`,
      ),
    );
    expect(await sh(`cat ${CONF}`)).toBe(original);
    expect(await cli("CONFIG GET jemalloc-bg-thread")).toBe("jemalloc-bg-thread\nyes");

    const off = { redis_jemalloc_bg_thread: false };
    const check = await play("isolation.yml", true, off);
    const planned = task(check, TASK);
    expect(planned?.status).toBe("changed");
    expect(await sh(`cat ${CONF}`)).toBe(original);
    expect(await cli("CONFIG GET jemalloc-bg-thread")).toBe("jemalloc-bg-thread\nyes");

    const real = await play("isolation.yml", false, off);
    expect(real.summary.exitCode).toBe(0);
    const done = task(real, TASK);
    expect(done?.status).toBe("changed");
    expect(done?.result.changes).toEqual(planned?.result.changes);
    expect((done?.result.changes ?? []).map((c) => c.target)).toEqual([
      "/var/lib/tickless/redis-jemalloc-bg-thread.json",
      CONF,
      `redis:${port} jemalloc-bg-thread`,
    ]);
    expect(task(real, WARNING)?.status).toBe("skipped");
    expect(await cli("CONFIG GET jemalloc-bg-thread")).toBe("jemalloc-bg-thread\nno");
    expect(await threads()).not.toContain("jemalloc_bg_thd");
    expect(await sh(`cat ${CONF}`)).toBe(
      original.replace("\njemalloc-bg-thread yes\n", "\njemalloc-bg-thread no\n"),
    );
    expect(await stat()).toBe(owner);

    const second = await play("isolation.yml", false, off);
    expect(task(second, TASK)?.status).toBe("ok");

    const back = await play("rollback.yml", false);
    expect(back.summary.exitCode).toBe(0);
    expect(
      task(back, "jemalloc-bg-thread as found (Redis's config file byte for byte, then CONFIG SET)")?.status,
    ).toBe("changed");
    expect(await sh(`cat ${CONF}`)).toBe(original);
    expect(await stat()).toBe(owner);
    expect(await cli("CONFIG GET jemalloc-bg-thread")).toBe("jemalloc-bg-thread\nyes");
    expect(await threads()).toContain("jemalloc_bg_thd");
    expect((await conn.run("test -e /var/lib/tickless/redis-jemalloc-bg-thread.json")).rc).toBe(1);
  }, 240_000);
});
