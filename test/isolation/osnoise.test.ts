/**
 * validate_isolation's thresholds and its osnoise run: the pure parts as tables (a value against a
 * limit gives a status; the osnoise summary lines in the kernel's layout give each CPU's figure),
 * then the real probe script over a fixture tracefs in a temp dir (never this machine's own):
 * the tracer started on the isolated CPU for the window and put back byte for byte, on success,
 * on a refused write, and on SIGTERM; a tracer someone else set, and a tracefs without osnoise,
 * left untouched.
 */
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import { type NoiseReport, noiseText } from "../../src/modules/isolation/noise.js";
import {
  DEFAULT_LIMITS,
  judge,
  judgeNoise,
  type Limit,
  resolveLimits,
} from "../../src/modules/isolation/noise-limits.js";
import { type OsnoiseRun, parseOsnoiseTrace } from "../../src/modules/isolation/osnoise.js";
import { probeScript, validateIsolationModule } from "../../src/modules/isolation/validate_isolation.js";
import { coreContext } from "../support/module-context.js";
import { osnoiseTrace, type Period, tracefsFiles } from "./tracefs-fixture.js";

const exec = promisify(execFile);

/** An 8-CPU /proc/interrupts whose NIC IRQ stays off CPU 4. */
const INTERRUPTS = [
  `    ${Array.from({ length: 8 }, (_, c) => `CPU${c}`.padStart(11)).join("")}`,
  ` 24:${[100, 0, 0, 0, 0, 0, 0, 0].map((n) => String(n).padStart(11)).join("")}  PCI-MSI 49152-edge      virtio0-input.0`,
  `LOC:${[900, 900, 900, 900, 3, 900, 900, 900].map((n) => String(n).padStart(11)).join("")}   Local timer interrupts`,
  "",
].join("\n");

/** The example of Documentation/trace/osnoise-tracer.rst: CPUs 0-7, one period each. */
const DOC_PERIODS: Period[] = [
  [0, 190, "99.98100", 9, 18, 0, 1007, 18, 1],
  [1, 656, "99.93440", 74, 23, 0, 1006, 16, 3],
  [2, 5675, "99.43250", 202, 6, 0, 1013, 25, 21],
  [3, 125, "99.98750", 45, 1, 0, 1011, 23, 0],
  [4, 1721, "99.82790", 168, 7, 0, 1002, 49, 41],
  [5, 263, "99.97370", 57, 6, 0, 1006, 26, 2],
  [6, 109, "99.98910", 21, 3, 0, 1006, 18, 1],
  [7, 7816, "99.21840", 107, 8, 0, 1016, 39, 19],
].map(([cpu, noise, available, single, hw, nmi, irq, sirq, thread]) => ({
  cpu: cpu as number,
  noise: noise as number,
  available: available as string,
  single: single as number,
  hw: hw as number,
  nmi: nmi as number,
  irq: irq as number,
  sirq: sirq as number,
  thread: thread as number,
}));

/** The tracepoint lines of the same document: a word after the timestamp, no summary. */
const TRACEPOINTS = [
  "       osnoise/8-961     [008] d.h.  5789.857532: irq_noise: local_timer:236 start 5789.857529929 duration 1845 ns",
  "     migration/8-54      [008] d...  5789.858413: thread_noise: migration/8:54 start 5789.858409300 duration 3068 ns",
  "       osnoise/8-961     [008] ....  5789.858413: sample_threshold: start 5789.858404555 duration 8812 ns interferences 2",
];

