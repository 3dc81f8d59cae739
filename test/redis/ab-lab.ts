/**
 * The interleaved A/B lab shared by the latency gate's tests: one sshd lab host with two stock
 * Redis servers (`ports`: the baseline's and the candidate's) and a third one that fsyncs its
 * append-only file on every write (`fsyncPort`: the planted regression, `appendfsync always`, a
 * real setting that adds a disk flush to each SET), every server pinned to CPU 0 so that no side
 * gets a quieter CPU. `play` runs validate-latency.yml's ab phase on it; `planted` runs one of the
 * three planted cases and returns the gate's report; `expectPlanted` checks its verdict.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { type Run, removeDir, run, tempDir } from "../e2e/helpers.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, labSettings } from "../lab/use-lab.js";
import { freePort } from "../ssh-e2e/helpers.js";

const PLAYBOOK = join(import.meta.dirname, "..", "..", "playbooks", "validate-latency.yml");

export interface AbLab {
  lab: Lab;
  conn: Connection;
  results: string;
  /** The two stock servers: baseline, candidate. */
  ports: [number, number];
  /** The planted regression: a Redis that fsyncs its AOF on every write. */
  fsyncPort: number;
  sh(cmd: string): Promise<string>;
  /** Starts one more server pinned to CPU 0 (stopped with the lab); returns its port. */
  start(dir: string, persistence: string, binary?: string): Promise<number>;
  /** validate-latency.yml's ab phase on the two stock servers, 4 runs of 300 GETs unless overridden. */
  play(extra: Record<string, unknown>): Promise<Run>;
  stop(): Promise<void>;
}

