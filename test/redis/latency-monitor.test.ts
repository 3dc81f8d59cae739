/**
 * latency-monitor.yml and latency-report.yml on a real sshd lab host with a real Redis: the
 * sampler script the playbook installs is run as its timer would (a shortened schedule: three
 * times, seconds apart, with keys written between them so that Redis's RSS grows), then the
 * report judges the real samples against a real stored baseline.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { type Run, removeDir, run, tempDir } from "../e2e/helpers.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";
import { freePort } from "../ssh-e2e/helpers.js";

const PLAYBOOKS = join(import.meta.dirname, "..", "..", "playbooks");

describe.skipIf(sharedLab() === undefined)("the latency monitor on a lab host", () => {
  let lab: Lab;
  let conn: Connection;
  let home: Awaited<ReturnType<typeof isolateHome>>;
  let results: string;
  let port: number;
  const script = "/tmp/mon/bin/tickless-latency-sample";
  const samples = "/tmp/mon/samples/samples.jsonl";

  const sh = async (cmd: string) => {
    const r = await conn.run(cmd);
    if (r.rc !== 0) throw new Error(`${cmd}: rc ${r.rc}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const play = (name: string, extra: Record<string, unknown>) =>
    run({
      playbook: join(PLAYBOOKS, name),
      inventory: lab.inventoryFile,
      extraVars: { redis_port: port, latency_results_dir: results, ...extra },
    });
  const monitor = (extra: Record<string, unknown> = {}) =>
    play("latency-monitor.yml", {
      monitor_timer: false,
      monitor_runs: 3,
      monitor_requests: 300,
      monitor_script: script,
      monitor_dir: "/tmp/mon/samples",
      ...extra,
    });
  const failures = (r: Run) =>
    r.results.filter((e) => e.status === "failed").map((e) => `${e.task}: ${JSON.stringify(e.result?.msg)}`);

  beforeAll(async () => {
    home = await isolateHome();
    lab = await startLab(1, { names: ["mon-lab"] });
    conn = await openSsh(labSettings(lab, lab.hosts[0]));
    results = await tempDir("tickless-mon-");
    port = await freePort();
    await sh(
      `mkdir -p /tmp/mon/redis && redis-server --port ${port} --bind 127.0.0.1 --daemonize yes --dir /tmp/mon/redis --save '' --appendonly no --pidfile /tmp/mon/redis/redis.pid --logfile /tmp/mon/redis/redis.log`,
    );
    await sh(
      `for i in $(seq 50); do [ "$(redis-cli -p ${port} PING 2>/dev/null)" = PONG ] && exit 0; sleep 0.1; done; exit 1`,
    );
  }, 120_000);

  afterAll(async () => {
    await conn?.run(`redis-cli -p ${port} SHUTDOWN NOSAVE`);
    await conn?.close();
    await lab?.stop();
    await removeDir(results);
    await home?.release();
  });

  it("installs the sampler once, and a second run changes nothing", async () => {
    const first = await monitor();
    expect(failures(first)).toEqual([]);
    expect(await sh(`stat -c %a ${script}`)).toBe("755");
    const body = await sh(`cat ${script}`);
    expect(body).toContain(`-p ${port}`);
    expect(body).toMatch(/taskset -c \d+ redis-benchmark/);
    const again = await monitor();
    expect(again.summary.exitCode).toBe(0);
    expect(again.results.filter((e) => e.status === "changed").map((e) => e.task)).toEqual([]);
  }, 120_000);

  it("reports the gate's pass rate and RSS growth from real samples, and calls a leak", async () => {
    const base = await play("validate-latency.yml", {
      latency_phase: "baseline",
      latency_name: "mon-base",
      latency_runs: 6,
      latency_requests: 300,
      latency_tests: ["get"],
    });
    expect(failures(base)).toEqual([]);
    for (let i = 0; i < 3; i++) {
      await sh(script);
      // keys written between samples: the server's RSS grows as a leak would (about 40 MB a step)
      await sh(`redis-benchmark -p ${port} -t set -n 40000 -r 100000000 -d 1000 -q > /dev/null`);
      await sh("sleep 1");
    }
    await sh(`printf '{"t":1,"p99_us":[1' >> ${samples}`);
    const lines = (await sh(`cat ${samples}`)).split("\n");
    expect(lines).toHaveLength(4);
    const parsed = lines.slice(0, 3).map((l) => JSON.parse(l));
    for (const s of parsed) {
      expect(s.p99_us).toHaveLength(3);
      expect(s.error).toBe("");
      expect(s.rss_bytes).toBeGreaterThan(0);
    }
    expect(parsed[2].used_memory).toBeGreaterThan(parsed[0].used_memory);
    // jemalloc's own totals (MEMORY MALLOC-STATS of the distribution's jemalloc build), growing with the keys
    for (const s of parsed) {
      expect(Object.keys(s.jemalloc)).toEqual([
        "allocated",
        "active",
        "metadata",
        "resident",
        "mapped",
        "retained",
      ]);
      expect(s.jemalloc.active).toBeGreaterThanOrEqual(s.jemalloc.allocated);
      expect(s.jemalloc.resident).toBeGreaterThan(0);
    }
    expect(parsed[2].jemalloc.allocated).toBeGreaterThan(parsed[0].jemalloc.allocated + 50_000_000);

    const r = await play("latency-report.yml", { report_baseline: "mon-base", report_samples_file: samples });
    const task = r.results.find((e) => e.task.startsWith("the gate over the window"));
    const report = task?.result?.report as {
      samples: number;
      passed: number;
      pass_rate: number;
      verdicts: Array<{ verdict: string }>;
      bad_lines: number[];
      rss: { first_bytes: number; last_bytes: number; pct_per_hour: number };
      leak: boolean;
      jemalloc: { first: Record<string, number>; last: Record<string, number> };
    };
    expect(report.samples).toBe(3);
    expect(report.bad_lines).toEqual([4]);
    expect(report.passed).toBe(report.verdicts.filter((v) => v.verdict !== "FAIL").length);
    expect(report.pass_rate).toBeCloseTo(report.passed / 3, 12);
    expect(report.rss.first_bytes).toBe(parsed[0].rss_bytes);
    expect(report.rss.last_bytes).toBe(parsed[2].rss_bytes);
    expect(report.jemalloc).toEqual({ first: parsed[0].jemalloc, last: parsed[2].jemalloc });
    // seconds apart, tens of megabytes more each time: far over 1 %/h
    expect(parsed[1].rss_bytes).toBeGreaterThan(parsed[0].rss_bytes);
    expect(parsed[2].rss_bytes).toBeGreaterThan(parsed[1].rss_bytes);
    expect(report.leak, JSON.stringify(report.rss)).toBe(true);
    expect(task?.status).toBe("failed");
    expect(String(task?.result?.msg)).toMatch(
      /^3 samples in the last 24 h: gate pass rate [\d.]+ % .*: LEAK$/,
    );
    expect(r.summary.exitCode).not.toBe(0);

    const lenient = await play("latency-report.yml", {
      report_baseline: "mon-base",
      report_samples_file: samples,
      report_leak_pct_per_hour: 1e12,
      report_spike_pct: 100,
    });
    expect(failures(lenient)).toEqual([]);
  }, 300_000);

  it("monitor_state=absent removes the sampler and keeps the samples", async () => {
    const r = await monitor({ monitor_state: "absent" });
    expect(failures(r)).toEqual([]);
    expect((await conn.stat(script)).exists).toBe(false);
    expect((await conn.stat(samples)).exists).toBe(true);
  }, 120_000);
});
