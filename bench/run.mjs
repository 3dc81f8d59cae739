// The benchmark: the Ansible baseline's reference playbook against the same lab hosts (real
// sshd in namespaces on loopback) with ansible-playbook and with tickless, for 1, 10 and 50 hosts:
// first run (pristine roots), idempotent re-run, check mode (--check --diff on pristine roots).
// Also the transport floor for tickless's round-trip count, and peak controller memory of both.
// Usage (after `npm run build`; `npm run bench` does both):
//   node bench/run.mjs [--quick] [--reps N] [--hosts 1,10,50] [--tickless-only] [--work DIR] [--results DIR]
// --reps: ansible runs per N and mode (default 1); tickless and the floor run max(reps, 3) times.
// --tickless-only: no ansible-playbook (no speed-up, no converged-tree comparison); tickless against
// its floor only, written to bench/results/tickless-only.json (latest.json keeps the full bench).
// The median of each is reported. Results: bench/results/latest.json and a markdown table on stdout.
// --work: the bench's scratch directory (default .tmp/bench), --results: where the JSON goes (default
// bench/results); both are created. SIGINT/SIGTERM end every child it started and the lab (interrupt.mjs).
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runAnsible } from "./ansible.mjs";
import { measureFloor, measureSameOps } from "./floor.mjs";
import { onInterrupt } from "./interrupt.mjs";
import { writeInventory } from "./inventory.mjs";
import { importLab } from "./lab.mjs";
import { describeTree, resetRoots, rootOf, treeSignature } from "./roots.mjs";
import { runTickless } from "./tickless.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MODES = ["first", "idempotent", "check"];
const TARGET_SPEEDUP = 30;
const TARGET_FLOOR_RATIO = 2;
const TARGET_RSS_MB = 150;
/** Round trips per task per host (a wait on the previous answer counts as one): re-run and check, first run. */
const TARGET_TRIPS_PER_TASK = { idempotent: 1.5, check: 1.5, first: 2.5 };
/** tickless against the second floor, one round trip per task per host, at the largest N. */
const TARGET_ONE_TRIP_RATIO = 1.5;

const USAGE =
  "usage: node bench/run.mjs [--quick] [--reps N] [--hosts 1,10,50] [--tickless-only] [--work DIR] [--results DIR]";
function usage() {
  console.error(USAGE);
  process.exit(2);
}
let values;
try {
  ({ values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      reps: { type: "string", default: "1" },
      hosts: { type: "string", default: "1,10,50" },
      "tickless-only": { type: "boolean", default: false },
      work: { type: "string", default: join(ROOT, ".tmp", "bench") },
      results: { type: "string", default: join(ROOT, "bench", "results") },
    },
  }));
} catch {
  usage();
}
const sizes = values.quick ? [1, 10] : values.hosts.split(",").map(Number);
const reps = values.quick ? 1 : Number(values.reps);
const ticklessReps = values.quick ? 1 : Math.max(reps, 3);
const ticklessOnly = values["tickless-only"];
const RESULT_FILE = ticklessOnly ? "tickless-only.json" : "latest.json";
const WORK = resolve(values.work);
const HOME = join(WORK, "home");
const RESULTS = resolve(values.results);
if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(reps) || reps < 1) usage();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const load1 = () => os.loadavg()[0];
const log = (message) => process.stderr.write(`${message}\n`);

/** Why a run is invalid (as run.sh judges it), or undefined: every host in the recap, none failed or unreachable, changed as expected. */
function invalidity(stats, n, expectChanged, exitCode) {
  const hosts = Object.values(stats);
  if (exitCode !== 0) return `exit code ${exitCode}`;
  if (hosts.length !== n) return `${hosts.length} hosts in the recap, expected ${n}`;
  if (hosts.some((h) => h.failed > 0 || h.unreachable > 0)) return "a host failed or was unreachable";
  if (expectChanged && hosts.some((h) => h.changed === 0)) return "a host reported no change";
  if (!expectChanged && hosts.some((h) => h.changed !== 0)) return "a host reported changes";
  return undefined;
}

