// One tickless run in its own process (so its peak RSS is its own), with every host operation counted.
// Usage: node bench/tickless-child.mjs '<json: {playbook, inventory, extraVars, ansibleManaged, check, diff, forks}>'
// Prints one JSON line: exit code, totals, per-host stats, engine time, connection setup time,
// calls per host (run/readFile/stat/writeFile/remove), round trips per host and per task (a call sent
// while others of its host are in flight and none of them has answered shares their wait), CPU time, peak RSS, peak open file descriptors,
// and when each phase was reached (ms since the process started): modules loaded, playbook and
// inventory parsed (play start), first task started, first connect started, last connection up, first
// host operation sent, first host result (the first task done on a host; also the CPU time used by
// then, firstResultCpu), recap.
import { readdirSync } from "node:fs";

const dist = process.env.TICKLESS_DIST ?? new URL("../dist/index.js", import.meta.url).href;
const { limitHeapGrowth, openConnection, runPlaybook } = await import(dist);
// As the tickless CLI does first thing (TICKLESS_HEAP_GROWING_PERCENT=0 measures without it).
limitHeapGrowth();
const sinceStart = () => Math.round(performance.now());
const phases = { modulesLoaded: sinceStart() };

const OPS = ["run", "readFile", "stat", "writeFile", "remove"];
const job = JSON.parse(process.argv[2]);
const calls = {};
/** Per host: round trips (waits), counted as calls are sent (operations in flight together are one). */
const trips = {};
const perTask = new Map();
const connectMs = [];
let task = "(connect)";

/** Opens the real connection, timing the setup; every host operation is counted against its host and the current task. */
async function countingConnect(settings) {
  const t0 = performance.now();
  phases.firstConnectStart ??= sinceStart();
  const conn = await openConnection(settings);
  connectMs.push(performance.now() - t0);
  phases.lastConnectUp = sinceStart();
  calls[settings.host] ??= Object.fromEntries(OPS.map((op) => [op, 0]));
  const mine = calls[settings.host];
  trips[settings.host] ??= { inFlight: 0, answered: true, count: 0 };
  const waits = trips[settings.host];
  const wrapped = Object.create(conn);
  for (const op of OPS) {
    wrapped[op] = (...args) => {
      phases.firstOp ??= sinceStart();
      mine[op]++;
      const t = perTask.get(task);
      // The host lock's holder (keepStdinOpen) waits one round trip for the lock, then stays in
      // flight until the run releases it: counted once, never as a wait other calls share.
      if (op === "run" && args[1]?.keepStdinOpen) {
        waits.count++;
        if (t) t.calls++;
        return conn[op](...args);
      }
      // A call sent while others are in flight and none has answered yet shares their wait.
      if (waits.inFlight === 0 || waits.answered) {
        waits.count++;
        waits.answered = false;
        if (t) t.calls++;
      }
      waits.inFlight++;
      const answered = () => {
        waits.inFlight--;
        waits.answered = true;
      };
      const p = conn[op](...args);
      p.then(answered, answered);
      return p;
    };
  }
  wrapped.close = () => conn.close();
  return wrapped;
}

/** Task boundaries from engine events: the wall time and round trips of each task over all hosts. */
function onEvent(event) {
  if (event.type === "play_start") phases.playStart ??= sinceStart();
  if (event.type === "recap") phases.recap = sinceStart();
  if (event.type === "host_result" && phases.firstResult === undefined) {
    phases.firstResult = sinceStart();
    const cpu = process.cpuUsage();
    phases.firstResultCpu = Math.round((cpu.user + cpu.system) / 1000);
  }
  if (event.type !== "task_start") return;
  phases.firstTask ??= sinceStart();
  const now = performance.now();
  const previous = perTask.get(task);
  if (previous) previous.ms += now - previous.start;
  task = `${event.handler ? "handler: " : ""}${event.task}`;
  if (!perTask.has(task)) perTask.set(task, { calls: 0, ms: 0, start: now });
  else perTask.get(task).start = now;
}

/** Peak of the process's open file descriptors (sockets of the connections among them), sampled. */
let maxFds = 0;
const sampleFds = () => {
  maxFds = Math.max(maxFds, readdirSync("/proc/self/fd").length);
};
const fdTimer = setInterval(sampleFds, 100);
fdTimer.unref();

const start = performance.now();
const summary = await runPlaybook({
  playbook: job.playbook,
  inventory: job.inventory,
  extraVars: job.extraVars,
  configDefaults: { ansibleManaged: job.ansibleManaged },
  check: job.check,
  diff: job.diff,
  forks: job.forks,
  connect: countingConnect,
  onEvent,
});
const engineMs = performance.now() - start;
sampleFds();
clearInterval(fdTimer);
const last = perTask.get(task);
if (last) last.ms += performance.now() - last.start;
const roundTrips = Object.values(trips).map((t) => t.count);
process.stdout.write(
  `${JSON.stringify({
    exitCode: summary.exitCode,
    totals: summary.totals,
    stats: summary.stats,
    engineMs,
    phases,
    connectMs: { max: Math.max(...connectMs), mean: connectMs.reduce((a, b) => a + b, 0) / connectMs.length },
    calls,
    roundTripsPerHost: { min: Math.min(...roundTrips), max: Math.max(...roundTrips) },
    tasks: [...perTask].map(([name, t]) => ({ name, calls: t.calls, ms: Math.round(t.ms) })),
    cpuMs: (process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1000,
    maxRssKb: process.resourceUsage().maxRSS,
    maxFds,
  })}\n`,
);
