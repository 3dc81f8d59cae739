/**
 * The latency playbooks under check mode's equivalence (predicts.ts) on a fresh lab host with a real
 * Redis and the real redis-benchmark: latency-monitor.yml (install, then removal), validate-latency.yml
 * (baseline, then candidate with the noise floor), latency-report.yml and heap-profile.yml (the
 * playbooks' own --enable-prof build, from the build cache). What check mode cannot know is named:
 * each measurement, and each task that reads one.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { byStatus, hashTree, removeDir, run, tempDir } from "../e2e/helpers.js";
import { expectCheckPredicts } from "../e2e/predicts.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";
import { freePort } from "../ssh-e2e/helpers.js";
import { buildDefaults, fetchSources, releaseNames, seedBuild } from "./build-cache.js";
import { buildOnLab } from "./lab-build.js";

const PLAYBOOKS = join(import.meta.dirname, "..", "..", "playbooks");
const HOST = "predict-lab";
/** The sampler under /opt (overlaid on the lab host), in a directory the play itself creates. */
const SCRIPT = "/opt/tickless-mon/bin/tickless-latency-sample";
const SAMPLES = "/opt/tickless-mon/samples";
/** Every path the four playbooks may touch on the host, hashed in one command (the host lock's files aside). */
const SNAPSHOT = [
  "for p in /opt/tickless-mon /var/lib/tickless /etc/systemd/system; do",
  `  if [ -e "$p" ]; then find "$p" | grep -Ev '^/var/lib/tickless/lock' | sort | while read -r f; do if [ -f "$f" ]; then echo "$f $(stat -c %a "$f") $(sha256sum < "$f")"; else echo "$f $(stat -c %F:%a "$f")"; fi; done; else echo "$p absent"; fi`,
  "done",
].join("\n");
/** The measurement modules: check mode says each would run; what they find (and write) is the run's. */
const MEASURE = "measure latency";
const NOISE = "the host's intrinsic latency on the isolated CPU (the noise floor)";
const GATE = "latency gate against the baseline";
const REPORT = "the gate over the window, and Redis's memory";
const DUMP = "dump the heap profile";

