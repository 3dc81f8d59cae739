/**
 * The `diff` of the file module's result (outside diff mode too), against the referee: `path` on
 * both sides, `state` where the kind changes, a removed directory's `path_content`, a link's old
 * and new `src`, owner and group as ids, mode, and the times where they change (their values
 * masked: the clock differs between the runs). For real and in check mode; a removed directory's
 * lists sorted (both tools list it in the file system's order). `_diff_peek` answers whether a
 * file looks binary, and nothing else.
 */
import { symlink } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: mode
      file: { path: "{{ root }}/f", mode: "0600" }
    - name: nothing to change
      file: { path: "{{ root }}/h", mode: "0644" }
    - name: owner by name, group by id
      file: { path: "{{ root }}/g", owner: daemon, group: "2" }
    - name: a fixed mtime
      file: { path: "{{ root }}/f", modification_time: "202001020304.05" }
    - name: touch
      file: { path: "{{ root }}/g", state: touch }
    - name: a new link
      file: { path: "{{ root }}/l", src: f, state: link }
    - name: the link pointed elsewhere
      file: { path: "{{ root }}/l2", src: g, state: link }
    - name: a new directory
      file: { path: "{{ root }}/nd", state: directory }
    - name: a directory removed
      file: { path: "{{ root }}/d", state: absent }
    - name: a missing path absent
      file: { path: "{{ root }}/none", state: absent }
    - name: a file removed
      file: { path: "{{ root }}/h", state: absent }
    - name: peek at a text file
      file: { path: "{{ root }}/f", _diff_peek: true }
    - name: peek at a binary file
      file: { path: "{{ root }}/bin", _diff_peek: true }
`;

let dir: string;
const referee: Record<string, { rc: number; tasks: string[] }> = {};

/** The diff with times masked and a removed directory's lists sorted, the run's root as <root>. */
function shown(diff: unknown, root: string): string {
  const text = JSON.stringify(diff ?? null, (key, value) => {
    if (key === "mtime" || key === "atime") return typeof value === "number" ? "<time>" : value;
    if ((key === "directories" || key === "files") && Array.isArray(value)) return [...value].sort();
    return value;
  });
  return text.replaceAll(root, "<root>");
}

/** `_diff_peek`'s answer, and the warnings (none) beside it. */
function peeked(r: Record<string, unknown>): string {
  return r.appears_binary === undefined ? "" : ` binary=${r.appears_binary} warnings=${r.warnings ?? "none"}`;
}

async function setup(side: string) {
  const root = path.join(dir, side);
  await writeTree(root, { f: "x\n", g: "y\n", h: "z\n", bin: "a\u0000b", "d/a": "1", "d/sub/b": "2" });
  await symlink("f", path.join(root, "l2"));
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-file-diff-");
  await writeTree(dir, { "inventory.yml": refereeInventory(["h1"]), "p.yml": PLAYBOOK });
  for (const check of [false, true]) {
    await removeDir(path.join(dir, "ansible"));
    await setup("ansible");
    const { rc, report, root } = await refereeRun(dir, check ? ["--check"] : []);
    const tasks = report.plays.flatMap((p) =>
      p.tasks.map(
        (t) => `${t.task.name}: ${t.hosts.h1.status} ${shown(t.hosts.h1.diff, root)}${peeked(t.hosts.h1)}`,
      ),
    );
    referee[check ? "check" : "real"] = { rc, tasks };
  }
}, 180_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("the diff of file's result against ansible-playbook", () => {
  test.each(["real", "check"])(
    "%s run: each task's status and diff",
    async (mode) => {
      await removeDir(path.join(dir, "tickless"));
      await setup("tickless");
      const ours = await ticklessRun(dir, mode === "check");
      const tasks = ours.results.map(
        (e) => `${e.task}: ${e.status} ${shown(e.result.diff, ours.root)}${peeked(e.result)}`,
      );
      expect(tasks.join("\n")).toBe(referee[mode].tasks.join("\n"));
      expect(ours.summary.exitCode).toBe(referee[mode].rc);
    },
    60_000,
  );
});
