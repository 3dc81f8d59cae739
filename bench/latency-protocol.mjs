// How long the latency gate's default protocol takes (validate-latency.yml: 100 baseline runs, 50
// runs a side for A/B, each run `redis-benchmark -c 1 -P 1 -n 10000 -r 10000` for PING, GET and
// SET, after 10 000 keys loaded and one warm-up run per server, plus 10 s of intrinsic latency
// before the candidate is measured).
// Measured: RUNS interleaved runs a side at the default request count and tests, through
// validate-latency.yml's ab phase on one lab host (real sshd in a namespace, bench/lab.mjs) against
// two stock redis-server on loopback; redis_latency records the wall time per run (the SSH round
// trip and redis-benchmark's start included). Extrapolated to the default sizes.
// Real-host estimate, against a named baseline: the same runs with every request taking this lab's
// quietest round trip (the lowest GET p50 of the runs: what a request costs here when nothing
// interferes, which a tuned host with Redis on an isolated CPU does at least as well), plus the
// per-run overhead measured here (wall time per run minus the time its requests took at the
// throughput redis-benchmark reported).
// Run after `npm run build`:  node bench/latency-protocol.mjs [runs=4]
// On another host (the VM, a real server) instead of the lab:
//   node bench/latency-protocol.mjs 4 --inventory inv.yml --limit HOST [--ports 6391,6392]
// starts the two stock servers there (redis-server on those loopback ports, data in /tmp) through
// a generated playbook, measures, and stops them again, removing their data and the bench's
// result files from /var/lib/tickless/latency (and those directories when nothing else is in them).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { importLab } from "./lab.mjs";

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { inventory: { type: "string" }, limit: { type: "string" }, ports: { type: "string" } },
});
const RUNS = Number(positionals[0] ?? 4);
const DEFAULTS = {
  baseline: 100,
  candidate: 50,
  ab: 50,
  requests: 10000,
  noiseSeconds: 10,
  warmup: 1,
  keyspace: 10000,
};
const dist = process.env.TICKLESS_DIST_DIR ?? fileURLToPath(new URL("../dist/", import.meta.url));
const { runPlaybook } = await import(join(dist, "index.js"));
const { openSsh } = await import(join(dist, "connection", "ssh.js"));
const playbook = fileURLToPath(new URL("../playbooks/validate-latency.yml", import.meta.url));

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** Two stock servers on a lab host, over SSH. */
async function labTarget() {
  if (
    !execFileSync("sh", ["-c", "command -v redis-server redis-benchmark || true"], {
      encoding: "utf8",
    }).trim()
  )
    throw new Error("redis-server and redis-benchmark are needed (redis-server, redis-tools)");
  const { startLab } = await importLab();
  const lab = await startLab(1, { names: ["latbench"] });
  const host = lab.hosts[0];
  const conn = await openSsh({
    host: host.name,
    transport: "ssh",
    address: host.address,
    port: host.port,
    user: "root",
    privateKeyFile: lab.keyFile,
    knownHostsFile: lab.knownHostsFile,
  });
  const ports = [await freePort(), await freePort()];
  const sh = async (cmd) => {
    const r = await conn.run(cmd);
    if (r.rc !== 0) throw new Error(`${cmd}: rc ${r.rc}: ${r.stderr}`);
    return r.stdout.trim();
  };
  return {
    where: "a lab host",
    inventory: lab.inventoryFile,
    ports,
    async start() {
      for (const [i, port] of ports.entries()) {
        await sh(
          `mkdir -p /tmp/r${i} && redis-server --port ${port} --bind 127.0.0.1 --daemonize yes --dir /tmp/r${i} --save '' --appendonly no --logfile /tmp/r${i}/redis.log`,
        );
        await sh(
          `for i in $(seq 50); do [ "$(redis-cli -p ${port} PING 2>/dev/null)" = PONG ] && exit 0; sleep 0.1; done; exit 1`,
        );
      }
    },
    async stop() {
      for (const port of ports) await conn.run(`redis-cli -p ${port} SHUTDOWN NOSAVE`).catch(() => {});
      await conn.close();
      await lab.stop();
    },
  };
}

/** Two stock servers on an inventory's host, started and stopped by generated playbooks. */
function inventoryTarget(work) {
  const ports = (opts.ports ?? "6391,6392").split(",").map(Number);
  const play = async (name, cmd) => {
    const file = join(work, `${name}.yml`);
    const tasks = ports.map(
      (port, i) => `    - shell: ${JSON.stringify(cmd(port, i))}\n      changed_when: false`,
    );
    writeFileSync(
      file,
      `- hosts: all\n  become: true\n  gather_facts: false\n  tasks:\n${tasks.join("\n")}\n`,
    );
    const s = await runPlaybook({ playbook: file, inventory: opts.inventory, limit: opts.limit });
    if (s.exitCode !== 0) throw new Error(`${name} failed on the host (exit ${s.exitCode})`);
  };
  return {
    where: `host ${opts.limit ?? "(all of the inventory)"}`,
    inventory: opts.inventory,
    ports,
    start: () =>
      play(
        "start",
        (port, i) =>
          `mkdir -p /tmp/latbench-r${i} && redis-server --port ${port} --bind 127.0.0.1 --daemonize yes --dir /tmp/latbench-r${i} --save '' --appendonly no --logfile /tmp/latbench-r${i}/redis.log && for i in $(seq 100); do [ "$(redis-cli -p ${port} PING 2>/dev/null)" = PONG ] && exit 0; sleep 0.2; done; exit 1`,
      ),
    // the servers, their data and the bench's own result files on the host go again
    stop: () =>
      play(
        "stop",
        (port, i) =>
          `redis-cli -p ${port} SHUTDOWN NOSAVE; rm -rf /tmp/latbench-r${i}; cd /var/lib/tickless/latency 2>/dev/null && rm -f bench-baseline.json bench-candidate.json gate-bench-candidate.json gate-bench-candidate.svg; rmdir /var/lib/tickless/latency /var/lib/tickless 2>/dev/null; true`,
      ).catch(() => {}),
  };
}

