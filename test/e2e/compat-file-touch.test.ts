/**
 * file `state: touch` on paths that exist, against the referee: a file, a directory and a hard
 * link get their times set to now and a change on every run (in check mode too, nothing touched);
 * `preserve` on both times leaves them and is ok, unless the mode changes. Each task's status, the
 * exit code, and the times left (moved to now, or kept) must be the same under both tools.
 */
import { link, lstat, readdir, utimes } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: touch a file
      file: { path: "{{ root }}/f", state: touch }
    - name: touch it again
      file: { path: "{{ root }}/f", state: touch }
    - name: touch a directory
      file: { path: "{{ root }}/d", state: touch }
    - name: touch a hard link
      file: { path: "{{ root }}/h", state: touch }
    - name: touch preserving both times
      file: { path: "{{ root }}/p", state: touch, modification_time: preserve, access_time: preserve }
    - name: touch preserving both times, another mode
      file: { path: "{{ root }}/p", state: touch, modification_time: preserve, access_time: preserve, mode: "0600" }
    - name: touch a new file
      file: { path: "{{ root }}/new", state: touch }
`;

/** An hour after the epoch: any time a touch sets is far past it. */
const OLD = 3600;
let dir: string;
const referee: Record<string, { rc: number; tasks: string[]; files: string[] }> = {};

/** Each path's mode, and whether its mtime is still the old one. */
async function files(root: string): Promise<string[]> {
  return Promise.all(
    (await readdir(root)).sort().map(async (n) => {
      const st = await lstat(path.join(root, n));
      const times = st.mtimeMs === OLD * 1000 ? "old" : "new";
      return `${n} ${(st.mode & 0o7777).toString(8)} ${times}`;
    }),
  );
}

async function setup(side: string) {
  const root = path.join(dir, side);
  await writeTree(root, { f: "x\n", p: "y\n", "d/.keep": "", src: "z\n" });
  await link(path.join(root, "src"), path.join(root, "h"));
  for (const n of ["f", "p", "d", "h"]) await utimes(path.join(root, n), OLD, OLD);
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-file-touch-");
  await writeTree(dir, { "inventory.yml": refereeInventory(["h1"]), "p.yml": PLAYBOOK });
  for (const check of [false, true]) {
    await removeDir(path.join(dir, "ansible"));
    await setup("ansible");
    const { rc, report, root } = await refereeRun(dir, check ? ["--check"] : []);
    const tasks = report.plays.flatMap((p) => p.tasks.map((t) => `${t.task.name}: ${t.hosts.h1.status}`));
    referee[check ? "check" : "real"] = { rc, tasks, files: await files(root) };
  }
}, 180_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("file state: touch on existing paths against ansible-playbook", () => {
  test.each(["real", "check"])(
    "%s run: each task's status, the exit code, the times left",
    async (mode) => {
      await removeDir(path.join(dir, "tickless"));
      await setup("tickless");
      const ours = await ticklessRun(dir, mode === "check");
      const tasks = ours.results.map((e) => `${e.task}: ${e.status}`);
      expect(tasks.join("\n")).toBe(referee[mode].tasks.join("\n"));
      expect(ours.summary.exitCode).toBe(referee[mode].rc);
      expect(await files(ours.root)).toEqual(referee[mode].files);
      // the real run moved the touched times (src is h), the check run kept every one
      expect(referee[mode].files.filter((l) => l.endsWith(" old")).length).toBe(mode === "real" ? 1 : 5);
    },
    60_000,
  );
});