export async function startAbLab(name: string): Promise<AbLab> {
  const home = await isolateHome();
  const lab = await startLab(1, { names: [name] });
  const conn = await openSsh(labSettings(lab, lab.hosts[0]));
  const results = await tempDir("tickless-ab-");
  const sh = async (cmd: string) => {
    const r = await conn.run(cmd);
    if (r.rc !== 0) throw new Error(`${cmd}: rc ${r.rc}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const started: number[] = [];
  // the AOF of the fsync server on /var/lib (the host's overlay over the real disk: /tmp is a
  // tmpfs, whose fsync costs nothing)
  // A free port may be taken by another test's server before this one binds it: the server that
  // answers must be this one (its dir), or another port is tried.
  const start = async (dir: string, persistence: string, binary = "redis-server") => {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      await sh(
        `mkdir -p ${dir} && taskset -c 0 ${binary} --port ${port} --bind 127.0.0.1 --daemonize yes --dir ${dir} --save '' ${persistence} --pidfile ${dir}/redis.pid --logfile ${dir}/redis.log`,
      );
      const ours = await conn.run(
        `for i in $(seq 50); do [ "$(redis-cli -p ${port} CONFIG GET dir 2>/dev/null | sed -n 2p)" = ${dir} ] && exit 0; sleep 0.1; done; exit 1`,
      );
      if (ours.rc === 0) {
        started.push(port);
        return port;
      }
      if (attempt === 5)
        throw new Error(`no Redis with --dir ${dir} answers on port ${port}: ${dir}/redis.log`);
    }
  };
  const stock = await start("/tmp/stock", "--appendonly no");
  const custom = await start("/tmp/custom", "--appendonly no");
  const fsyncPort = await start("/var/lib/planted-fsync", "--appendonly yes --appendfsync always");
  const ports: [number, number] = [stock, custom];
  return {
    lab,
    conn,
    results,
    ports,
    fsyncPort,
    sh,
    start,
    play: (extra) =>
      run({
        playbook: PLAYBOOK,
        inventory: lab.inventoryFile,
        extraVars: {
          latency_phase: "ab",
          latency_baseline_port: ports[0],
          latency_candidate_port: ports[1],
          latency_results_dir: results,
          latency_runs: 4,
          latency_requests: 300,
          latency_tests: ["get"],
          ...extra,
        },
      }),
    async stop() {
      for (const port of started) await conn.run(`redis-cli -p ${port} SHUTDOWN NOSAVE`).catch(() => {});
      await conn.close();
      await lab.stop();
      await removeDir(results);
      await home.release();
    },
  };
}

/** The failed tasks of a run with their messages. */
export const failures = (r: Run) =>
  r.results.filter((e) => e.status === "failed").map((e) => `${e.task}: ${JSON.stringify(e.result?.msg)}`);

export type PlantedCase = "no change" | "regression" | "improvement";

/**
 * One planted case on SET p50 at level alpha: `runs` interleaved runs a side of `requests` SETs,
 * or validate-latency.yml's own default number of runs when `runs` is undefined. The median, not
 * the p99: an fsync costs every SET, while the tail of a run is the machine's (in the full suite,
 * other files' servers and builds share its CPUs: a stock run's p99 reached 2 ms there, as far
 * as an fsync adds).
 */
export async function planted(
  ab: AbLab,
  kase: PlantedCase,
  opts: { runs?: number; requests: number; alpha: number; seed: number },
) {
  const [baselinePort, candidatePort] = {
    "no change": ab.ports,
    regression: [ab.ports[0], ab.fsyncPort],
    improvement: [ab.fsyncPort, ab.ports[0]],
  }[kase];
  const name = { "no change": "same", regression: "fsync", improvement: "nofsync" }[kase];
  const started = Date.now();
  const r = await ab.play({
    latency_name: name,
    latency_baseline: `${name}-base`,
    latency_baseline_port: baselinePort,
    latency_candidate_port: candidatePort,
    latency_tests: ["set"],
    latency_test: "SET",
    latency_metric: "p50_us",
    latency_runs: opts.runs ?? null,
    latency_requests: opts.requests,
    latency_alpha: opts.alpha,
    latency_seed: opts.seed,
    latency_noise_seconds: 0,
  });
  const seconds = (Date.now() - started) / 1000;
  const host = ab.lab.hosts[0].name;
  const report = JSON.parse(await readFile(join(ab.results, host, `gate-${name}.json`), "utf8"));
  const load = (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");
  console.log(
    `planted ${kase}: ${report.line} (U ${report.u}, p ${report.p_value.toExponential(2)}; ${seconds.toFixed(1)} s, load ${load})`,
  );
  expect(report).toMatchObject({ test: "SET", metric: "p50_us", seed: opts.seed });
  return { r, report, seconds, name };
}

/** What the gate must decide in each planted case. */
export async function expectPlanted(ab: AbLab, kase: PlantedCase, r: Run, report: Record<string, any>) {
  const alpha = report.alpha;
  if (kase === "no change") {
    expect(failures(r)).toEqual([]);
    expect(r.summary.exitCode).toBe(0);
    expect(report.verdict).toBe("NO CHANGE");
    expect(report.finding).toBe("no significant change");
    expect(report.p_value).toBeGreaterThanOrEqual(alpha);
    return;
  }
  expect(report.p_value).toBeLessThan(alpha);
  if (kase === "regression") {
    expect(r.summary.exitCode).toBe(2);
    expect(failures(r)).toEqual([`latency gate against the baseline: ${JSON.stringify(report.line)}`]);
    expect(report.verdict).toBe("FAIL");
    expect(report.finding).toBe("regression");
    expect(report.shift.lower).toBeGreaterThan(0);
    expect(report.change_ci_pct[0]).toBeGreaterThan(report.max_regression_pct);
    expect(report.bootstrap.lower).toBeGreaterThan(0);
    expect(report.line).toMatch(/, FAIL \(regression over 5 %\)$/);
    // the planted server did fsync: its AOF holds the benchmark's writes
    expect(Number(await ab.sh("stat -c %s /var/lib/planted-fsync/appendonlydir/*.incr.aof"))).toBeGreaterThan(
      0,
    );
    return;
  }
  expect(failures(r)).toEqual([]);
  expect(r.summary.exitCode).toBe(0);
  expect(report.verdict).toBe("PASS");
  expect(report.finding).toBe("improvement");
  expect(report.shift.upper).toBeLessThan(0);
  expect(report.change_ci_pct[1]).toBeLessThan(0);
  expect(report.bootstrap.upper).toBeLessThan(0);
}
