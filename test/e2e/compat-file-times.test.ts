/**
 * file's `modification_time` / `access_time` (`now`, `preserve`, a time with its `_format`) and
 * `follow` against the referee: the same playbook under ansible-playbook and tickless, for real
 * and in check mode; each task's status and msg, the recap, the exit code and the times and modes
 * left must be the same.
 */
import { lstat, readdir, symlink } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: mtime set
      file: { path: "{{ root }}/f", modification_time: "202001020304.05" }
    - name: mtime already set
      file: { path: "{{ root }}/f", modification_time: "202001020304.05" }
    - name: atime with a format
      file: { path: "{{ root }}/f", access_time: "2021-03-04 05:06:07", access_time_format: "%Y-%m-%d %H:%M:%S" }
    - name: mtime now changes every run
      file: { path: "{{ root }}/f", modification_time: now }
    - name: preserve keeps
      file: { path: "{{ root }}/f", modification_time: preserve, access_time: preserve }
    - name: touch preserving both
      file: { path: "{{ root }}/f", state: touch, modification_time: preserve, access_time: preserve }
    - name: touch with an mtime sets atime to now
      file: { path: "{{ root }}/f", state: touch, modification_time: "202001020304.05" }
    - name: a directory's mtime
      file: { path: "{{ root }}/d", state: directory, modification_time: "202001020304.05" }
    - name: a new file with both times
      file: { path: "{{ root }}/new", state: touch, modification_time: "202001020304.05", access_time: "201901020304.05" }
    - name: the new file again
      file: { path: "{{ root }}/new", state: touch, modification_time: "202001020304.05", access_time: "201901020304.05" }
    - name: mode through a link, followed
      file: { path: "{{ root }}/link", mode: "0600" }
    - name: state file through a link
      file: { path: "{{ root }}/link", state: file, mode: "0600" }
    - name: a time that does not match its format
      file: { path: "{{ root }}/f", modification_time: "2020-13" }
      ignore_errors: true
`;

let dir: string;
const referee: Record<string, { rc: number; tasks: string[]; files: string[] }> = {};

/** Each path's mode, and its times where the playbook set them to a fixed moment. */
async function files(root: string): Promise<string[]> {
  const fixed: Record<string, "m" | "am"> = { f: "m", d: "m", new: "am" };
  return Promise.all(
    (await readdir(root)).sort().map(async (n) => {
      const st = await lstat(path.join(root, n));
      const times =
        fixed[n] === "am" ? ` ${st.atimeMs} ${st.mtimeMs}` : fixed[n] === "m" ? ` ${st.mtimeMs}` : "";
      return `${n} ${(st.mode & 0o7777).toString(8)}${times}`;
    }),
  );
}

async function setup(side: string) {
  const root = path.join(dir, side);
  await writeTree(root, { target: "x\n", f: "y\n", "d/.keep": "" });
  await symlink("target", path.join(root, "link"));
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-file-times-");
  await writeTree(dir, { "inventory.yml": refereeInventory(["h1"]), "p.yml": PLAYBOOK });
  for (const check of [false, true]) {
    await removeDir(path.join(dir, "ansible"));
    await setup("ansible");
    const before = await files(path.join(dir, "ansible"));
    const { rc, report, root } = await refereeRun(dir, check ? ["--check"] : []);
    // check mode leaves every time and mode as it was
    if (check) expect(await files(root)).toEqual(before);
    const tasks = report.plays.flatMap((p) =>
      p.tasks.map((t) => `${t.task.name}: ${t.hosts.h1.status} ${JSON.stringify(t.hosts.h1.msg ?? "")}`),
    );
    referee[check ? "check" : "real"] = { rc, tasks, files: await files(root) };
  }
}, 180_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

/** Check mode: the mode the task before it plans on the link's target is there (ansible-playbook: changed again). */
const OVERLAY_PREDICTS = ["state file through a link"];

describe.skipIf(!hasAnsible)("file's times and follow against ansible-playbook", () => {
  test.each(["real", "check"])(
    "%s run: each task's status and msg, the exit code, the times and modes left",
    async (mode) => {
      await removeDir(path.join(dir, "tickless"));
      await setup("tickless");
      const before = await files(path.join(dir, "tickless"));
      const ours = await ticklessRun(dir, mode === "check");
      const tasks = ours.results.map(
        (e) => `${e.task}: ${e.status} ${JSON.stringify(e.status === "failed" ? e.result.msg : "")}`,
      );
      // where ansible-playbook's check run misses an earlier task's planned change, tickless's check
      // run reads it through the overlay of planned state and says what the real run does
      const predicted = (l: string, i: number) =>
        mode === "check" && OVERLAY_PREDICTS.some((t) => l.startsWith(`${t}: `)) ? referee.real.tasks[i] : l;
      const theirs = referee[mode].tasks
        .map(predicted)
        .map((l) => (l.includes(": failed ") ? l : l.replace(/ ".*"$/, ' ""')));
      expect(tasks.join("\n")).toBe(theirs.join("\n"));
      expect(ours.summary.exitCode).toBe(referee[mode].rc);
      if (mode === "real") expect(await files(ours.root)).toEqual(referee[mode].files);
      else expect(await files(ours.root)).toEqual(before);
    },
    60_000,
  );
});
