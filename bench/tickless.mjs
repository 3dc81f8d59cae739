// Runs tickless on the translated playbook (playbooks/demo.yml) in a child process, so that its wall
// time includes start-up like ansible-playbook's and its peak RSS is its own.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { onInterrupt, untilInterruptHandled } from "./interrupt.mjs";
import { FAKE_ROOT_BASE } from "./roots.mjs";

const CHILD = fileURLToPath(new URL("./tickless-child.mjs", import.meta.url));
const PLAYBOOK = fileURLToPath(new URL("../playbooks/demo.yml", import.meta.url));
/**
 * The baseline's ansible.cfg sets this. As in Ansible, a template's `ansible_managed` comes from the
 * setting and an extra var of that name is not seen there, so tickless gets the setting itself.
 */
const ANSIBLE_MANAGED = "managed by tickless bench (ansible)";

/** One timed run; resolves to the process wall time plus what the child reported (tickless-child.mjs). */
export async function runTickless({ inventory, forks, check, home }) {
  const job = {
    playbook: PLAYBOOK,
    inventory,
    extraVars: { fake_root_base: FAKE_ROOT_BASE },
    ansibleManaged: ANSIBLE_MANAGED,
    check,
    diff: check,
    forks,
  };
  const start = performance.now();
  // BENCH_NODE_ARGS: flags for the child's node (e.g. --max-old-space-size=160), to measure their effect
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, CHILD, JSON.stringify(job)], {
    env: { ...process.env, HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const closed = new Promise((resolve) => child.on("close", resolve));
  // An interrupted bench takes the run down with it.
  const release = onInterrupt(async () => {
    child.kill("SIGKILL");
    await closed;
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => {
    stdout += c;
  });
  child.stderr.on("data", (c) => {
    stderr += c;
  });
  const code = await closed;
  release();
  await untilInterruptHandled();
  const wallMs = performance.now() - start;
  if (code !== 0) throw new Error(`the tickless child exited with ${code}:\n${stderr.slice(-2000)}`);
  return { wallMs, ...JSON.parse(stdout) };
}