const results = mkdtempSync(join(tmpdir(), "tickless-latbench-"));
const target = opts.inventory ? inventoryTarget(results) : await labTarget();
const { ports } = target;
try {
  await target.start();
  const events = [];
  const summary = await runPlaybook({
    playbook,
    inventory: target.inventory,
    limit: opts.limit,
    extraVars: {
      latency_phase: "ab",
      latency_baseline_port: ports[0],
      latency_candidate_port: ports[1],
      latency_runs: RUNS,
      latency_noise_seconds: 0,
      latency_seed: 1,
      latency_results_dir: results,
      latency_name: "bench-candidate",
      latency_baseline: "bench-baseline",
      // the bench's own two servers: the A/B's dataset, which the playbook loads only when asked
      latency_keyspace: DEFAULTS.keyspace,
    },
    onEvent: (e) => events.push(e),
  });
  const measured = events.find(
    (e) => e.type === "host_result" && e.task === "measure baseline and candidate interleaved",
  );
  if (summary.exitCode !== 0 || measured?.status !== "ok")
    throw new Error(
      `validate-latency.yml failed (exit ${summary.exitCode}): ${JSON.stringify(measured?.result?.msg)}`,
    );
  const m = measured.result;
  if (m.keyspace !== DEFAULTS.keyspace || m.warmup_runs !== DEFAULTS.warmup)
    throw new Error(
      `expected the A/B's dataset and the playbook's warm-up, got ${m.keyspace} keys, ${m.warmup_runs} warm-up`,
    );
  const runs = [...m.runs, ...m.baseline_runs];
  if (runs.length !== 2 * RUNS) throw new Error(`expected ${2 * RUNS} runs, got ${runs.length}`);
  const perRun = m.duration_s / runs.length;
  // time the requests took at the reported throughput, per run (`-t ping` runs PING_INLINE and PING_MBULK)
  const requestSeconds = runs.map((r) =>
    Object.values(r).reduce((sum, t) => sum + DEFAULTS.requests / t.rps, 0),
  );
  const measuredTests = Object.keys(runs[0]);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const overhead = Math.max(0, perRun - mean(requestSeconds));
  const quietestUs = Math.min(...runs.map((r) => r.GET.p50_us));
  const realPerRun = measuredTests.length * DEFAULTS.requests * quietestUs * 1e-6 + overhead;
  // the dataset's load per server (measured here for both servers); a warm-up run costs a run
  const loadPerServer = m.keyspace_load_s / 2;
  const phases = (per) => {
    const setup = loadPerServer + DEFAULTS.warmup * per;
    return {
      setup_s_per_server: setup,
      baseline_s: DEFAULTS.baseline * per + setup,
      candidate_s: DEFAULTS.candidate * per + setup + DEFAULTS.noiseSeconds,
      ab_s: 2 * DEFAULTS.ab * per + 2 * setup + DEFAULTS.noiseSeconds,
    };
  };
  const result = {
    runs_a_side: RUNS,
    requests: DEFAULTS.requests,
    tests: measuredTests,
    load_average: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
    cpus: Number(execFileSync("nproc", { encoding: "utf8" }).trim()),
    seconds_per_run: perRun,
    request_seconds_per_run: mean(requestSeconds),
    overhead_seconds_per_run: overhead,
    keyspace_load_seconds_per_server: loadPerServer,
    get_p50_us_quietest: quietestUs,
    measured: phases(perRun),
    real_host_estimate: { seconds_per_run: realPerRun, ...phases(realPerRun) },
  };
  const min = (s) => `${(s / 60).toFixed(1)} min`;
  console.log(
    `validate-latency.yml's default protocol (${DEFAULTS.requests} requests × ${measuredTests.join("/")} a run; ` +
      `measured: ${RUNS} interleaved runs a side on ${target.where}; this machine: ${result.cpus} CPUs, load ${result.load_average})`,
  );
  console.log(
    `  per run: ${perRun.toFixed(2)} s (requests ${result.request_seconds_per_run.toFixed(2)} s, overhead ${overhead.toFixed(2)} s); ` +
      `keyspace load ${loadPerServer.toFixed(2)} s and ${DEFAULTS.warmup} warm-up run per server`,
  );
  const line = (p) =>
    `ab (50 + 50 runs, interleaved) ${min(p.ab_s)}, baseline (100 runs) ${min(p.baseline_s)}, candidate (50 runs) ${min(p.candidate_s)}; the load, the warm-up and the intrinsic latency's ${DEFAULTS.noiseSeconds} s included where measured`;
  console.log(`  measured:  ${line(result.measured)}`);
  console.log(
    `  real host: ${line(result.real_host_estimate)} — baseline: every request at the measured host's quietest ` +
      `round trip (lowest GET p50, ${quietestUs} µs) plus the overhead measured here; ratio measured/real ${(perRun / realPerRun).toFixed(2)}`,
  );
  const outDir = fileURLToPath(new URL("results/", import.meta.url));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "latency-protocol.json"), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await target.stop();
  rmSync(results, { recursive: true, force: true });
}
