// Fleet scale: the reference playbook (playbooks/demo.yml) on many lab hosts from one controller
// process, --forks bounding how many hosts work at once. Measures the lab itself (start time, its
// sshd processes' memory), then tickless's first run (every host must change) and re-run (none may),
// each in its own process: wall time and wall time per host, peak RSS, peak open file descriptors,
// round trips per task per host. Baselines it names: ansible-playbook's re-run at --ansible-hosts
// (10) hosts in the same bench run, and the 300 MB peak RSS target; ratios against both.
// Usage (after `npm run build`): node bench/fleet.mjs [--hosts 500] [--forks 50] [--ansible-hosts 10] [--work DIR]
// Written to bench/results/fleet.json; exit code 1 when a target fails, 2 on bad options.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runAnsible } from "./ansible.mjs";
import { onInterrupt } from "./interrupt.mjs";
import { writeInventory } from "./inventory.mjs";
import { importLab } from "./lab.mjs";
import { resetRoots } from "./roots.mjs";
import { runTickless } from "./tickless.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TARGET_RSS_MB = 300;

let values;
try {
  ({ values } = parseArgs({
    options: {
      hosts: { type: "string", default: "500" },
      forks: { type: "string", default: "50" },
      "ansible-hosts": { type: "string", default: "10" },
      work: { type: "string", default: join(ROOT, ".tmp", "bench-fleet") },
    },
  }));
} catch {
  values = undefined;
}
const n = Number(values?.hosts);
const forks = Number(values?.forks);
const ansibleHosts = Number(values?.["ansible-hosts"]);
if (![n, forks, ansibleHosts].every((x) => Number.isInteger(x) && x >= 0) || n < 1 || forks < 1) {
  console.error(
    "usage: node bench/fleet.mjs [--hosts 500] [--forks 50] [--ansible-hosts 10 (0: no ansible)] [--work DIR]",
  );
  process.exit(2);
}
const WORK = resolve(values.work);
const HOME = join(WORK, "home");
const log = (message) => process.stderr.write(`${message}\n`);
const load1 = () => os.loadavg()[0].toFixed(1);

/** Resident memory of a process (kB), or 0 when it is gone. */
async function rssKb(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
}

async function memAvailableKb() {
  return Number(/^MemAvailable:\s+(\d+)/m.exec(await readFile("/proc/meminfo", "utf8"))?.[1] ?? 0);
}

/** One tickless run, checked as the main bench checks it: every host in the recap, none failed, changed as expected. */
async function tickless(inventory, hosts, expectChanged) {
  const r = await runTickless({ inventory, forks, check: false, home: HOME });
  const stats = Object.values(r.stats);
  const bad =
    r.exitCode !== 0
      ? `exit code ${r.exitCode}`
      : stats.length !== hosts.length
        ? `${stats.length} hosts in the recap`
        : stats.some((h) => h.failed > 0 || h.unreachable > 0)
          ? "a host failed or was unreachable"
          : stats.some((h) => h.changed > 0 !== expectChanged)
            ? `a host ${expectChanged ? "reported no change" : "reported changes"}`
            : undefined;
  if (bad) throw new Error(`tickless N=${hosts.length}: invalid run: ${bad}`);
  return {
    wallMs: r.wallMs,
    engineMs: r.engineMs,
    msPerHost: r.wallMs / hosts.length,
    rssMb: r.maxRssKb / 1024,
    maxFds: r.maxFds,
    connectMsMax: r.connectMs.max,
    cpuMs: r.cpuMs,
    roundTripsPerHost: r.roundTripsPerHost.max,
    tasks: r.tasks.length,
    tripsPerTask: r.roundTripsPerHost.max / r.tasks.length,
    load1: Number(load1()),
  };
}