describe("thresholds: a value against a limit", () => {
  const warn: Limit = { max: 20, severity: "warn" };
  const fail: Limit = { max: 20, severity: "fail" };
  const floor: Limit = { min: 99.9, severity: "fail" };
  it.each([
    [0, warn, undefined, "ok"],
    [20, warn, undefined, "ok"],
    [20.01, warn, undefined, "warning"],
    [21, fail, undefined, "failed"],
    [21, { ...fail, severity: "off" }, undefined, "skipped"],
    [21, fail, "reboot pending", "skipped"],
    [null, fail, undefined, "skipped"],
    [99.9, floor, undefined, "ok"],
    [99.43, floor, undefined, "failed"],
  ] as const)("%s against %o (skip: %s) → %s", (value, limit, skip, status) => {
    expect(judge(value, limit, skip).status).toBe(status);
  });

  it("says why a limit was not judged, and keeps the raw value", () => {
    expect(judge(250, fail, "reboot pending")).toEqual({
      value: 250,
      max: 20,
      status: "skipped",
      reason: "reboot pending",
    });
    expect(judge(null, floor)).toEqual({ value: null, min: 99.9, status: "skipped", reason: "not measured" });
  });

  it("takes what is given over the defaults, limit by limit and field by field", () => {
    const l = resolveLimits({ loc_per_s: { severity: "fail" }, tlb_per_s: { max: 0 } });
    expect(l.loc_per_s).toEqual({ max: 20, severity: "fail" });
    expect(l.tlb_per_s).toEqual({ max: 0, severity: "warn" });
    expect(l.res_per_s).toEqual(DEFAULT_LIMITS.res_per_s);
  });
});

