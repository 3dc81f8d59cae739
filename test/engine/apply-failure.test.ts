/** A state module whose apply reports `failed: true` fails the task with its own message, without a re-probe. */
import { afterEach, expect, test } from "vitest";
import { defineModule } from "../../src/modules/types.js";
import { type Lab, lab, removeDir, run } from "../e2e/helpers.js";

let current: Lab | undefined;
afterEach(async () => {
  if (current) await removeDir(current.dir);
  current = undefined;
});

/** A service-like module: probe says "stopped", apply runs a real command that fails as systemctl does. */
function failingService(probes: string[]) {
  return defineModule<{ name: string }, { state: string }>({
    name: "fake_service",
    kind: "state",
    description: "a service whose restart fails",
    args: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
    async probe(host, args) {
      probes.push(args.name);
      const r = await host.run("echo stopped");
      return { state: r.stdout.trim() };
    },
    plan: (args, current) =>
      current.state === "started" ? [] : [{ target: `${args.name}:state`, summary: "start" }],
    async apply(host, args) {
      const r = await host.run(`echo "Failed to start ${args.name}.service: Unit not found." >&2; exit 5`);
      return {
        failed: true,
        rc: r.rc,
        stderr: r.stderr,
        msg: `starting ${args.name} failed: ${r.stderr.trim()}`,
      };
    },
  });
}

test("apply's failure is the task's failure: its msg and rc, not 'did not converge'", async () => {
  const probes: string[] = [];
  current = await lab(["h1"], {
    "p.yml": `- hosts: all
  gather_facts: false
  tasks:
    - name: start
      fake_service: { name: redis-tuned }
`,
  });
  const r = await run({
    playbook: current.file("p.yml"),
    inventory: current.inventory,
    modules: [failingService(probes)],
  });
  expect(r.summary.exitCode).toBe(2);
  const [result] = r.results;
  expect(result.status).toBe("failed");
  expect(result.result.msg).toBe(
    "starting redis-tuned failed: Failed to start redis-tuned.service: Unit not found.",
  );
  expect(result.result.rc).toBe(5);
  expect(result.result.changed).toBe(false);
  expect(JSON.stringify(result.result)).not.toContain("did not converge");
  expect(probes).toEqual(["redis-tuned"]);
});
