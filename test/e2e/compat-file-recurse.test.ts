/**
 * file `recurse: true` against the referee: a mode and an owner set on everything under a
 * directory, the links inside left alone without `follow` and their targets (a file, a directory
 * and what it holds) changed with it, a dangling link passed over, the same again unchanged,
 * check mode, and `recurse` with a state other than directory.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: setup
      file: { path: "{{ root }}/{{ item.p }}", state: "{{ item.s }}", mode: "{{ item.m }}" }
      loop:
        - { p: top, s: directory, m: "0755" }
        - { p: top/sub, s: directory, m: "0755" }
        - { p: top/sub/f, s: touch, m: "0755" }
        - { p: top/g, s: touch, m: "0700" }
        - { p: out_file, s: touch, m: "0700" }
        - { p: out_dir, s: directory, m: "0700" }
        - { p: out_dir/foo, s: touch, m: "0700" }
    - name: setup links
      file: { path: "{{ root }}/top/{{ item.p }}", src: "{{ item.s }}", state: link, force: true }
      loop:
        - { p: l_file, s: ../out_file }
        - { p: l_dir, s: ../out_dir }
        - { p: dangling, s: does_not_exist }
    - name: recurse without follow
      file: { path: "{{ root }}/top", mode: a-x, recurse: true, follow: false }
    - name: recurse without follow again
      file: { path: "{{ root }}/top", mode: a-x, recurse: true, follow: false }
    - name: stat
      stat: { path: "{{ root }}/{{ item }}" }
      loop: [top, top/sub, top/sub/f, top/g, out_file, out_dir, out_dir/foo]
      register: unfollowed
    - name: recurse with follow, in check mode
      file: { path: "{{ root }}/top", mode: a-x, recurse: true }
      check_mode: true
    - name: recurse with follow
      file: { path: "{{ root }}/top", mode: a-x, recurse: true }
    - name: recurse with follow again
      file: { path: "{{ root }}/top", mode: a-x, recurse: true }
    - name: owner by id, recursively
      file: { path: "{{ root }}/top", state: directory, owner: "1234", recurse: true, follow: false }
    - name: owner again
      file: { path: "{{ root }}/top", state: directory, owner: "1234", recurse: true, follow: false }
    - name: stat again
      stat: { path: "{{ root }}/{{ item }}", follow: false }
      loop: [top, top/sub, top/sub/f, top/g, top/l_file, top/dangling, out_file, out_dir, out_dir/foo]
      register: followed
    - name: recurse on a file
      file: { path: "{{ root }}/top/g", state: file, recurse: true }
      ignore_errors: true
    - debug:
        msg: "{{ unfollowed.results | map(attribute='stat.mode') | list }} {{ followed.results | map(attribute='stat.mode') | list }} {{ followed.results | map(attribute='stat.uid') | list }}"
`;

let dir: string;
let theirLines: string[];
let msgTasks: Set<string>;

beforeAll(async () => {
  if (!hasAnsible) return;
  ({ dir, lines: theirLines, msgTasks } = await refereeFixture("tickless-compat-file-recurse-", PLAYBOOK));
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("file recurse against ansible-playbook", () => {
  test("each task's status, the modes and owners left", async () => {
    const ours = await ticklessRun(dir);
    expect(ticklessOutcomes(ours.results, msgTasks)).toEqual(theirLines);
    const modes = theirLines.find((l) => l.startsWith("debug@"));
    expect(modes).toContain("0644");
    expect(modes).toContain("1234");
  }, 60_000);
});