describe("the osnoise summary lines", () => {
  it("reads each CPU's figure from the kernel's layout, and no tracepoint line", () => {
    const cpus = parseOsnoiseTrace(osnoiseTrace(DOC_PERIODS, TRACEPOINTS));
    expect(Object.keys(cpus)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
    expect(cpus["2"]).toEqual({
      periods: 1,
      runtime_us: 1000000,
      noise_us: 5675,
      available_pct: 99.4325,
      worst_period_available_pct: 99.4325,
      max_single_noise_us: 202,
      interference: { hw: 6, nmi: 0, irq: 1013, sirq: 25, thread: 21 },
    });
  });

  it("sums the periods of a CPU: total noise over total runtime, the longest single noise, the worst period", () => {
    const cpu4 = DOC_PERIODS[4];
    const cpus = parseOsnoiseTrace(
      osnoiseTrace([cpu4, { ...cpu4, noise: 190, available: "99.98100", single: 9, thread: 1 }]),
    );
    expect(cpus["4"]).toMatchObject({
      periods: 2,
      runtime_us: 2000000,
      noise_us: 1911,
      available_pct: 99.90445,
      worst_period_available_pct: 99.8279,
      max_single_noise_us: 168,
      interference: { thread: 42 },
    });
  });
});

describe("thresholds over a CPU's noise", () => {
  const ran = (cpus: OsnoiseRun["cpus"]): OsnoiseRun => ({
    state: "ran",
    tracefs: "/t",
    detail: "ran",
    window_s: 1,
    cpus,
  });
  const noise = (): NoiseReport => ({
    window_s: 10,
    cpus: {
      "4": {
        interrupts: { total: 2600, per_s: 260, by_kind: { LOC: 2500, RES: 100 } },
        softirqs: { total: 2600, per_s: 260, by_kind: { TIMER: 2500, NET_RX: 100 } },
        switches_in: 130,
      },
    },
    redis: { voluntary_switches: 100, nonvoluntary_switches: 10 },
  });
  const osnoiseCpu4 = parseOsnoiseTrace(osnoiseTrace([DOC_PERIODS[4]]));

  it("judges every limit on a CPU whose kernel runs it tickless; Redis's own switches are not another task's", () => {
    const n = noise();
    const checks = judgeNoise(n, {
      limits: resolveLimits({ loc_per_s: { severity: "fail" }, osnoise_max_single_us: { severity: "fail" } }),
      isolated: [4],
      nohzFull: [4],
      redisCpu: 4,
      osnoise: ran(osnoiseCpu4),
    });
    expect(Object.fromEntries(checks.map((c) => [c.name, c.status]))).toEqual({
      "noise loc_per_s": "failed",
      "noise res_per_s": "ok",
      "noise cal_per_s": "ok",
      "noise tlb_per_s": "ok",
      "noise softirqs_per_s": "warning",
      "noise net_softirqs_per_s": "warning",
      "noise rcu_softirqs_per_s": "ok",
      "noise sched_softirqs_per_s": "ok",
      "noise other_switches_in_per_s": "ok",
      "noise osnoise_max_single_us": "failed",
      "noise osnoise_available_pct": "warning",
    });
    // 130 switched in, 110 of them Redis's: 2/s others
    expect(n.cpus["4"].limits?.other_switches_in_per_s).toEqual({ value: 2, max: 5, status: "ok" });
    expect(checks.find((c) => c.name === "noise loc_per_s")?.detail).toBe(
      "LOC/s (at most 20) on CPU 4 in 10 s: CPU 4 250 (failed)",
    );
    expect(checks.find((c) => c.name === "noise osnoise_max_single_us")?.detail).toBe(
      "osnoise max single noise (µs) (at most 50) on CPU 4 (osnoise, 1 s): CPU 4 168 (failed)",
    );
    n.cpus["4"].osnoise = osnoiseCpu4["4"];
    expect(noiseText(n)[0]).toBe(
      "CPU 4 in 10 s: 2600 interrupts (260/s): LOC 2500, RES 100; 2600 softirqs (260/s): TIMER 2500, NET_RX 100; 130 tasks switched in; osnoise: max single noise 168 µs, 99.8279% available over 1 period (HW 7, NMI 0, IRQ 1002, SIRQ 49, THREAD 41) — failed: LOC/s 250 (at most 20), osnoise max single noise (µs) 168 (at most 50); warning: softirqs/s 260 (at most 50), NET_RX+NET_TX softirqs/s 10 (at most 0), osnoise % of CPU available 99.8279 (at least 99.9); ok: RES/s 10, CAL/s 0, TLB/s 0, RCU softirqs/s 0, SCHED softirqs/s 0, other tasks switched in/s 2",
    );
  });

  it("a host whose kernel does not run the isolation yet: every limit skipped with the reason, raw numbers kept", () => {
    const n = noise();
    const checks = judgeNoise(n, {
      limits: resolveLimits({ loc_per_s: { severity: "fail" } }),
      isolated: [4],
      bootSkipped: "reboot pending",
      nohzFull: [],
      osnoise: ran(osnoiseCpu4),
    });
    expect(checks.map((c) => c.status)).toEqual(Array(11).fill("skipped"));
    expect(checks[0].detail).toBe("LOC/s (at most 20): reboot pending");
    expect(n.cpus["4"].limits?.loc_per_s).toEqual({
      value: 250,
      max: 20,
      status: "skipped",
      reason: "reboot pending",
    });
  });

  it("a CPU the running kernel keeps ticking: LOC and softirqs skipped, the rest judged", () => {
    const n = noise();
    const checks = judgeNoise(n, {
      limits: resolveLimits({ loc_per_s: { severity: "fail" } }),
      isolated: [4],
      nohzFull: [5],
      osnoise: { ...ran({}), state: "not available", detail: "no osnoise in /t/available_tracers" },
    });
    const byName = Object.fromEntries(checks.map((c) => [c.name, `${c.status}: ${c.detail}`]));
    expect(byName["noise loc_per_s"]).toBe(
      "skipped: LOC/s (at most 20): CPU 4 is not nohz_full on the running kernel: the tick runs",
    );
    expect(byName["noise softirqs_per_s"]).toMatch(/^skipped: /);
    // RCU softirqs come from the tick too; SCHED ones from load balancing, which isolcpus=domain governs
    expect(byName["noise rcu_softirqs_per_s"]).toMatch(/^skipped: .*the tick runs$/);
    expect(byName["noise sched_softirqs_per_s"]).toBe(
      "ok: SCHED softirqs/s (at most 5) on CPU 4 in 10 s: CPU 4 0",
    );
    expect(byName["noise res_per_s"]).toBe("ok: RES/s (at most 50) on CPU 4 in 10 s: CPU 4 10");
    // no Redis on the CPU: all 130 are other tasks
    expect(n.cpus["4"].limits?.other_switches_in_per_s?.value).toBe(13);
    expect(byName["noise osnoise_max_single_us"]).toBe(
      "skipped: osnoise max single noise (µs) (at most 50): osnoise not available: no osnoise in /t/available_tracers",
    );
  });
});

describe("the osnoise run over a fixture tracefs (real shell, real files)", () => {
  let dir: string;
  let tracefs: string;
  const file = (p: string) => join(tracefs, p);
  const read = (p: string) => readFile(file(p), "utf8");
  const writeTree = async (files: Record<string, string>) => {
    await mkdir(join(tracefs, "osnoise"), { recursive: true });
    for (const [p, text] of Object.entries(files)) await writeFile(file(p), text);
  };
  const allFiles = async () =>
    Object.fromEntries(await Promise.all(Object.keys(tracefsFiles()).map(async (p) => [p, await read(p)])));

  /**
   * What the kernel does: once osnoise is the current tracer on CPU 4 with tracing on, summary
   * lines appear in `trace`. Returns the state it saw, or undefined when the tracer never ran.
   */
  async function kernel(periods: Period[], ms = 3000) {
    for (let t = 0; t < ms; t += 25) {
      const [tracer, on, cpus] = await Promise.all([
        read("current_tracer"),
        read("tracing_on"),
        read("osnoise/cpus"),
      ]);
      if (tracer === "osnoise\n" && on === "1\n") {
        await writeFile(file("trace"), osnoiseTrace(periods));
        return { tracer, on, cpus };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return undefined;
  }

  const args = () => ({
    isolated_cpus: "4",
    nic_irq_pattern: "^virtio0-input",
    window: 0,
    osnoise_window: 1,
    proc_root: `${dir}/proc`,
    sys_root: `${dir}/sys`,
    save_file: `${dir}/save.json`,
    report_dir: `${dir}/reports`,
  });
  const apply = (extra: Record<string, unknown> = {}) =>
    validateIsolationModule.apply(
      new LocalConnection(),
      { ...args(), ...extra },
      { ...coreContext(), host: "fixture" },
    );

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-osnoise-"));
    tracefs = join(dir, "sys/kernel/tracing");
    await mkdir(join(dir, "proc"), { recursive: true });
    await writeFile(join(dir, "proc/interrupts"), INTERRUPTS);
    await mkdir(join(dir, "sys/devices/system/cpu"), { recursive: true });
    await writeFile(join(dir, "sys/devices/system/cpu/isolated"), "4\n");
    await writeFile(join(dir, "sys/devices/system/cpu/nohz_full"), "4\n");
    await writeTree(tracefsFiles());
  });
  afterEach(async () => {
    await exec("chattr", ["-i", file("trace")]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the tracer on the isolated CPU for the window, reads its figure, and puts every file back", async () => {
    const before = await allFiles();
    const [r, seen] = await Promise.all([
      apply(),
      kernel([DOC_PERIODS[4], { ...DOC_PERIODS[4], single: 12 }]),
    ]);
    expect(seen).toEqual({ tracer: "osnoise\n", on: "1\n", cpus: "4\n" });
    const report = r.report as {
      osnoise: OsnoiseRun;
      noise: NoiseReport;
      checks: { name: string; status: string; detail: string }[];
    };
    expect(report.osnoise).toMatchObject({
      state: "ran",
      tracefs,
      window_s: 1,
      saved: { current_tracer: "nop", tracing_on: "1", cpus: "0-7" },
      restored: { current_tracer: "nop", tracing_on: "1", cpus: "0-7" },
    });
    expect(report.noise.cpus["4"].osnoise).toMatchObject({
      periods: 2,
      max_single_noise_us: 168,
      available_pct: 99.8279,
    });
    expect(report.checks.find((c) => c.name === "osnoise")).toEqual({
      name: "osnoise",
      status: "ok",
      detail: "ran on the isolated CPUs and was put back as it was",
    });
    // over the default limits: warnings, the host does not fail
    expect(report.checks.find((c) => c.name === "noise osnoise_max_single_us")?.status).toBe("warning");
    expect(r.failed).toBe(false);
    // the trace buffer holds what the tracer wrote (setting a tracer clears it in the kernel too); the rest as before
    const after = await allFiles();
    expect({ ...after, trace: "" }).toEqual({ ...before, trace: "" });
  });

  it("fails the host on a limit whose severity is fail, naming the CPU and the figure", async () => {
    const [r] = await Promise.all([
      apply({ limits: { osnoise_max_single_us: { max: 100, severity: "fail" } } }),
      kernel([DOC_PERIODS[4]]),
    ]);
    expect(r.failed).toBe(true);
    expect(String(r.msg).split("\n")).toEqual([
      "noise osnoise_max_single_us: osnoise max single noise (µs) (at most 100) on CPU 4 (osnoise, 1 s): CPU 4 168 (failed)",
    ]);
  });

  it("puts the tracer back when a write is refused half-way (the trace buffer), and fails the osnoise check", async () => {
    const before = await allFiles();
    // immutable: even root's write fails, as the kernel's EBUSY would
    await exec("chattr", ["+i", file("trace")]);
    const [r, seen] = await Promise.all([apply(), kernel([DOC_PERIODS[4]], 2000)]);
    expect(seen).toBeUndefined();
    const osnoise = (r.report as { osnoise: OsnoiseRun }).osnoise;
    expect(osnoise).toMatchObject({
      state: "failed",
      restored: { current_tracer: "nop", tracing_on: "1", cpus: "0-7" },
    });
    expect(osnoise.detail).toMatch(/^writing "" to trace: .*(Operation not permitted|Permission denied)/);
    expect(r.failed).toBe(true);
    expect(String(r.msg)).toMatch(/^osnoise: failed: writing "" to trace: /);
    expect(await allFiles()).toEqual(before);
  });

  it("puts the tracer back when the probe is stopped (SIGTERM) during the window", async () => {
    const before = await allFiles();
    const child = spawn("sh", ["-c", probeScript({ ...args(), osnoise_window: 2 })], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    const seen = await kernel([DOC_PERIODS[4]]);
    expect(seen?.cpus).toBe("4\n");
    child.kill("SIGTERM");
    const code = await new Promise((res) => child.on("close", (c) => res(c)));
    expect(code).toBe(143);
    expect(out).toContain("@@osnoise_restored 1\ncurrent_tracer=nop\ntracing_on=1\ncpus=0-7\n");
    expect({ ...(await allFiles()), trace: "" }).toEqual({ ...before, trace: "" });
  });

  it("puts the tracer back when the connection is gone (its output closed: SIGPIPE at the next write)", async () => {
    const before = await allFiles();
    const child = spawn("sh", ["-c", probeScript({ ...args(), osnoise_window: 1 })], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const seen = await kernel([DOC_PERIODS[4]]);
    expect(seen?.tracer).toBe("osnoise\n");
    child.stdout.destroy();
    const code = await new Promise((res) => child.on("close", (c) => res(c)));
    expect(code).toBe(141);
    expect({ ...(await allFiles()), trace: "" }).toEqual({ ...before, trace: "" });
  });

  it("leaves another user's tracer alone, and a tracefs without osnoise: not available, never a failure", async () => {
    await writeTree(tracefsFiles({ currentTracer: "function" }));
    const busy = await allFiles();
    const r = await apply();
    expect((r.report as { osnoise: OsnoiseRun }).osnoise).toMatchObject({
      state: "in use",
      detail: "current_tracer is function: another user's tracer, left as it is",
    });
    expect(await allFiles()).toEqual(busy);

    await writeTree(tracefsFiles({ osnoise: false }));
    const plain = await allFiles();
    const r2 = await apply();
    const check = (r2.report as { checks: { name: string; status: string; detail: string }[] }).checks.find(
      (c) => c.name === "osnoise",
    );
    expect(check).toEqual({
      name: "osnoise",
      status: "skipped",
      detail: `not available: ${tracefs}/available_tracers has no osnoise tracer (or tracefs is not mounted there)`,
    });
    expect(r2.failed).toBe(false);
    expect(await allFiles()).toEqual(plain);
  });

  it("osnoise: off writes nothing and reads nothing of tracefs", async () => {
    const script = probeScript({ ...args(), osnoise: "off" });
    expect(script).not.toContain("kernel/tracing");
    const r = await apply({ osnoise: "off" });
    expect((r.report as { osnoise: OsnoiseRun }).osnoise.state).toBe("off");
  });
});
