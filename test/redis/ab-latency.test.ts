/**
 * validate-latency.yml's interleaved A/B on a real sshd lab host: two stock Redis servers on their
 * own ports, measured in blocks whose order a recorded seed draws, the load generator on a
 * housekeeping CPU other than CPU 0 (from the facts), then the gate. No build needed.
 * Then three planted cases, each decided by the gate on SET p50: two stock servers (no change), a
 * candidate that fsyncs its append-only file on every write (`appendfsync always`, a real setting
 * that adds a disk flush to each SET: milliseconds on a loopback round trip of tens of µs) against
 * a stock baseline (a regression), and the same pair reversed (an improvement).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockOrder } from "../../src/modules/redis/protocol.js";
import { sharedLab } from "../lab/use-lab.js";
import { type AbLab, expectPlanted, failures, type PlantedCase, planted, startAbLab } from "./ab-lab.js";

describe.skipIf(sharedLab() === undefined)("interleaved latency A/B on a lab host", () => {
  let ab: AbLab;
  const sh = (cmd: string) => ab.sh(cmd);
  const play = (extra: Record<string, unknown>) => ab.play(extra);
  /** Connections each server has accepted so far: one per redis-benchmark run and test, plus redis-cli's. */
  const connections = async (port: number) =>
    Number((await sh(`redis-cli -p ${port} INFO stats`)).match(/total_connections_received:(\d+)/)?.[1]);

  beforeAll(async () => {
    ab = await startAbLab("ab-lab");
  }, 120_000);

  afterAll(async () => {
    await ab?.stop();
  });

  it("measures both servers in blocks ordered by the random seed, on a housekeeping CPU, and gates", async () => {
    const before = await Promise.all(ab.ports.map(connections));
    const r = await play({ latency_seed: 2024, latency_name: "custom", latency_baseline: "stock" });
    expect(failures(r)).toEqual([]);
    expect(r.summary.exitCode).toBe(0);
    const after = await Promise.all(ab.ports.map(connections));
    // 4 runs a side, one test each: both servers saw the same number of benchmark connections
    const used = after.map((a, i) => a - before[i]);
    expect(used[0]).toBe(used[1]);
    expect(used[0]).toBeGreaterThanOrEqual(4);

    const rec = (name: string) => sh(`cat /var/lib/tickless/latency/${name}.json`).then(JSON.parse);
    const custom = await rec("custom");
    const stock = await rec("stock");
    const order = blockOrder(4, 2024).map((p) => p.map((s) => (s === "baseline" ? "B" : "C")).join(""));
    expect(custom).toMatchObject({ protocol: "interleaved", seed: 2024, paired_with: "stock", order });
    expect(stock).toMatchObject({ protocol: "interleaved", seed: 2024, paired_with: "custom", order });
    expect(custom.runs).toHaveLength(4);
    expect(stock.runs).toHaveLength(4);
    // each run keeps redis-benchmark's whole latency distribution (HDR percentile ticks, µs)
    for (const run of [...custom.runs, ...stock.runs]) {
      expect(run.GET.histogram.length).toBeGreaterThan(3);
      expect(run.GET.histogram.at(-1)).toEqual([100, run.GET.max_us]);
    }
    expect(custom.command).toContain(`-p ${ab.ports[1]}`);
    expect(stock.command).toContain(`-p ${ab.ports[0]}`);
    // the lab host sees this machine's CPUs, none isolated: the highest one other than CPU 0
    const online = (await sh("cat /sys/devices/system/cpu/online")).split(/[-,]/).map(Number);
    const highest = Math.max(...online);
    expect(custom.cpu).toBe(String(highest === 0 ? 0 : highest));
    expect(custom.command).toMatch(new RegExp(`^taskset -c ${custom.cpu} `));
    expect(custom.cpu_choice).toMatch(/housekeeping CPU|only housekeeping CPU/);
    console.log(
      `A/B, ${custom.seconds_per_run} s per run of 300 GET requests (${custom.duration_s} s in all)`,
    );

    const gate = r.results.find((e) => e.task.startsWith("latency gate"));
    console.log(`A/B gate, stock vs stock: ${String(gate?.result?.msg)}`);
    expect(String(gate?.result?.msg)).toMatch(
      /^GET p99 [\d.]+ µs → [\d.]+ µs, shift [−+][\d.]+ µs = [−+][\d.]+ % \((?:[\d.]+ % CI [−+][\d.]+ … [−+][\d.]+ %|no interval at this level from \d+ and \d+ runs)\), p [=<] [\d.]+, (PASS|NO CHANGE|FAIL)/,
    );
    const report = JSON.parse(await sh("cat /var/lib/tickless/latency/gate-custom.json"));
    expect(report).toMatchObject({ seed: 2024, n_baseline: 4, n_candidate: 4, bootstrap: { seed: 2024 } });
    // no isolated CPU on the lab host: no noise floor measured, none claimed
    expect(report.noise_floor).toBeUndefined();
    expect(r.results.find((e) => e.task.startsWith("the host's intrinsic latency"))?.status).toBe("skipped");
    // the picture beside the report, on the controller and the host
    const svg = await readFile(join(ab.results, "ab-lab", "gate-custom.svg"), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("custom");
    expect(svg).toContain("stock");
    expect(await sh("head -c 4 /var/lib/tickless/latency/gate-custom.svg")).toBe("<svg");
    const summary = r.results.find((e) => e.task === "verdict and gate pass rate");
    expect(String(summary?.result?.msg)).toContain("(4 baseline runs, 4 candidate runs, seed 2024)");
  }, 300_000);

  it("without a seed, one is drawn and recorded; ab without a baseline port is refused before measuring", async () => {
    const r = await play({
      latency_name: "c2",
      latency_baseline: "s2",
      latency_runs: 2,
      latency_noise_cpu: 0,
      latency_noise_seconds: 1,
    });
    expect(failures(r)).toEqual([]);
    const noise = JSON.parse(await sh("cat /var/lib/tickless/latency/noise-c2.json"));
    expect(noise).toMatchObject({ cpu: "0", seconds: 1 });
    expect(noise.loops).toBeGreaterThan(1000);
    const c2 = JSON.parse(await sh("cat /var/lib/tickless/latency/c2.json"));
    expect(Number.isInteger(c2.seed)).toBe(true);
    expect(c2.order).toEqual(
      blockOrder(2, c2.seed).map((p) => p.map((s) => (s === "baseline" ? "B" : "C")).join("")),
    );
    const gate = JSON.parse(await sh("cat /var/lib/tickless/latency/gate-c2.json"));
    expect(gate.seed).toBe(c2.seed);
    expect(gate.noise_floor).toEqual({ max_us: noise.max_us, avg_us: noise.avg_us, cpu: "0" });
    expect(gate.line).toContain(`the host's intrinsic latency: max ${noise.max_us} µs on CPU 0`);

    const bad = await play({ latency_baseline_port: null });
    expect(bad.summary.exitCode).not.toBe(0);
    expect(failures(bad).join("\n")).toMatch(/needs latency_baseline_port/);
    expect(bad.results.some((e) => e.task.startsWith("measure") && e.status !== "skipped")).toBe(false);
  }, 300_000);

  describe("three planted cases, decided on SET p50", () => {
    // 24 runs a side of 400 SETs keep the file under two minutes. The median of each run (every
    // SET of the fsync server pays its fsync; the tail is the machine's: judged on p99, the full
    // suite's other servers made a stock run as slow as an fsync one, p 0.001 at 24 runs) leaves
    // the two sides apart on a busy machine. The no-change case's
    // chance of a false claim is alpha itself: 0.001 keeps that rare. The same cases at the
    // playbook's default sizes: ab-latency-default-sizes.test.ts.
    const cases: Array<[PlantedCase, string, number]> = [
      ["no change", "two stock servers pass and nothing is claimed", 11],
      ["regression", "the candidate that fsyncs every write fails, its interval above zero", 12],
      ["improvement", "the stock server against the fsync one is claimed, its interval below zero", 13],
    ];
    it.each(cases)(
      "%s: %s",
      async (kase, _what, seed) => {
        const { r, report } = await planted(ab, kase, { runs: 24, requests: 400, alpha: 0.001, seed });
        expect(report).toMatchObject({ n_baseline: 24, n_candidate: 24 });
        await expectPlanted(ab, kase, r, report);
      },
      300_000,
    );
  });
});