/** Runs one tool `count` times in one mode (resetting roots as the mode needs) and checks every run. */
async function timedRuns(tool, mode, hosts, count, run) {
  const runs = [];
  if (mode === "check") resetRoots(hosts);
  for (let i = 0; i < count; i++) {
    if (mode === "first") resetRoots(hosts);
    const before = await treeSignature(hosts);
    const load = load1();
    const r = await run(mode === "check");
    const after = await treeSignature(hosts);
    let invalid = invalidity(r.stats, hosts.length, mode !== "idempotent", r.exitCode);
    if (!invalid && mode !== "first" && before !== after) invalid = "the fake roots were modified";
    if (invalid) {
      throw new Error(
        `${tool} ${mode} N=${hosts.length}: invalid run: ${invalid}\n${r.output?.slice(-3000) ?? ""}`,
      );
    }
    runs.push({ ...r, load1: load, output: undefined });
    log(
      `  ${tool} ${mode} N=${hosts.length} rep ${i + 1}: ${(r.wallMs / 1000).toFixed(2)} s (load ${load.toFixed(1)})`,
    );
  }
  return runs;
}

/** Paths whose type, mode or content differ between the trees the two tools converged to. */
function treeDifferences(a, b) {
  const paths = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...paths].filter((p) => a[p] !== b[p]).sort();
}

