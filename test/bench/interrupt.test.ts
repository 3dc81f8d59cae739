import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = new URL("../..", import.meta.url).pathname;
const ANSIBLE = "/usr/bin/ansible-playbook";
/** The Ansible baseline the bench runs (bench/ansible.mjs): beside the checkout unless TICKLESS_ANSIBLE_BASELINE says where. */
const BASELINE =
  process.env.TICKLESS_ANSIBLE_BASELINE ?? join(ROOT, "..", "shared", "bench", "ansible-baseline");

interface Proc {
  pid: number;
  ppid: number;
  start: string;
  /** R, S, D, Z…: a zombie has exited and only waits for its parent to read its status. */
  state: string;
  cmdline: string;
}

/** Every process of the machine: pid, parent, start time (field 22, against pid reuse), command line. */
async function processTable(): Promise<Proc[]> {
  const table: Proc[] = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = await readFile(`/proc/${d}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmdline = (await readFile(`/proc/${d}/cmdline`, "utf8")).replaceAll("\0", " ");
      table.push({ pid: Number(d), ppid: Number(fields[1]), start: fields[19], state: fields[0], cmdline });
    } catch {
      // gone while the table was read
    }
  }
  return table;
}

/** The processes below `root` (not itself). */
async function descendants(root: number): Promise<Proc[]> {
  const table = await processTable();
  const members = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of table) {
      if (!members.has(p.pid) && members.has(p.ppid)) {
        members.add(p.pid);
        grew = true;
      }
    }
  }
  return table.filter((p) => p.pid !== root && members.has(p.pid));
}

/** Polls until some descendant of `root` matches `match`; returns every descendant seen then. */
async function waitForChild(
  root: number,
  match: (p: Proc) => boolean,
  timeoutMs: number,
  exited: () => boolean,
): Promise<Proc[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited()) {
    const tree = await descendants(root);
    if (tree.some(match)) return tree;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no matching child of ${root} (exited: ${exited()})`);
}

/** The processes of `seen` still running (same pid and start time, not a zombie). */
async function survivors(seen: Proc[]): Promise<Proc[]> {
  const now = new Map((await processTable()).map((p) => [p.pid, p]));
  return seen.filter((p) => now.get(p.pid)?.start === p.start && now.get(p.pid)?.state !== "Z");
}

function waitFor(
  text: () => string,
  pattern: RegExp,
  timeoutMs: number,
  exited: () => boolean,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const tick = () => {
      if (pattern.test(text())) resolve();
      else if (exited()) reject(new Error(`the bench exited before ${pattern}:\n${text()}`));
      else if (Date.now() > deadline) reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${text()}`));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

/** Starts the bench on one host in a fresh temp tree: scratch, results and the lab's dir (TMPDIR) all under `dir`. */
function startBench(
  dir: string,
  extra: string[],
): {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
  exited: () => boolean;
} {
  const args = [
    "bench/run.mjs",
    "--hosts",
    "1",
    "--reps",
    "1",
    "--work",
    join(dir, "work"),
    "--results",
    join(dir, "results"),
  ];
  const child = spawn(process.execPath, [...args, ...extra], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: dir, TICKLESS_ANSIBLE_BASELINE: BASELINE },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  let exited = false;
  child.on("close", () => {
    exited = true;
  });
  child.stderr?.on("data", (c) => {
    stderr += c;
  });
  const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, stderr: () => stderr, exit, exited: () => exited };
}

describe("an interrupted bench", () => {
  let dir: string | undefined;
  let bench: ChildProcess | undefined;
  afterEach(async () => {
    bench?.kill("SIGKILL");
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!existsSync(ANSIBLE) || !existsSync(join(BASELINE, "playbook.yml")))(
    "creates its scratch directories in a fresh tree, and SIGTERM during ansible-playbook leaves no ansible or lab process and no lab directory",
    async () => {
      dir = await mkdtemp(join(tmpdir(), "tickless-bench-interrupt-"));
      const b = startBench(dir, []);
      bench = b.child;
      // The first ansible run read its time file from a directory the bench made (the tree was empty).
      await waitFor(b.stderr, /ansible first N=1 rep 1: /, 150_000, b.exited);
      const seen = await waitForChild(
        b.child.pid!,
        (p) => p.cmdline.includes("ansible-playbook"),
        60_000,
        b.exited,
      );
      expect(seen.some((p) => p.cmdline.includes("sshd"))).toBe(true); // the lab host is in the tree
      b.child.kill("SIGTERM");
      expect(await b.exit).toBe(143);
      expect(await survivors(seen)).toEqual([]);
      // ControlPersist masters detach from the tree: none may remain either.
      const cp = join(dir, "work", "ansible", "cp");
      expect((await processTable()).filter((p) => p.cmdline.includes(cp) && p.state !== "Z")).toEqual([]);
      expect((await readdir(dir)).filter((f) => f.startsWith("tickless-lab-"))).toEqual([]);
      expect(existsSync(join(dir, "work", "ansible", "time.txt"))).toBe(true);
    },
    240_000,
  );

  it("SIGINT during a tickless run ends the tickless child and the lab", async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-bench-interrupt-"));
    const b = startBench(dir, ["--tickless-only"]);
    bench = b.child;
    const seen = await waitForChild(
      b.child.pid!,
      (p) => p.cmdline.includes("tickless-child.mjs"),
      150_000,
      b.exited,
    );
    expect(seen.some((p) => p.cmdline.includes("sshd"))).toBe(true);
    b.child.kill("SIGINT");
    expect(await b.exit).toBe(130);
    expect(await survivors(seen)).toEqual([]);
    expect((await readdir(dir)).filter((f) => f.startsWith("tickless-lab-"))).toEqual([]);
  }, 240_000);
});
