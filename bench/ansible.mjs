// Runs the reference playbook with ansible-playbook exactly as the baseline does (its ansible.cfg:
// pipelining, ControlPersist, host key checking off), with temp dirs and control sockets moved
// under the bench's own dir, cold masters before each run, and the controller's memory sampled.
import { execFile, spawn } from "node:child_process";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { onInterrupt, untilInterruptHandled } from "./interrupt.mjs";
import { sampleTree } from "./process-memory.mjs";
import { FAKE_ROOT_BASE } from "./roots.mjs";

// The baseline lives beside the checkout (shared/bench/ansible-baseline); TICKLESS_ANSIBLE_BASELINE overrides.
export const BASELINE =
  process.env.TICKLESS_ANSIBLE_BASELINE ??
  fileURLToPath(new URL("../../shared/bench/ansible-baseline", import.meta.url));

/** The environment of every ansible-playbook run; `dir` holds its local temp and control sockets. */
function ansibleEnv(dir) {
  return {
    ...process.env,
    HOME: join(dir, "home"),
    ANSIBLE_CONFIG: join(BASELINE, "ansible.cfg"),
    ANSIBLE_LOCAL_TEMP: join(dir, "local"),
    ANSIBLE_SSH_CONTROL_PATH_DIR: join(dir, "cp"),
    ANSIBLE_NOCOLOR: "1",
    ANSIBLE_FORCE_COLOR: "0",
  };
}

/** Ends every ControlPersist master left under `dir`, so the next run starts with cold connections. */
export async function closeMasters(dir) {
  const cp = join(dir, "cp");
  const sockets = await readdir(cp).catch(() => []);
  await Promise.all(
    sockets.map((s) =>
      promisify(execFile)("ssh", ["-o", `ControlPath=${join(cp, s)}`, "-O", "exit", "x"]).catch(
        () => undefined,
      ),
    ),
  );
  for (let i = 0; i < 50 && (await readdir(cp).catch(() => [])).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await rm(cp, { recursive: true, force: true });
}

/** PLAY RECAP lines: `{ host: { ok, changed, unreachable, failed, skipped, rescued, ignored } }`. */
export function parseRecap(output) {
  const recap = output.slice(output.lastIndexOf("PLAY RECAP"));
  const stats = {};
  for (const m of recap.matchAll(/^(\S+)\s+:\s+(.*)$/gm)) {
    stats[m[1]] = Object.fromEntries([...m[2].matchAll(/(\w+)=(\d+)/g)].map(([, k, v]) => [k, Number(v)]));
  }
  return stats;
}

/** Process groups of the ansible-playbook runs in flight, by their directory: an interrupted bench leaves none running. */
const running = new Map();
onInterrupt(async () => {
  for (const pid of running.keys()) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
  await Promise.all([...new Set(running.values())].map((dir) => closeMasters(dir)));
});

/** One timed ansible-playbook run of the reference playbook; resolves to wall time, recap and peak memory. */
export async function runAnsible({ dir, inventory, forks, check }) {
  // Every directory ansible-playbook writes in (a fresh clone has none of them).
  for (const d of ["home", "local"]) await mkdir(join(dir, d), { recursive: true });
  await closeMasters(dir);
  const args = ["-i", inventory, "-f", String(forks), "-e", `fake_root_base=${FAKE_ROOT_BASE}`];
  if (check) args.push("--check", "--diff");
  args.push(join(BASELINE, "playbook.yml"));
  // /usr/bin/time: user+sys CPU of ansible-playbook and the children it waited for (not the detached masters).
  const timeFile = join(dir, "time.txt");
  const start = performance.now();
  const child = spawn("/usr/bin/time", ["-f", "%U %S", "-o", timeFile, "ansible-playbook", ...args], {
    env: ansibleEnv(dir),
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so an interrupt can take ansible-playbook and its forks down together.
    detached: true,
  });
  running.set(child.pid, dir);
  const cpDir = join(dir, "cp");
  const memory = sampleTree(child.pid, (cmdline) => cmdline.includes(cpDir));
  let output = "";
  child.stdout.on("data", (c) => {
    output += c;
  });
  child.stderr.on("data", (c) => {
    output += c;
  });
  const exitCode = await new Promise((resolve) => child.on("close", resolve));
  running.delete(child.pid);
  await untilInterruptHandled();
  const wallMs = performance.now() - start;
  const peak = await memory.stop();
  await closeMasters(dir);
  const [user, system] = (await readFile(timeFile, "utf8")).trim().split("\n").pop().split(" ").map(Number);
  return { wallMs, cpuMs: (user + system) * 1000, exitCode, stats: parseRecap(output), peak, output };
}