describe.skipIf(sharedLab() === undefined)("the latency playbooks: check mode predicts the run", () => {
  let lab: Lab;
  let conn: Connection;
  let home: Awaited<ReturnType<typeof isolateHome>>;
  let results: string;
  let port: number;
  let profPort: number;
  let server: string;

  const sh = async (cmd: string) => {
    const r = await conn.run(cmd);
    if (r.rc !== 0) throw new Error(`${cmd}: rc ${r.rc}: ${r.stderr}`);
    return r.stdout.trim();
  };
  /** The host's paths and the controller's copies of the results. */
  const snapshot = async () => ({ host: await sh(SNAPSHOT), controller: await hashTree(results) });
  const readOn = async (_host: string, path: string) => (await conn.readFile(path)).content?.toString();
  const play = (name: string, extra: Record<string, unknown>, check: boolean) =>
    run({
      playbook: join(PLAYBOOKS, name),
      inventory: lab.inventoryFile,
      extraVars: { redis_port: port, latency_results_dir: results, ...extra },
      check,
      diff: true,
    });
  const predicts = (name: string, extra: Record<string, unknown>, named: Named = {}) =>
    expectCheckPredicts({
      check: () => play(name, extra, true),
      real: () => play(name, extra, false),
      snapshot,
      hosts: [HOST],
      read: readOn,
      ...named,
    });
  const startRedis = async (bin: string, p: number, dir: string, env = "") => {
    await sh(
      `mkdir -p ${dir} && ${env} ${bin} --port ${p} --bind 127.0.0.1 --daemonize yes --dir ${dir} --save '' --appendonly no --enable-debug-command local --logfile ${dir}/redis.log`,
    );
    await sh(
      `for i in $(seq 50); do [ "$(redis-cli -p ${p} PING 2>/dev/null)" = PONG ] && exit 0; sleep 0.1; done; exit 1`,
    );
  };

  beforeAll(async () => {
    home = await isolateHome();
    lab = await startLab(1, { names: [HOST] });
    conn = await openSsh(labSettings(lab, lab.hosts[0]));
    results = await tempDir("tickless-latency-predicts-");
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
    port = await freePort();
    profPort = await freePort();
    // stock Redis for the latency runs; the playbooks' build, profiling on, for the heap profile
    await startRedis("redis-server", port, "/tmp/redis-stock");
    await startRedis(server, profPort, "/tmp/redis-prof", "JE_MALLOC_CONF=prof:true,lg_prof_sample:14");
    await sh(`redis-cli -p ${profPort} DEBUG POPULATE 2000 key 500`);
    expect(await sh("test -e /var/lib/tickless/latency || echo fresh")).toBe("fresh");
  }, 1_800_000);

  afterAll(async () => {
    for (const p of [port, profPort]) if (p) await conn?.run(`redis-cli -p ${p} SHUTDOWN NOSAVE`);
    await conn?.close();
    await lab?.stop();
    await removeDir(results);
    await home?.release();
  });

  const monitor = {
    monitor_timer: false,
    monitor_runs: 3,
    monitor_requests: 300,
    monitor_script: SCRIPT,
    monitor_dir: SAMPLES,
  };

  it("latency-monitor.yml: the sampler's directory and script, predicted on a host that has neither", async () => {
    const { check } = await predicts("latency-monitor.yml", monitor);
    expect(byStatus(check, "changed")).toEqual([
      `${HOST}:the sampler's directory`,
      `${HOST}:the sampler script`,
    ]);
    expect(await sh(`stat -c %a ${SCRIPT}`)).toBe("755");
  }, 120_000);

  it("validate-latency.yml, baseline then candidate: the measurements are named, and what reads them is unpredictable", async () => {
    const latency = { latency_runs: 4, latency_requests: 300, latency_tests: ["get"] };
    const base = await predicts(
      "validate-latency.yml",
      { ...latency, latency_phase: "baseline", latency_name: "base" },
      { measured: { [MEASURE]: "redis-benchmark's runs: check mode says it would measure" } },
    );
    // nothing is changed for the record: the results are the measurement's, kept beside it
    expect(byStatus(base.real, "changed")).toEqual([]);
    const baseRecord = JSON.parse(await sh("cat /var/lib/tickless/latency/base.json"));
    expect(baseRecord.runs).toHaveLength(4);

    const cand = await predicts(
      "validate-latency.yml",
      {
        ...latency,
        latency_phase: "candidate",
        latency_name: "cand",
        latency_baseline: "base",
        latency_noise_cpu: 0,
        latency_noise_seconds: 1,
        latency_max_regression_pct: 1e6,
      },
      {
        measured: {
          [NOISE]: "redis-cli --intrinsic-latency: check mode says it would measure",
          [MEASURE]: "redis-benchmark's runs: check mode says it would measure",
        },
        unpredictable: {
          "the gate reports the noise floor": "whether the noise floor was measured",
          [GATE]: "the verdict on runs check mode did not make, with the noise floor",
          "verdict and gate pass rate": "the gate's verdict on the runs",
        },
      },
    );
    const dependsOn = (task: string) => cand.check.results.find((r) => r.task === task)?.result.depends_on;
    expect(dependsOn(GATE)).toBe(NOISE);
    expect(dependsOn("verdict and gate pass rate")).toBe(NOISE);
    const gate = cand.real.results.find((r) => r.task === GATE);
    expect(gate?.status).toBe("ok");
    expect(String(gate?.result.msg)).toMatch(/^GET p99 /);
    expect(await sh("ls /var/lib/tickless/latency")).toMatch(
      /cand\.json[\s\S]*gate-cand\.json[\s\S]*noise-cand\.json/,
    );
  }, 300_000);

  it("latency-report.yml over real samples: the report is a measurement", async () => {
    for (let i = 0; i < 2; i++) await sh(SCRIPT);
    const r = await predicts(
      "latency-report.yml",
      {
        report_baseline: "base",
        report_samples_file: `${SAMPLES}/samples.jsonl`,
        report_leak_pct_per_hour: 1e12,
        report_spike_pct: 100,
      },
      { measured: { [REPORT]: "the gate over samples the run reads: check mode says it would report" } },
    );
    const report = r.real.results.find((x) => x.task === REPORT);
    expect(report?.result.report).toMatchObject({ samples: 2 });
  }, 120_000);

  it("heap-profile.yml: jeprof is looked up in check mode too; the dump is the measurement", async () => {
    const r = await predicts(
      "heap-profile.yml",
      { heap_profile_port: profPort, heap_profile_name: "prof" },
      {
        measured: { [DUMP]: "prof.dump of the running heap: check mode says it would dump" },
        unpredictable: { "what the profile holds": "prints what the dump found" },
      },
    );
    // the lookup runs in check mode (check_mode: false), so the dump's arguments are known there
    const jeprof = (x: typeof r.check) =>
      x.results.find((e) => e.task === "jeprof, when jemalloc.yml installed it");
    expect(jeprof(r.check)?.status).toBe("ok");
    expect(String(jeprof(r.check)?.result.stdout)).toMatch(/\/bin\/jeprof$/);
    expect(jeprof(r.check)?.result.stdout).toBe(jeprof(r.real)?.result.stdout);
    expect(r.check.results.find((e) => e.task === DUMP)?.result.msg).toBe(
      "Command would have run if not in check mode",
    );
    expect(await sh("head -c 8 /var/lib/tickless/latency/prof.heap")).toBe("heap_v2/");
  }, 120_000);

  it("latency-monitor.yml monitor_state=absent: the removal predicted, the samples kept", async () => {
    const { check } = await predicts("latency-monitor.yml", { ...monitor, monitor_state: "absent" });
    expect(byStatus(check, "changed")).toEqual([
      `${HOST}:the sampler's files are gone (the samples stay for the report)`,
    ]);
    expect((await conn.stat(SCRIPT)).exists).toBe(false);
    expect((await conn.stat(`${SAMPLES}/samples.jsonl`)).exists).toBe(true);
  }, 120_000);
});

type Named = Pick<Parameters<typeof expectCheckPredicts>[0], "measured" | "unpredictable">;
