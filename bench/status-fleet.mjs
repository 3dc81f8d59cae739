// `tickless status` over a fleet of lab hosts (real sshd in namespaces, bench/lab.mjs), each with a
// tuned host's root in its private /tmp (bench/fixtures/status-root.mjs, its `tickless_root`).
// Measured, medians of REPS runs:
//   - the CLI (`node dist/cli/main.js status --json`, a child process: Node start-up included);
//   - hostStatus() in-process (the library call the CLI makes);
//   - the baseline: the transport floor of the same work, every host connected at once with
//     openSsh and one round trip of `true` each (bench/floor.mjs): status makes one round trip a host.
// Every run must report every host tuned and in sync (exit 0): an invalid run aborts the bench.
// Run after `npm run build`:  node bench/status-fleet.mjs [hosts=50] [reps=5]
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { makeStatusRoot } from "./fixtures/status-root.mjs";
import { measureFloor } from "./floor.mjs";
import { importLab } from "./lab.mjs";

const N = Number(process.argv[2] ?? 50);
const REPS = Number(process.argv[3] ?? 5);
const ROOT_IN_HOST = "/tmp/status-root";
const distDir = process.env.TICKLESS_DIST_DIR ?? fileURLToPath(new URL("../dist", import.meta.url));
const cliMain = join(distDir, "cli", "main.js");
const { hostStatus } = await import(join(distDir, "index.js"));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A report is valid when every host was read, is tuned and is in sync. */
function checkReport(report, where) {
  const bad = report.hosts.filter((h) => !h.reachable || !h.tuned || h.reboot_pending || h.drift.length);
  if (report.hosts.length !== N || bad.length || report.exit_code !== 0)
    throw new Error(
      `${where}: invalid run (exit ${report.exit_code}): ${JSON.stringify(bad[0] ?? report.hosts.length)}`,
    );
}

function runCli(inventory) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [cliMain, "status", "-i", inventory, "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.stderr.on("data", (c) => {
      err += c;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - start;
      try {
        const report = JSON.parse(out);
        checkReport(report, `the CLI (exit ${code}, stderr ${err.trim()})`);
        resolve(ms);
      } catch (e) {
        reject(e);
      }
    });
  });
}

const { startLab } = await importLab();
const names = Array.from({ length: N }, (_, i) => `fleet${String(i + 1).padStart(2, "0")}`);
const lab = await startLab(N, { names });
try {
  const run = {
    run_id: "0b7f6c1e-1111-4222-8333-444455556666",
    time: new Date().toISOString(),
    tickless_version: "bench",
  };
  for (const h of lab.hosts) makeStatusRoot(join(`/proc/${h.pid}/root`, ROOT_IN_HOST), h.name, run);
  const inv = parse(readFileSync(lab.inventoryFile, "utf8"));
  inv.all.vars = { tickless_root: ROOT_IN_HOST };
  const inventory = join(lab.dir, "status-fleet.yml");
  writeFileSync(inventory, stringify(inv));

  const cli = [];
  const lib = [];
  const floor = [];
  for (let i = 0; i < REPS; i++) {
    cli.push(await runCli(inventory));
    const start = performance.now();
    const report = await hostStatus({ inventory });
    lib.push(performance.now() - start);
    checkReport(report, "hostStatus");
    const f = await measureFloor(lab, lab.hosts, 1, "exec");
    if (f.nonZero) throw new Error(`the floor's \`true\` failed on ${f.nonZero} host(s)`);
    floor.push(f.totalMs);
  }
  const result = {
    hosts: N,
    reps: REPS,
    dist: distDir,
    load_average: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
    cli_ms: median(cli),
    in_process_ms: median(lib),
    floor_ms: median(floor),
  };
  result.in_process_over_floor = result.in_process_ms / result.floor_ms;
  result.cli_over_floor = result.cli_ms / result.floor_ms;
  const f = (x) => x.toFixed(0);
  console.log(`tickless status over ${N} lab hosts (median of ${REPS}; load ${result.load_average})`);
  console.log(`  CLI (child process, Node start-up included): ${f(result.cli_ms)} ms`);
  console.log(`  hostStatus in-process:                       ${f(result.in_process_ms)} ms`);
  console.log(`  baseline, transport floor (connect + one \`true\` per host): ${f(result.floor_ms)} ms`);
  console.log(
    `  ratio against the floor: in-process ${result.in_process_over_floor.toFixed(2)}, CLI ${result.cli_over_floor.toFixed(2)}`,
  );
  const outDir = fileURLToPath(new URL("results/", import.meta.url));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "status-fleet.json"), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await lab.stop();
}
