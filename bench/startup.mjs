// Time to first task on one host: a two-task playbook (command `true`, stat `/`) on one lab host,
// run `reps` times in a fresh process each (Node start-up included), until the first task is done on
// the host (its result), through the library (tickless-child.mjs: when its modules were loaded, the
// play started, the connection began and was up, the first operation was sent, the first result came,
// in ms since the process started) and through the CLI (`tickless run --reporter plain`: from spawn
// to the first `ok: [` line on its stdout). Medians are printed with the ratio against the baseline
// this machine measured before (bench/results/startup-baseline.json; `--save-baseline` replaces it)
// and against the 250 ms target (exit code 1 above it; the target is for an idle machine: the load
// average is printed). `--against DIR` also runs another build's dist in the same reps, alternating
// (the fair before/after on a loaded machine), and prints this build's ratio to it.
// Usage: npm run build && node bench/startup.mjs [--reps 7] [--save-baseline] [--against DIR]
// TICKLESS_DIST_DIR: measure another build's dist directory instead of ./dist.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { onInterrupt } from "./interrupt.mjs";
import { writeInventory } from "./inventory.mjs";
import { importLab } from "./lab.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = process.env.TICKLESS_DIST_DIR ?? join(ROOT, "dist");
const CHILD = fileURLToPath(new URL("./tickless-child.mjs", import.meta.url));
const BASELINE_FILE = join(ROOT, "bench", "results", "startup-baseline.json");
const TARGET_MS = 250;
const PLAYBOOK = `- hosts: tuned
  gather_facts: false
  tasks:
    - name: first
      ansible.builtin.command: "true"
      changed_when: false
    - name: second
      ansible.builtin.stat:
        path: /
`;

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "7" },
    "save-baseline": { type: "boolean", default: false },
    against: { type: "string" },
  },
});
const reps = Number(values.reps);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** CPU time (user + system, ms; clock-tick resolution) a live process has used, from /proc. */
function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Spawns node with `args`; resolves to stdout and, if `marker` is given, ms from spawn until it first appeared and the CPU ms used by then. */
function runNode(args, env, marker) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const release = onInterrupt(() => child.kill("SIGKILL"));
    let stdout = "";
    let stderr = "";
    let markerMs;
    let markerCpuMs;
    child.stdout.on("data", (c) => {
      stdout += c;
      if (marker && markerMs === undefined && stdout.includes(marker)) {
        markerMs = performance.now() - start;
        markerCpuMs = cpuMsOf(child.pid);
      }
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.on("close", (code) => {
      release();
      if (code !== 0) reject(new Error(`${args.join(" ")} exited with ${code}:\n${stderr.slice(-2000)}`));
      else resolve({ stdout, markerMs, markerCpuMs, wallMs: performance.now() - start });
    });
  });
}

