/**
 * The three planted cases at validate-latency.yml's default sizes (opt-in: a few minutes on a
 * loaded machine; TICKLESS_LATENCY_DEFAULT_SIZES=1): the ab phase with no latency_runs given, so
 * the playbook's own 50 runs a side, interleaved, against two servers running side by side; then
 * the sequential protocol's defaults, 100 baseline runs and 50 candidate runs. Each run is 400 SETs
 * (the verdict on SET p50 at alpha 0.001, as in ab-latency.test.ts, which runs the same cases at
 * 24 runs a side in the default suite). Last, the two Redis builds themselves side by side: the
 * stock server against the custom build from the build cache (redis.yml's release tree), with the
 * playbook's defaults but for a shorter run.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedLab } from "../lab/use-lab.js";
import { type AbLab, expectPlanted, failures, type PlantedCase, planted, startAbLab } from "./ab-lab.js";
import { buildDefaults, fetchSources, releaseNames, seedBuild } from "./build-cache.js";

const OPT_IN = process.env.TICKLESS_LATENCY_DEFAULT_SIZES === "1";
const ALPHA = 0.001;
const REQUESTS = 400;

describe.runIf(OPT_IN && sharedLab() !== undefined)("the planted cases at the default sizes", () => {
  let ab: AbLab;

  beforeAll(async () => {
    ab = await startAbLab("ab-defaults");
  }, 120_000);

  afterAll(async () => {
    await ab?.stop();
  });

  const cases: Array<[PlantedCase, number]> = [
    ["no change", 21],
    ["regression", 22],
    ["improvement", 23],
  ];
  it.each(cases)(
    "interleaved, 50 runs a side by default: %s",
    async (kase, seed) => {
      const { r, report, name } = await planted(ab, kase, { requests: REQUESTS, alpha: ALPHA, seed });
      expect(report).toMatchObject({ n_baseline: 50, n_candidate: 50 });
      const host = ab.lab.hosts[0].name;
      const rec = JSON.parse(await readFile(join(ab.results, host, `${name}.json`), "utf8"));
      expect(rec).toMatchObject({ protocol: "interleaved", seed });
      expect(rec.order).toHaveLength(50);
      expect(rec.runs).toHaveLength(50);
      // every run keeps its whole latency distribution (HDR percentile ticks, µs), not only p99
      for (const run of rec.runs) expect(run.SET.histogram.at(-1)).toEqual([100, run.SET.max_us]);
      await expectPlanted(ab, kase, r, report);
    },
    1_200_000,
  );

  it("sequential, 100 baseline runs then 50 candidate runs by default: the fsync candidate fails", async () => {
    const common = {
      latency_tests: ["set"],
      latency_test: "SET",
      latency_runs: null,
      latency_requests: REQUESTS,
      latency_alpha: ALPHA,
      latency_seed: 24,
      latency_noise_seconds: 0,
      latency_baseline: "seq-base",
      latency_baseline_port: null,
    };
    const started = Date.now();
    const base = await ab.play({
      ...common,
      latency_phase: "baseline",
      latency_name: "seq-base",
      redis_port: ab.ports[0],
    });
    expect(failures(base)).toEqual([]);
    const cand = await ab.play({
      ...common,
      latency_phase: "candidate",
      latency_name: "seq-fsync",
      redis_port: ab.fsyncPort,
    });
    const report = JSON.parse(
      await readFile(join(ab.results, ab.lab.hosts[0].name, "gate-seq-fsync.json"), "utf8"),
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const load = (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");
    console.log(
      `sequential, planted regression: ${report.line} (U ${report.u}, p ${report.p_value.toExponential(2)}; ${seconds} s, load ${load})`,
    );
    expect(report).toMatchObject({ n_baseline: 100, n_candidate: 50 });
    await expectPlanted(ab, "regression", cand, report);
  }, 1_200_000);

  it("the stock server and the custom build side by side, the same config and dataset: interleaved, with a verdict", async (ctx) => {
    const cache = await fetchSources();
    const tree = { parent: "/opt/redis-hft/releases", name: releaseNames(await buildDefaults()).redis };
    // the release trees come from the build cache (redis-playbooks.test.ts fills it); no build here
    if (!(await seedBuild(ab.conn, cache, tree))) ctx.skip();
    const custom = await ab.start(
      "/tmp/custom-build",
      "--appendonly no",
      `${tree.parent}/${tree.name}/bin/redis-server`,
    );
    const allocator = async (port: number) =>
      /mem_allocator:(\S+)/.exec(await ab.sh(`redis-cli -p ${port} INFO memory`))?.[1];
    expect(await allocator(custom)).toBe("jemalloc-5.2.1");
    expect(await allocator(ab.ports[0])).toMatch(/^jemalloc-5\.3/);
    const started = Date.now();
    const r = await ab.play({
      latency_name: "built",
      latency_baseline: "built-stock",
      latency_candidate_port: custom,
      latency_runs: null,
      latency_requests: 1000,
      latency_tests: ["ping", "get", "set"],
      // two servers of the test's own: the same dataset in both (the playbook loads none by default)
      latency_keyspace: 10000,
      latency_seed: 25,
      latency_noise_seconds: 0,
    });
    expect(failures(r).filter((f) => !f.startsWith("latency gate"))).toEqual([]);
    const report = JSON.parse(
      await readFile(join(ab.results, ab.lab.hosts[0].name, "gate-built.json"), "utf8"),
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const load = (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");
    console.log(
      `stock vs the custom build: ${report.line} (U ${report.u}, p ${report.p_value.toExponential(2)}; ${seconds} s, load ${load})`,
    );
    expect(report).toMatchObject({
      test: "GET",
      metric: "p99_us",
      n_baseline: 50,
      n_candidate: 50,
      seed: 25,
    });
    expect(["PASS", "NO CHANGE", "FAIL"]).toContain(report.verdict);
    expect(r.summary.exitCode).toBe(report.verdict === "FAIL" ? 2 : 0);
    // both sides measured every default test on the same 10 000 keys
    for (const port of [ab.ports[0], custom])
      expect(await ab.sh(`redis-cli -p ${port} DBSIZE`)).toBe("10000");
    for (const name of ["built", "built-stock"]) {
      const rec = JSON.parse(await readFile(join(ab.results, ab.lab.hosts[0].name, `${name}.json`), "utf8"));
      expect(rec).toMatchObject({ protocol: "interleaved", keyspace: 10000, warmup_runs: 1 });
      expect(Object.keys(rec.runs[0]).sort()).toEqual(["GET", "PING_INLINE", "PING_MBULK", "SET"]);
    }
  }, 1_200_000);
});
