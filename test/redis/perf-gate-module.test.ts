/** perf_gate end to end on real files: baselines from the controller's results dir or the host's state dir. */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import { perfGateModule } from "../../src/modules/redis/perf_gate.js";
import type { LatencyRun } from "../../src/modules/redis/redis_latency.js";
import { scratchDir, testContext } from "../modules/harness.js";

const runs = (p99s: number[]): LatencyRun[] =>
  p99s.map((p99_us) => ({
    GET: { requests: 1000, rps: 1, p99_us, p50_us: 20, p999_us: p99_us * 2, max_us: 900 },
  }));
const conn = new LocalConnection();
let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await scratchDir());
});
afterEach(() => cleanup());

describe("perf_gate", () => {
  it("reads a baseline kept only on the host and writes the report to the host and the controller", async () => {
    const stateDir = join(dir, "host-state");
    await mkdir(stateDir);
    await writeFile(join(stateDir, "stock.json"), JSON.stringify({ runs: runs([100, 104, 98, 101, 99]) }));
    const results = join(dir, "results");
    const r = await perfGateModule.apply(
      conn,
      {
        baseline: "stock",
        candidate: runs([150, 160, 149, 171, 155]),
        state_dir: stateDir,
        results_dir: results,
      },
      testContext(),
    );
    expect(r.failed).toBe(true);
    expect(r.msg).toBe(
      "GET p99 100 µs → 155 µs, shift +55.00 µs = +55.0 % (96.8 % CI +48.0 … +71.0 %), p = 0.008, FAIL (regression over 5 %)",
    );
    const onHost = JSON.parse(await readFile(join(stateDir, "gate.json"), "utf8"));
    const onController = JSON.parse(await readFile(join(results, "localhost", "gate.json"), "utf8"));
    expect(onHost).toEqual(onController);
    expect(onHost).toMatchObject({
      verdict: "FAIL",
      finding: "regression",
      test: "GET",
      metric: "p99_us",
      pass_rate: 0,
      n_baseline: 5,
      n_candidate: 5,
      u: 25,
      shift: { estimate: 55, lower: 48, upper: 71 },
      change_ci_pct: [48, 71],
      bootstrap: { statistic: "median(candidate) − median(baseline)", estimate: 55, resamples: 2000 },
    });
    expect(Number.isInteger(onHost.seed)).toBe(true);
    expect(onHost.bootstrap.seed).toBe(onHost.seed);
    // every metric the runs carry, compared for information: p99.9 moved with p99, p50 and max did not
    expect(Object.keys(onHost.metrics)).toEqual(["p50_us", "p99_us", "p999_us", "max_us"]);
    expect(onHost.metrics.p999_us.finding).toBe("regression");
    expect(onHost.metrics.p50_us.finding).toBe("no significant change");
  });

  it("replays its bootstrap from a given seed, else from the random seed the candidate's runs recorded", async () => {
    const args = { baseline: runs([100, 104, 98, 101, 99, 97]), state_dir: dir };
    const cand = runs([103, 99, 108, 102, 100, 104]);
    const a = await perfGateModule.apply(conn, { ...args, candidate: cand, seed: 77 }, testContext());
    const b = await perfGateModule.apply(conn, { ...args, candidate: cand, seed: 77 }, testContext());
    expect(a.report).toEqual(b.report);
    expect((a.report as { bootstrap: { seed: number } }).bootstrap.seed).toBe(77);
    await writeFile(join(dir, "ab.json"), JSON.stringify({ runs: cand, seed: 4242 }));
    const c = await perfGateModule.apply(conn, { ...args, candidate: "ab" }, testContext());
    expect((c.report as { seed: number }).seed).toBe(4242);
  });

  it("prefers the controller's copy, and says where it looked when there is none", async () => {
    const results = join(dir, "results");
    await mkdir(join(results, "localhost"), { recursive: true });
    await writeFile(
      join(results, "localhost", "base.json"),
      JSON.stringify({ runs: runs([100, 101, 102, 103]) }),
    );
    const ok = await perfGateModule.apply(
      conn,
      {
        baseline: "base",
        candidate: runs([80, 81, 82, 79]),
        state_dir: join(dir, "s"),
        results_dir: results,
      },
      testContext(),
    );
    expect(ok.failed).toBe(false);
    expect(ok.msg).toMatch(/, PASS$/);
    await expect(
      perfGateModule.apply(
        conn,
        { baseline: "nope", candidate: "base", state_dir: join(dir, "s"), results_dir: results },
        testContext(),
      ),
    ).rejects.toThrow(/no latency result "nope" for localhost/);
  });

  it("refuses a result name that is not a plain file name", async () => {
    await expect(
      perfGateModule.apply(
        conn,
        { baseline: "../etc/passwd", candidate: runs([1]), state_dir: dir },
        testContext(),
      ),
    ).rejects.toThrow(/bad result name/);
  });
});