async function main() {
  const { startLab } = await importLab();
  const dir = await mkdtemp(join(os.tmpdir(), "tickless-startup-"));
  const home = join(dir, "home");
  await mkdir(join(home, ".ssh"), { recursive: true });
  const lab = await startLab(1, { names: ["host001"] });
  const releaseLab = onInterrupt(() => lab.stop(), 1);
  const builds = [DIST, ...(values.against ? [values.against] : [])];
  const samples = builds.map(() => ({ library: [], cli: [], libraryCpu: [], cliCpu: [], phases: [] }));
  const load = [];
  try {
    const inventory = await writeInventory(join(dir, "inventory.yml"), lab, lab.hosts);
    const playbook = join(dir, "startup.yml");
    await writeFile(playbook, PLAYBOOK);
    const job = JSON.stringify({ playbook, inventory, extraVars: {}, check: false, diff: false, forks: 1 });
    for (let i = 0; i < reps; i++) {
      load.push(os.loadavg()[0]);
      for (const [b, dist] of builds.entries()) {
        const env = { ...process.env, HOME: home, TICKLESS_DIST: pathToFileURL(join(dist, "index.js")).href };
        const lib = JSON.parse((await runNode([CHILD, job], env)).stdout);
        if (lib.exitCode !== 0) throw new Error(`the library run exited with ${lib.exitCode}`);
        samples[b].phases.push(lib.phases);
        samples[b].library.push(lib.phases.firstResult);
        samples[b].libraryCpu.push(lib.phases.firstResultCpu);
        const cliArgs = [
          join(dist, "cli", "main.js"),
          "run",
          playbook,
          "-i",
          inventory,
          "--reporter",
          "plain",
        ];
        const cli = await runNode(cliArgs, env, "ok: [");
        if (cli.markerMs === undefined) throw new Error(`no host result in the CLI's output:\n${cli.stdout}`);
        samples[b].cli.push(cli.markerMs);
        samples[b].cliCpu.push(cli.markerCpuMs);
        process.stderr.write(
          `  rep ${i + 1} ${b === 0 ? "this build" : "against"}: library ${lib.phases.firstResult} ms, CLI ${cli.markerMs.toFixed(0)} ms (load ${load[i].toFixed(1)})\n`,
        );
      }
    }
  } finally {
    releaseLab();
    await lab.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const summarize = (sample) => {
    const phase = (name) => median(sample.phases.map((p) => p[name]));
    return {
      firstTaskMs: { library: median(sample.library), cli: median(sample.cli) },
      firstTaskCpuMs: { library: median(sample.libraryCpu), cli: median(sample.cliCpu) },
      phasesMs: Object.fromEntries(
        ["modulesLoaded", "playStart", "firstConnectStart", "lastConnectUp", "firstOp", "firstResult"].map(
          (p) => [p, phase(p)],
        ),
      ),
    };
  };
  const result = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown"}, Node ${process.version}`,
    load1: median(load),
    reps,
    ...summarize(samples[0]),
  };
  const p = result.phasesMs;
  // The figure this machine measured before; --save-baseline makes this run the new one.
  const baseline = values["save-baseline"]
    ? null
    : JSON.parse(await readFile(BASELINE_FILE, "utf8").catch(() => "null"));
  const fig = (r) =>
    `library ${r.firstTaskMs.library.toFixed(0)} ms (CPU ${r.firstTaskCpuMs.library.toFixed(0)} ms), ` +
    `CLI ${r.firstTaskMs.cli.toFixed(0)} ms (CPU ${r.firstTaskCpuMs.cli.toFixed(0)} ms)`;
  const ratios = (r, base) =>
    ["library", "cli"]
      .map(
        (k) =>
          `${k === "cli" ? "CLI" : k} ${(r.firstTaskMs[k] / base.firstTaskMs[k]).toFixed(2)} (CPU ${(r.firstTaskCpuMs[k] / base.firstTaskCpuMs[k]).toFixed(2)})`,
      )
      .join(", ");
  const lines = [
    `time to first task done, 1 host, median of ${reps} (load average ${result.load1.toFixed(1)}; ${result.machine}):`,
    `  ${fig(result)}`,
    `  library phases: modules loaded ${p.modulesLoaded} ms + playbook and inventory ${p.playStart - p.modulesLoaded}` +
      ` + to connect ${p.firstConnectStart - p.playStart} + connect ${p.lastConnectUp - p.firstConnectStart}` +
      ` + first task ${p.firstResult - p.lastConnectUp} (${p.firstResult - p.firstOp} of it on the host)`,
  ];
  if (values.against) {
    const other = summarize(samples[1]);
    lines.push(
      `  against ${values.against} in the same reps: ${fig(other)}; modules loaded ${other.phasesMs.modulesLoaded} ms`,
    );
    lines.push(`  ratio to it: ${ratios(result, other)}`);
  }
  if (baseline) {
    lines.push(`  baseline ${baseline.date} (load ${baseline.load1.toFixed(1)}): ${fig(baseline)}`);
    lines.push(`  ratio to the baseline: ${ratios(result, baseline)}`);
  }
  const worst = Math.max(result.firstTaskMs.library, result.firstTaskMs.cli);
  lines.push(
    `  target ≤ ${TARGET_MS} ms (idle machine): ratio ${(worst / TARGET_MS).toFixed(2)} ${worst <= TARGET_MS ? "PASS" : "FAIL"}`,
  );
  console.log(lines.join("\n"));
  if (values["save-baseline"]) {
    await mkdir(join(ROOT, "bench", "results"), { recursive: true });
    await writeFile(BASELINE_FILE, `${JSON.stringify(result, null, 2)}\n`);
  }
  process.exitCode = worst <= TARGET_MS ? 0 : 1;
}

await main();