async function main() {
  await mkdir(join(HOME, ".ssh"), { recursive: true });
  process.env.HOME = HOME;
  const { startLab } = await importLab();
  const names = Array.from({ length: n }, (_, i) => `host${String(i + 1).padStart(3, "0")}`);
  log(`fleet: ${n} hosts, forks ${forks}, ansible at ${ansibleHosts} hosts; load ${load1()}`);
  const availableBefore = await memAvailableKb();
  const labStart = performance.now();
  const lab = await startLab(n, { names, startTimeoutMs: 120_000, startConcurrency: 25 });
  const labStartMs = performance.now() - labStart;
  const releaseLab = onInterrupt(() => lab.stop(), 1);
  try {
    const sshdKb = (await Promise.all(lab.hosts.map((h) => rssKb(h.pid)))).reduce((a, b) => a + b, 0);
    const labInfo = {
      startMs: labStartMs,
      sshdRssMb: sshdKb / 1024,
      memoryUsedMb: (availableBefore - (await memAvailableKb())) / 1024,
    };
    log(
      `lab: ${n} hosts up in ${(labStartMs / 1000).toFixed(1)} s; their sshd ${labInfo.sshdRssMb.toFixed(0)} MB RSS, ` +
        `available memory down ${labInfo.memoryUsedMb.toFixed(0)} MB`,
    );
    const inventory = await writeInventory(join(lab.dir, `inventory-${n}.yml`), lab, lab.hosts);
    resetRoots(lab.hosts);
    const first = await tickless(inventory, lab.hosts, true);
    log(`tickless first run: ${(first.wallMs / 1000).toFixed(1)} s (load ${first.load1})`);
    const rerun = await tickless(inventory, lab.hosts, false);
    log(`tickless re-run: ${(rerun.wallMs / 1000).toFixed(1)} s (load ${rerun.load1})`);
    let ansible;
    if (ansibleHosts > 0) {
      const few = lab.hosts.slice(0, ansibleHosts);
      const fewInventory = await writeInventory(join(lab.dir, `inventory-${ansibleHosts}.yml`), lab, few);
      resetRoots(few);
      const dir = join(WORK, "ansible");
      const a1 = await runAnsible({ dir, inventory: fewInventory, forks: ansibleHosts, check: false });
      const a2 = await runAnsible({ dir, inventory: fewInventory, forks: ansibleHosts, check: false });
      if (a1.exitCode !== 0 || a2.exitCode !== 0)
        throw new Error(
          `ansible-playbook exited ${a1.exitCode}, ${a2.exitCode}:\n${(a1.exitCode ? a1 : a2).output.slice(-2000)}`,
        );
      ansible = { firstMs: a1.wallMs, rerunMs: a2.wallMs, rerunRssMb: a2.peak.rssMb };
      log(
        `ansible-playbook at ${ansibleHosts} hosts: first ${(a1.wallMs / 1000).toFixed(1)} s, re-run ${(a2.wallMs / 1000).toFixed(1)} s`,
      );
    }
    const targets = [
      {
        name: `tickless re-run peak RSS < ${TARGET_RSS_MB} MB (${n} hosts)`,
        value: rerun.rssMb,
        ratio: rerun.rssMb / TARGET_RSS_MB,
        pass: rerun.rssMb < TARGET_RSS_MB,
      },
      ...(ansible
        ? [
            {
              name: `tickless re-run at ${n} hosts faster than ansible-playbook's re-run at ${ansibleHosts}`,
              value: rerun.wallMs / 1000,
              ratio: rerun.wallMs / ansible.rerunMs,
              pass: rerun.wallMs < ansible.rerunMs,
            },
          ]
        : []),
    ];
    const result = {
      date: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        memoryGb: Number((os.totalmem() / 2 ** 30).toFixed(1)),
        node: process.version,
      },
      hosts: n,
      forks,
      lab: labInfo,
      tickless: { first, rerun },
      ansible,
      ansibleHosts,
      targets,
    };
    await mkdir(join(ROOT, "bench", "results"), { recursive: true });
    await writeFile(join(ROOT, "bench", "results", "fleet.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log(render(result));
    process.exitCode = targets.every((t) => t.pass) ? 0 : 1;
  } finally {
    releaseLab();
    await lab.stop();
  }
}

function render({ hosts, forks, lab, tickless: t, ansible, ansibleHosts, targets, machine }) {
  const s = (ms) => (ms / 1000).toFixed(2);
  const lines = [
    `Fleet: ${hosts} lab hosts (real sshd in namespaces on loopback), forks ${forks}, ${machine.cpus} CPUs, Node ${machine.node}.`,
    `Lab: up in ${s(lab.startMs)} s; its sshd processes ${lab.sshdRssMb.toFixed(0)} MB RSS; the machine's available memory fell by ${lab.memoryUsedMb.toFixed(0)} MB (other work included).`,
    "",
    "| run | wall s | ms per host | engine s | peak RSS MB | peak fds | slowest connect s | CPU s | round trips/host | per task | load |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const [name, r] of [
    ["first run", t.first],
    ["re-run", t.rerun],
  ]) {
    lines.push(
      `| ${name} | ${s(r.wallMs)} | ${r.msPerHost.toFixed(1)} | ${s(r.engineMs)} | ${r.rssMb.toFixed(0)} | ${r.maxFds} | ` +
        `${s(r.connectMsMax)} | ${s(r.cpuMs)} | ${r.roundTripsPerHost} | ${r.tripsPerTask.toFixed(2)} | ${r.load1} |`,
    );
  }
  lines.push("");
  if (ansible)
    lines.push(
      `ansible-playbook at ${ansibleHosts} hosts (same bench run, same lab): first ${s(ansible.firstMs)} s, re-run ${s(ansible.rerunMs)} s.`,
    );
  for (const x of targets)
    lines.push(`${x.pass ? "PASS" : "FAIL"} ${x.name}: ${x.value.toFixed(2)} (ratio ${x.ratio.toFixed(2)})`);
  return lines.join("\n");
}

await main();
