// Engine overhead: N tasks × H hosts of a no-op module over a connection that does nothing.
// Baseline: the engine target of 1 ms per task per host. Run after `npm run build`:
//   node bench/engine-overhead.mjs [tasks=200] [hosts=50]
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

const dist = process.env.TICKLESS_DIST ?? new URL("../dist/index.js", import.meta.url).href;
const { defineModule, loadInventory, runPlaybook } = await import(dist);

const TASKS = Number(process.argv[2] ?? 200);
const HOSTS = Number(process.argv[3] ?? 50);
const TARGET_MS = 1;

const noop = defineModule({
  name: "noop",
  kind: "state",
  description: "does nothing, already converged",
  args: { type: "object", properties: { n: { type: "integer" } } },
  probe: async () => ({}),
  plan: () => [],
  apply: async () => undefined,
});

/** A connection that answers every call at once without touching anything. */
const nullConnection = async (settings) => ({
  name: settings.host,
  transport: "local",
  run: async () => ({ rc: 0, stdout: "", stderr: "" }),
  readFile: async (p) => ({ path: p, exists: false }),
  stat: async (p) => ({ path: p, exists: false }),
  writeFile: async () => undefined,
  remove: async () => undefined,
  close: async () => undefined,
});

const dir = await mkdtemp(path.join(tmpdir(), "tickless-bench-"));
try {
  const tasks = Array.from({ length: TASKS }, (_, i) => `    - name: task ${i}\n      noop: { n: ${i} }`);
  const file = path.join(dir, "bench.yml");
  await writeFile(file, `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks.join("\n")}\n`);
  const hosts = Array.from({ length: HOSTS }, (_, i) => `    h${i}:`).join("\n");
  const inventory = await loadInventory({ yaml: `all:\n  hosts:\n${hosts}\n` });
  const options = { playbook: file, inventory, modules: [noop], connect: nullConnection, forks: 50 };
  await runPlaybook({ ...options }); // warm-up (JIT, template cache)
  const start = process.hrtime.bigint();
  const summary = await runPlaybook(options);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (summary.exitCode !== 0) throw new Error(`bench run failed with exit code ${summary.exitCode}`);
  const perTaskHost = ms / (TASKS * HOSTS);
  console.log(`engine overhead: ${TASKS} tasks × ${HOSTS} hosts in ${ms.toFixed(0)} ms`);
  console.log(
    `${perTaskHost.toFixed(4)} ms/task/host; ratio to target: ${(perTaskHost / TARGET_MS).toFixed(3)}`,
  );
  console.log("baseline: the engine target of 1 ms/task/host");
} finally {
  await rm(dir, { recursive: true, force: true });
}
