/**
 * file `state: hard` against the referee: a new hard link, the same again, one without `src` where
 * one exists, one into a directory, a missing `src`, none at all, a file or another hard link at
 * the path (refused without `force`, replaced with it), `mode` on the link, and check mode; a
 * symbolic link without `src` (kept when there is one, else a failure), a link's `mode` set on
 * what it points to. Also
 * the file module's failures in Ansible's words and fields: a missing path or a directory with
 * `state: file`, a file where a directory or a link is asked for, a directory that is not empty
 * where a link is forced.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import {
  refereeInventory,
  refereeOutcomes,
  refereeRun,
  ticklessOutcomes,
  ticklessRun,
} from "./referee-runs.js";

const TASKS = `
    - name: setup
      file: { path: "{{ root }}/t", state: touch, mode: "0644" }
    - name: setup
      file: { path: "{{ root }}/f", state: touch }
    - name: setup
      file: { path: "{{ root }}/f2", state: touch }
    - name: setup
      file: { path: "{{ root }}/lone", state: touch }
    - name: setup
      file: { path: "{{ root }}/d", state: directory }
    - name: setup
      file: { path: "{{ root }}/full/x", state: directory }
    - name: link_over_full_dir
      file: { path: "{{ root }}/full", src: "{{ root }}/t", state: link, force: true }
      register: link_over_full_dir
      ignore_errors: true
    - name: hard
      file: { path: "{{ root }}/h", src: "{{ root }}/t", state: hard }
      register: hard
    - name: hard_again
      file: { path: "{{ root }}/h", src: "{{ root }}/t", state: hard }
      register: hard_again
    - name: hard_without_src
      file: { path: "{{ root }}/h", state: hard }
      register: hard_without_src
    - name: into_dir
      file: { path: "{{ root }}/d", src: "{{ root }}/t", state: hard, mode: "0600" }
      register: into_dir
    - name: missing_src
      file: { path: "{{ root }}/m", src: "{{ root }}/missing", state: hard }
      register: missing_src
      ignore_errors: true
    - name: no_src
      file: { path: "{{ root }}/n", state: hard }
      register: no_src
      ignore_errors: true
    - name: over_file
      file: { path: "{{ root }}/f", src: "{{ root }}/t", state: hard }
      register: over_file
      ignore_errors: true
    - name: over_file_forced
      file: { path: "{{ root }}/f", src: "{{ root }}/t", state: hard, force: true }
      register: over_file_forced
    - name: other_hard_link
      file: { path: "{{ root }}/h", src: "{{ root }}/f2", state: hard }
      register: other_hard_link
      ignore_errors: true
    - name: ghost
      file: { path: "{{ root }}/ghost", state: file }
      register: ghost
      ignore_errors: true
    - name: dir_as_file
      file: { path: "{{ root }}/d", state: file }
      register: dir_as_file
      ignore_errors: true
    - name: file_as_dir
      file: { path: "{{ root }}/lone", state: directory }
      register: file_as_dir
      ignore_errors: true
    - name: file_as_link
      file: { path: "{{ root }}/lone", src: "{{ root }}/t", state: link }
      register: file_as_link
      ignore_errors: true
    - name: link_without_src
      file: { path: "{{ root }}/nolink", state: link }
      register: link_without_src
      ignore_errors: true
    - name: setup link
      file: { path: "{{ root }}/sl", src: t, state: link }
    - name: link_kept_without_src
      file: { path: "{{ root }}/sl", state: link, mode: "0600", follow: false }
      register: link_kept_without_src
    - name: setup target
      file: { path: "{{ root }}/t2", state: touch, mode: "0644" }
    - name: link_mode_follows
      file: { path: "{{ root }}/lm", src: t2, state: link, mode: "0700" }
      register: link_mode_follows
    - name: link_mode_again
      file: { path: "{{ root }}/lm", state: link, mode: "0700" }
      register: link_mode_again
    - name: check_new
      file: { path: "{{ root }}/c", src: "{{ root }}/t", state: hard }
      check_mode: true
      register: check_new
    - name: check_same
      file: { path: "{{ root }}/h", src: "{{ root }}/t", state: hard }
      check_mode: true
      register: check_same
`;
const NAMES = [...TASKS.matchAll(/register: (\w+)/g)].map((m) => m[1]);
const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:${TASKS}${NAMES.map((n) => `    - debug: { var: ${n} }\n`).join("")}
    - stat: { path: "{{ root }}/t" }
      register: t
    - stat: { path: "{{ root }}/d/t" }
      register: in_dir
    - stat: { path: "{{ root }}/f" }
      register: f
    - stat: { path: "{{ root }}/c" }
      register: c
    - stat: { path: "{{ root }}/t2" }
      register: t2
    - name: the links share the file's inode
      assert:
        that:
          - in_dir.stat.inode == t.stat.inode
          - f.stat.inode == t.stat.inode
          - t.stat.nlink == 4
          - t.stat.mode == "0600"
          - not c.stat.exists
          - t2.stat.mode == "0700"
`;

const KEYS = ["failed", "msg", "changed", "path", "dest", "src", "uid", "mode", "state", "size"];

/** The compared keys of each result, its root written <root>. */
function fields(results: Record<string, any>[], root: string) {
  return results.map((d, i) => {
    const r = d[NAMES[i]];
    const picked = Object.fromEntries(KEYS.filter((k) => r[k] !== undefined).map((k) => [k, r[k]]));
    return { name: NAMES[i], ...JSON.parse(JSON.stringify(picked).split(root).join("<root>")) };
  });
}

let dir: string;
let theirs: Record<string, unknown>[];
let theirLines: string[];
let msgTasks: Set<string>;

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-file-hard-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  const { report, root } = await refereeRun(dir);
  const debugs = report.plays[0].tasks.filter((t) => t.task.action === "debug").map((t) => t.hosts.h1);
  theirs = fields(debugs, root);
  ({ lines: theirLines, msgTasks } = refereeOutcomes(report));
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("file state: hard against ansible-playbook", () => {
  test("each task's status, the registered results and the inodes left", async () => {
    const ours = await ticklessRun(dir);
    expect(ticklessOutcomes(ours.results, msgTasks)).toEqual(theirLines);
    const shown = ours.results.filter((e) => e.task === "debug").map((e) => e.result as Record<string, any>);
    expect(fields(shown, path.join(dir, "tickless"))).toEqual(theirs);
    const at = (n: string) => theirs[NAMES.indexOf(n)];
    expect(at("hard")).toMatchObject({ changed: true, dest: "<root>/h", state: "hard" });
    expect(at("hard_again")).toMatchObject({ changed: false });
    expect(at("missing_src")).toMatchObject({ failed: true, msg: "src does not exist", dest: "<root>/m" });
    expect(at("over_file")).toMatchObject({ msg: "Cannot link, file exists at destination" });
    expect(at("ghost")).toMatchObject({
      msg: "file (<root>/ghost) is absent, cannot continue",
      state: "absent",
    });
    expect(at("check_new")).toMatchObject({ changed: true });
    expect(at("link_without_src")).toMatchObject({ msg: "src is required for creating new symlinks" });
    expect(at("link_kept_without_src")).toMatchObject({ changed: false, state: "link" });
    expect(at("link_mode_follows")).toMatchObject({ changed: true, mode: "0777" });
    expect(at("link_mode_again")).toMatchObject({ changed: false });
  }, 60_000);
});
