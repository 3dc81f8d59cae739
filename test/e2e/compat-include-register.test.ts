/**
 * `register` on include_tasks (also written `ansible.builtin.include_tasks`) against the referee:
 * the include's own result as ansible-core registers it — the file and `include_args`, per item
 * in a loop (with the loop and index variables), the skip result when its `when` is false (its
 * loop not even rendered then), `args: { apply }` (in `include_args`, its keywords on every
 * included task) and `debugger: ~` — printed whole, so the keys and their order are compared too.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: include once
      include_tasks: inc.yml
      register: r1
      vars: { x: 1 }
    - name: include skipped
      include_tasks: inc.yml
      register: r2
      when: false
    - name: include in a loop
      ansible.builtin.include_tasks: inc.yml
      loop: [1, 2]
      loop_control: { index_var: i }
      register: r3
    - name: include skipped, its loop undefined
      ansible.builtin.include_tasks: "{{ 'inc.yml' }}"
      loop: "{{ not_defined_anywhere }}"
      when: false
      register: r4
    - name: include with args apply and debugger
      include_tasks: inc.yml
      args:
        apply:
          tags: [bar]
          when: x == 2
      debugger: ~
      loop: [1, 2]
      loop_control: { loop_var: x }
      register: r5
    - name: what they registered
      debug: { msg: "{{ r1 }} {{ r2 }} {{ r3 }} {{ r4 }} {{ r5 }}" }
    - name: tests on them
      assert:
        that:
          - r1 is not skipped
          - r1 is not changed
          - r2 is skipped
          - r4.results is undefined
          - r4.skip_reason is defined
          - r3.results | length == 2
`;

const INCLUDES = [
  "include once",
  "include skipped",
  "include in a loop",
  "include skipped, its loop undefined",
  "include with args apply and debugger",
];

let dir: string;
let theirLines: string[];
let msgTasks: Set<string>;

beforeAll(async () => {
  if (!hasAnsible) return;
  ({
    dir,
    lines: theirLines,
    msgTasks,
  } = await refereeFixture("tickless-compat-include-register-", PLAYBOOK, {
    "inc.yml": "- name: included\n  debug: { msg: \"inc {{ x | default('-') }}\" }\n",
  }));
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("register on include_tasks against ansible-playbook", () => {
  test("each task's status and message, and what each include registered", async () => {
    const ours = await ticklessRun(dir);
    // include_tasks itself is no task of tickless's (docs/compat.md, Known differences)
    const theirs = theirLines.filter((l) => !INCLUDES.some((n) => l.startsWith(`${n}@`)));
    // (the lines of one task name are grouped on tickless's side: the three runs of "included")
    expect(ticklessOutcomes(ours.results, msgTasks).sort()).toEqual([...theirs].sort());
    expect(theirs).toContain('tests on them@h1: ok "All assertions passed"');
    expect(theirs.find((l) => l.startsWith("what they registered@"))).toContain("'include_args': {}");
  }, 60_000);
});