function machine() {
  const ansible = ticklessOnly
    ? "(ansible not run: --tickless-only)"
    : execFileSync("ansible-playbook", ["--version"], { env: { ...process.env, HOME } })
        .toString()
        .split("\n")[0];
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cpus: os.cpus().length,
    memoryGb: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    kernel: os.release(),
    node: process.version,
    ansible,
    loadavgAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

async function main() {
  await mkdir(join(HOME, ".ssh"), { recursive: true });
  process.env.HOME = HOME; // the floor's openSsh and both tools: no ~/.ssh of the machine
  const info = machine();
  log(
    `bench: hosts ${sizes.join(",")}, ${ticklessOnly ? "no ansible" : `ansible reps ${reps}`}, tickless reps ${ticklessReps}, load ${load1()}`,
  );
  const { startLab } = await importLab();
  const max = Math.max(...sizes);
  const names = Array.from({ length: max }, (_, i) => `host${String(i + 1).padStart(3, "0")}`);
  const lab = await startLab(max, { names });
  const releaseLab = onInterrupt(() => lab.stop(), 1);
  const rows = [];
  const profiles = {};
  const sameFiles = {};
  try {
    for (const n of sizes) {
      const hosts = lab.hosts.slice(0, n);
      const inventory = await writeInventory(join(lab.dir, `inventory-${n}.yml`), lab, hosts);
      const ansible = {};
      const tickless = {};
      const converged = {};
      for (const mode of ticklessOnly ? [] : MODES) {
        ansible[mode] = await timedRuns("ansible", mode, hosts, reps, (check) =>
          runAnsible({ dir: join(WORK, "ansible"), inventory, forks: n, check }),
        );
        if (mode === "first") converged.ansible = await describeTree(rootOf(hosts[0]));
      }
      for (const mode of MODES) {
        tickless[mode] = await timedRuns("tickless", mode, hosts, ticklessReps, (check) =>
          runTickless({ inventory, forks: n, check, home: HOME }),
        );
        if (mode === "first") converged.tickless = await describeTree(rootOf(hosts[0]));
      }
      if (!ticklessOnly) sameFiles[n] = treeDifferences(converged.ansible, converged.tickless);
      for (const mode of MODES) {
        const t = tickless[mode];
        const roundTrips = Math.max(...t.map((r) => r.roundTripsPerHost.max));
        const floor = {};
        for (const runMode of ["exec", "shell"]) {
          const samples = [];
          for (let i = 0; i < ticklessReps; i++)
            samples.push(await measureFloor(lab, hosts, roundTrips, runMode));
          floor[runMode] = {
            ms: median(samples.map((s) => s.totalMs)),
            connectMs: median(samples.map((s) => s.connectMs)),
            nonZero: samples.reduce((sum, s) => sum + s.nonZero, 0),
          };
        }
        // The second floor: one round trip per task per host (every task that started, handlers included).
        const tasks = t[0].tasks.length;
        const oneTrip = [];
        for (let i = 0; i < ticklessReps; i++)
          oneTrip.push((await measureFloor(lab, hosts, tasks, "shell")).totalMs);
        const calls = t[0].calls[hosts[0].name];
        const sameOps = [];
        for (let i = 0; i < ticklessReps; i++) sameOps.push(await measureSameOps(lab, hosts, calls));
        const a = ansible[mode] ?? [];
        const ticklessMs = median(t.map((r) => r.wallMs));
        const engineMs = median(t.map((r) => r.engineMs));
        const floorMs = Math.min(floor.exec.ms, floor.shell.ms);
        const ansibleMs = a.length ? median(a.map((r) => r.wallMs)) : undefined;
        const h0 = hosts[0].name;
        rows.push({
          hosts: n,
          mode,
          ansibleMs,
          ticklessMs,
          speedup: ansibleMs === undefined ? undefined : ansibleMs / ticklessMs,
          ansibleCpuMs: a.length ? median(a.map((r) => r.cpuMs)) : undefined,
          ticklessCpuMs: median(t.map((r) => r.cpuMs)),
          ticklessEngineMs: engineMs,
          ticklessConnectMs: median(t.map((r) => r.connectMs.max)),
          // since the tickless process started: Node start-up, module loading, parsing, connect, the first task
          ticklessFirstTaskMs: median(t.map((r) => r.phases.firstResult)),
          roundTripsPerHost: roundTrips,
          calls,
          floorExecMs: floor.exec.ms,
          floorShellMs: floor.shell.ms,
          floorConnectMs: floor.shell.connectMs,
          floorExecNonZero: floor.exec.nonZero,
          sameOpsMs: median(sameOps),
          floorRatio: engineMs / floorMs,
          tasksPerHost: tasks,
          tripsPerTask: roundTrips / tasks,
          oneTripFloorMs: median(oneTrip),
          oneTripRatio: engineMs / median(oneTrip),
          ticklessRssMb: Math.max(...t.map((r) => r.maxRssKb)) / 1024,
          ...(a.length
            ? {
                ansibleRssMb: Math.max(...a.map((r) => r.peak.rssMb)),
                ansiblePssMb: Math.max(...a.map((r) => r.peak.pssMb)),
                ansibleProcesses: Math.max(...a.map((r) => r.peak.processes)),
              }
            : {}),
          changedPerHost: { ansible: a[0]?.stats[h0].changed, tickless: t[0].stats[h0].changed },
          ignoredPerHost: { ansible: a[0]?.stats[h0].ignored, tickless: t[0].stats[h0].ignored },
          load1: median([...a, ...t].map((r) => r.load1)),
          ansibleRuns: a.map((r) => r.wallMs),
          ticklessRuns: t.map((r) => r.wallMs),
          ticklessEngineRuns: t.map((r) => r.engineMs),
          ticklessPhases: t.map((r) => r.phases),
        });
        profiles[`${n}/${mode}`] = t[t.length - 1].tasks;
      }
      await save({ info, rows, sameFiles, profiles, max, partial: n !== sizes[sizes.length - 1] });
    }
  } finally {
    releaseLab();
    await lab.stop();
  }
  const result = await save({ info, rows, sameFiles, profiles, max, partial: false });
  console.log(ticklessOnly ? renderFloorTable(result) : renderMarkdown(result));
  const { targets } = result;
  process.exitCode = targets.every((t) => t.pass) ? 0 : 1;
}

/** Writes bench/results/latest.json or tickless-only.json (after each N, so a long run keeps what it measured); returns the result. */
async function save({ info, rows, sameFiles, profiles, max, partial }) {
  const result = {
    date: new Date().toISOString(),
    partial,
    machine: { ...info, loadavgAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))) },
    reps,
    ticklessReps,
    rows,
    targets: evaluateTargets(rows, max),
    sameFiles,
    profiles,
  };
  await mkdir(RESULTS, { recursive: true });
  await writeFile(join(RESULTS, RESULT_FILE), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** PASS/FAIL of the benchmark's targets: speed-up at the largest N, tickless within 2× the floor, peak RSS at the largest N. */
function evaluateTargets(rows, max) {
  const targets = [];
  for (const r of rows) {
    if (r.hosts === max && r.speedup !== undefined) {
      targets.push({
        name: `ansible/tickless ≥ ${TARGET_SPEEDUP}× (${r.hosts} hosts, ${r.mode})`,
        value: r.speedup,
        pass: r.speedup >= TARGET_SPEEDUP,
      });
    }
    targets.push({
      name: `tickless ≤ ${TARGET_FLOOR_RATIO}× floor (${r.hosts} hosts, ${r.mode})`,
      value: r.floorRatio,
      pass: r.floorRatio <= TARGET_FLOOR_RATIO,
    });
    targets.push({
      name: `round trips per task per host ≤ ${TARGET_TRIPS_PER_TASK[r.mode]} (${r.hosts} hosts, ${r.mode})`,
      value: r.tripsPerTask,
      pass: r.tripsPerTask <= TARGET_TRIPS_PER_TASK[r.mode],
    });
    if (r.hosts === max) {
      targets.push({
        name: `tickless ≤ ${TARGET_ONE_TRIP_RATIO}× one-round-trip-per-task floor (${r.hosts} hosts, ${r.mode})`,
        value: r.oneTripRatio,
        pass: r.oneTripRatio <= TARGET_ONE_TRIP_RATIO,
      });
    }
    if (r.hosts === max) {
      targets.push({
        name: `tickless peak RSS < ${TARGET_RSS_MB} MB (${r.hosts} hosts, ${r.mode})`,
        value: r.ticklessRssMb,
        pass: r.ticklessRssMb < TARGET_RSS_MB,
      });
    }
  }
  return targets;
}

const s = (ms) => (ms / 1000).toFixed(2);
const mark = (pass) => (pass ? "PASS" : "FAIL");

/** Round trips per task per host and tickless against the one-round-trip-per-task floor, per row. */
function tripLines(rows) {
  return [...rows]
    .sort((a, b) => a.hosts - b.hosts)
    .map(
      (r) =>
        `Round trips ${r.hosts} hosts ${r.mode}: ${r.roundTripsPerHost} per host over ${r.tasksPerHost} tasks = ` +
        `${r.tripsPerTask.toFixed(2)} per task (target ≤ ${TARGET_TRIPS_PER_TASK[r.mode]}: ratio ${(r.tripsPerTask / TARGET_TRIPS_PER_TASK[r.mode]).toFixed(2)}); ` +
        `one-trip-per-task floor ${s(r.oneTripFloorMs)} s, tickless/that floor ${r.oneTripRatio.toFixed(2)}×`,
    );
}

/** Time to the first task done on one host, per mode (rows of 1 host only). */
function firstTaskLines(rows) {
  return rows
    .filter((r) => r.hosts === 1)
    .map(
      (r) =>
        `Time to first task done, 1 host ${r.mode}: ${s(r.ticklessFirstTaskMs)} s from process start (bench/startup.mjs splits it).`,
    );
}

/** --tickless-only: tickless against its floors, with where tickless's run time went. */
function renderFloorTable({ machine: m, rows, targets, ticklessReps }) {
  const lines = [
    `tickless only (no ansible-playbook), median of ${ticklessReps} runs; ${m.cpus} × ${m.cpu}, Node ${m.node};`,
    `load average ${m.loadavgAtStart.join(" ")} at start, ${m.loadavgAtEnd.join(" ")} at end. Engine = tickless's in-process`,
    "run time (connect included); floor = connect + the same round trips of `true` per host (exec | shell).",
    "",
    "| hosts | mode | load | process s | engine s | connect s | round trips/host | floor exec s | floor shell s | floor connect s | same ops s | CPU s | tickless/floor |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of [...rows].sort((a, b) => a.hosts - b.hosts)) {
    lines.push(
      `| ${r.hosts} | ${r.mode} | ${r.load1.toFixed(1)} | ${s(r.ticklessMs)} | ${s(r.ticklessEngineMs)} | ${s(r.ticklessConnectMs)} | ` +
        `${r.roundTripsPerHost} | ${s(r.floorExecMs)} | ${s(r.floorShellMs)} | ${s(r.floorConnectMs)} | ${s(r.sameOpsMs)} | ` +
        `${s(r.ticklessCpuMs)} | ${r.floorRatio.toFixed(2)}× ${mark(r.floorRatio <= TARGET_FLOOR_RATIO)} |`,
    );
  }
  const failed = targets.filter((t) => !t.pass);
  lines.push("");
  lines.push(...tripLines(rows));
  lines.push(...firstTaskLines(rows));
  lines.push(
    `Targets: ${targets.length - failed.length}/${targets.length} PASS` +
      (failed.length ? `; FAIL: ${failed.map((t) => `${t.name} = ${t.value.toFixed(2)}`).join("; ")}` : ""),
  );
  return lines.join("\n");
}

function renderMarkdown({ machine: m, rows, targets, reps, ticklessReps, sameFiles, profiles }) {
  const max = Math.max(...rows.map((r) => r.hosts));
  const lines = [
    `Reference playbook (30 tasks + 3 handlers) on lab hosts (real sshd in namespaces, loopback). ${m.ansible},`,
    `pipelining + ControlPersist, forks = hosts, cold connections each run; tickless ${"`"}playbooks/demo.yml${"`"}.`,
    `${m.cpus} × ${m.cpu}, ${m.memoryGb} GB, Linux ${m.kernel}, Node ${m.node}; load average ${m.loadavgAtStart.join(" ")} at start,`,
    `${m.loadavgAtEnd.join(" ")} at end (shared machine). Median of ${reps} ansible / ${ticklessReps} tickless runs.`,
    "Floor = connect + the same round trips of `true` per host over one ssh2 connection (exec channels | one shell);",
    "tickless/floor compares tickless's in-process run time (connect included) with the lower floor. Same ops =",
    "tickless's own mix of run/readFile/stat/writeFile/remove per host, back to back on one shell connection.",
    "Controller CPU = user+sys of ansible-playbook and its waited-for children (not ControlPersist masters) · of tickless.",
    "",
    "| hosts | mode | ansible s | tickless s | ansible/tickless | controller CPU s A·T | round trips/host | floor exec s | floor shell s | same ops s | tickless/floor | tickless RSS MB | ansible RSS (PSS) MB | changed/host A·T |",
    "|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of [...rows].sort((a, b) => a.hosts - b.hosts)) {
    const speedPass = r.hosts === max ? ` ${mark(r.speedup >= TARGET_SPEEDUP)}` : "";
    const rssPass = r.hosts === max ? ` ${mark(r.ticklessRssMb < TARGET_RSS_MB)}` : "";
    lines.push(
      `| ${r.hosts} | ${r.mode} | ${s(r.ansibleMs)} | ${s(r.ticklessMs)} | ${r.speedup.toFixed(1)}×${speedPass} | ` +
        `${s(r.ansibleCpuMs)}·${s(r.ticklessCpuMs)} | ${r.roundTripsPerHost} | ${s(r.floorExecMs)} | ${s(r.floorShellMs)} | ${s(r.sameOpsMs)} | ` +
        `${r.floorRatio.toFixed(2)}× ${mark(r.floorRatio <= TARGET_FLOOR_RATIO)} | ${r.ticklessRssMb.toFixed(0)}${rssPass} | ` +
        `${r.ansibleRssMb.toFixed(0)} (${r.ansiblePssMb.toFixed(0)}) | ${r.changedPerHost.ansible}·${r.changedPerHost.tickless} |`,
    );
  }
  lines.push("");
  for (const [n, diffs] of Object.entries(sameFiles)) {
    lines.push(
      diffs.length === 0
        ? `Converged fake root identical for both tools at ${n} hosts (paths, types, modes, contents).`
        : `Converged fake roots DIFFER at ${n} hosts: ${diffs.join(", ")}`,
    );
  }
  lines.push(...tripLines(rows));
  lines.push(...firstTaskLines(rows));
  for (const r of rows.filter((row) => row.hosts === max)) {
    const top = [...profiles[`${r.hosts}/${r.mode}`]].sort((a, b) => b.ms - a.ms).slice(0, 4);
    lines.push(
      `Profile ${r.hosts} hosts ${r.mode}: process ${s(r.ticklessMs)} s = start-up ${s(r.ticklessMs - r.ticklessEngineMs)} s + ` +
        `run ${s(r.ticklessEngineMs)} s (slowest connect ${s(r.ticklessConnectMs)} s); slowest tasks: ` +
        top.map((t) => `${t.name} ${s(t.ms)} s / ${(t.calls / r.hosts).toFixed(0)} trips`).join(", "),
    );
  }
  const failed = targets.filter((t) => !t.pass);
  lines.push(
    `Targets: ${targets.length - failed.length}/${targets.length} PASS` +
      (failed.length ? `; FAIL: ${failed.map((t) => `${t.name} = ${t.value.toFixed(2)}`).join("; ")}` : ""),
  );
  return lines.join("\n");
}

await main();
