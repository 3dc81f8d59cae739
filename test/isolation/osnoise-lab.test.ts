/**
 * validate.yml's osnoise run on a lab host of its own (real sshd), over a fixture sys_root whose
 * kernel/tracing holds the tracefs files in the kernel's layout (tracefs-fixture.ts): never this
 * machine's own tracefs. A small loop on the host plays the kernel's part: once osnoise is the
 * current tracer with tracing on, it writes the tracer's summary lines into `trace` and notes the
 * CPUs it was given. Check mode does not start the tracer; a run starts it on the isolated CPU and
 * puts it back; a limit of severity fail fails the host; a refused write leaves it as it was.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { run } from "../e2e/helpers.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, labSettings } from "../lab/use-lab.js";
import { osnoiseTrace, tracefsFiles } from "./tracefs-fixture.js";

const ROOT = join(import.meta.dirname, "../..");
const T = "/opt/tickless-osnoise";
const SYS = `${T}/sys`;
const TR = `${SYS}/kernel/tracing`;
const VALIDATION = "validate CPU isolation (report under /var/lib/tickless and results_dir)";
/** CPU 4 over two periods: the osnoise document's line for CPU 4, then a quieter one. */
const TRACE = osnoiseTrace([
  { cpu: 4, noise: 1721, available: "99.82790", single: 168, hw: 7, nmi: 0, irq: 1002, sirq: 49, thread: 41 },
  { cpu: 4, noise: 190, available: "99.98100", single: 9, hw: 18, nmi: 0, irq: 1007, sirq: 18, thread: 1 },
]);

describe("validate.yml's osnoise run on a lab host (fixture tracefs)", () => {
  let lab: Lab | undefined;
  let conn: Connection;
  let home: Awaited<ReturnType<typeof isolateHome>>;
  let results: string;
  const sh = async (cmd: string) => {
    const r = await conn.run(cmd);
    if (r.rc !== 0) throw new Error(`${cmd}: ${r.stderr}`);
    return r.stdout;
  };
  /** Every tracefs file of the fixture with its sha256, in one command. */
  const tree = () => sh(`cd ${TR} && find . -type f | sort | xargs sha256sum`);
  const play = (check: boolean, extra: Record<string, unknown> = {}) =>
    run({
      playbook: join(ROOT, "playbooks/validate.yml"),
      inventory: lab!.inventoryFile,
      extraVars: {
        sys_root: SYS,
        nic_irq_pattern: "^eth0-TxRx-",
        validate_window: 0,
        validate_osnoise: "auto",
        validate_osnoise_window: 1,
        results_dir: results,
        ...extra,
      },
      check,
    });
  /** The kernel's part, in the background on the host, for up to 10 s; its PID. */
  const kernel = () =>
    sh(
      `( i=0; while [ $i -lt 200 ]; do if [ "$(cat ${TR}/current_tracer)" = osnoise ] && [ "$(cat ${TR}/tracing_on)" = 1 ]; then cat ${TR}/osnoise/cpus > ${T}/seen; cat ${T}/trace.osnoise > ${TR}/trace; exit 0; fi; sleep 0.05; i=$((i + 1)); done ) >/dev/null 2>&1 </dev/null & echo $!`,
    ).then((pid) => pid.trim());
  const seen = async () => (await sh(`cat ${T}/seen 2>/dev/null || echo never`)).trim();

  beforeAll(async () => {
    lab = await startLab(1, { names: ["noise1"] });
    home = await isolateHome();
    results = await mkdtemp(join(tmpdir(), "tickless-osnoise-results-"));
    conn = await openSsh(labSettings(lab, lab.hosts[0]));
    await sh(`mkdir -p ${T}`);
    await conn.writeFile(`${T}/trace.osnoise`, TRACE, { mode: "0644" });
  });
  afterAll(async () => {
    await conn?.close();
    await lab?.stop();
    await home?.release();
    await rm(results, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await sh(`rm -rf ${SYS} ${T}/seen && mkdir -p ${SYS}/devices/system/cpu ${TR}/osnoise`);
    await sh(`echo 4 > ${SYS}/devices/system/cpu/isolated && echo 4 > ${SYS}/devices/system/cpu/nohz_full`);
    for (const [p, text] of Object.entries(tracefsFiles()))
      await conn.writeFile(`${TR}/${p}`, text, { mode: "0644" });
  });

  test("check mode does not start the tracer: the validation is skipped and no tracefs file changes", async () => {
    const before = await tree();
    const pid = await kernel();
    const check = await play(true);
    expect(check.summary.exitCode).toBe(0);
    const planned = check.results.find((r) => r.task === VALIDATION);
    expect(planned?.status).toBe("skipped");
    // what the run would do, said and not done
    expect(((planned?.result.changes ?? []) as { target: string; summary: string }[])[0]).toEqual({
      target: TR,
      summary:
        "where available_tracers has osnoise and current_tracer is nop: run it on CPU 4 for 1 s, then put current_tracer, tracing_on and osnoise/cpus back",
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await seen()).toBe("never");
    expect(await tree()).toBe(before);
    await sh(`kill ${pid} 2>/dev/null || true`);
  });

  test("a run starts the tracer on the isolated CPU for the window, reports its figure against the limits, and puts it back", async () => {
    const before = await tree();
    await kernel();
    const r = await play(false);
    expect(r.summary.exitCode).toBe(0);
    expect(await seen()).toBe("4");
    const report = r.results.find((x) => x.task === VALIDATION)?.result.report as {
      osnoise: Record<string, unknown>;
      noise: { cpus: Record<string, { osnoise?: unknown; limits?: Record<string, unknown> }> };
      checks: { name: string; status: string; detail: string }[];
    };
    expect(report.osnoise).toMatchObject({
      state: "ran",
      tracefs: TR,
      window_s: 1,
      saved: { current_tracer: "nop", tracing_on: "1", cpus: "0-7" },
      restored: { current_tracer: "nop", tracing_on: "1", cpus: "0-7" },
    });
    expect(report.noise.cpus["4"].osnoise).toEqual({
      periods: 2,
      runtime_us: 2000000,
      noise_us: 1911,
      available_pct: 99.90445,
      worst_period_available_pct: 99.8279,
      max_single_noise_us: 168,
      interference: { hw: 25, nmi: 0, irq: 2009, sirq: 67, thread: 42 },
    });
    // 168 µs is over the default 50 (a warning); 99.90445% is over the 99.9 floor
    expect(report.noise.cpus["4"].limits?.osnoise_max_single_us).toEqual({
      value: 168,
      max: 50,
      status: "warning",
    });
    expect(report.noise.cpus["4"].limits?.osnoise_available_pct).toEqual({
      value: 99.90445,
      min: 99.9,
      status: "ok",
    });
    expect(report.checks.find((c) => c.name === "osnoise")?.status).toBe("ok");
    const text = String(r.results.find((x) => x.task === "noise on the isolated CPUs")?.result.msg);
    expect(text).toContain(
      "osnoise: max single noise 168 µs, 99.90445% available over 2 periods (HW 25, NMI 0, IRQ 2009, SIRQ 67, THREAD 42)",
    );
    expect(text).toContain("warning: osnoise max single noise (µs) 168 (at most 50)");
    // every file as it was, but the trace buffer, which the tracer wrote (and a new tracer clears)
    const without = (t: string) => t.replace(/^\S+ {2}\.\/trace\n/m, "");
    expect(without(await tree())).toBe(without(before));
  });

  test("a limit whose severity is fail fails the host with one line naming the CPU and the figure", async () => {
    await kernel();
    const r = await play(false, {
      validate_limits: { osnoise_max_single_us: { max: 100, severity: "fail" } },
    });
    expect(r.summary.exitCode).toBe(2);
    const failed = r.results.find((x) => x.task === "every isolation check holds");
    expect(failed?.status).toBe("failed");
    expect(String(failed?.result.msg).split("\n")).toEqual([
      "noise osnoise_max_single_us: osnoise max single noise (µs) (at most 100) on CPU 4 (osnoise, 1 s): CPU 4 168 (failed)",
    ]);
  });

  test("a write the host refuses half-way (the trace buffer, read-only) fails the osnoise check and leaves the tracer as it was", async () => {
    const before = await tree();
    await sh(`mount --bind ${TR}/trace ${TR}/trace && mount -o remount,bind,ro ${TR}/trace`);
    try {
      const r = await play(false);
      expect(r.summary.exitCode).toBe(2);
      const report = r.results.find((x) => x.task === VALIDATION)?.result.report as {
        osnoise: { state: string; detail: string; restored: unknown };
      };
      expect(report.osnoise.state).toBe("failed");
      expect(report.osnoise.restored).toEqual({ current_tracer: "nop", tracing_on: "1", cpus: "0-7" });
      expect(report.osnoise.detail).toMatch(/^writing "" to trace: .*Read-only file system/);
      const failed = r.results.find((x) => x.task === "every isolation check holds");
      expect(String(failed?.result.msg)).toMatch(/^osnoise: failed: writing "" to trace: /);
    } finally {
      await sh(`umount ${TR}/trace`);
    }
    expect(await tree()).toBe(before);
  });
});
