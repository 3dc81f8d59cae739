/**
 * Play- and block-level `check_mode`, the `action:` task form and magic variables against the
 * referee: the same playbook under ansible-playbook and tickless, each on its own copy of the
 * files; each task's status and message, the recap, the exit code and the files left must match.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import {
  filesOf,
  refereeInventory,
  refereeOutcomes,
  refereeRun,
  ticklessOutcomes,
  ticklessRun,
} from "./referee-runs.js";

const PLAYBOOK = `
- name: a play in check mode
  hosts: h1:h2
  gather_facts: false
  check_mode: true
  tasks:
    - name: not written
      copy: { dest: "{{ root }}/{{ inventory_hostname }}-play", content: "x" }
    - name: the task's own check_mode wins
      copy: { dest: "{{ root }}/{{ inventory_hostname }}-task", content: "x" }
      check_mode: false
    - name: ansible_check_mode in a check_mode play
      debug: { msg: "in check" }
      when: ansible_check_mode
- name: blocks and the action form
  hosts: h1:h2
  gather_facts: false
  tasks:
    - block:
        - name: not written from the block
          copy: { dest: "{{ root }}/{{ inventory_hostname }}-block", content: "x" }
        - name: written, the task overrides its block
          copy: { dest: "{{ root }}/{{ inventory_hostname }}-override", content: "x" }
          check_mode: false
      check_mode: true
    - name: action with k=v
      action: copy dest={{ root }}/{{ inventory_hostname }}-action content=a
    - name: action as a mapping
      action: { module: lineinfile, path: "{{ root }}/{{ inventory_hostname }}-action", line: b }
    - name: action free-form
      action: command echo hi
      register: hi
    - name: the action's result
      assert: { that: ["hi.stdout == 'hi'"] }
    - name: magic variables
      assert:
        that:
          - not ansible_check_mode
          - not ansible_diff_mode
          - ansible_run_tags == ["all"]
          - ansible_skip_tags | length == 0
          - inventory_hostname_short == inventory_hostname
          - ansible_play_hosts | length == 2
          - ansible_play_batch | length == 2
          - "'h1' in groups['all']"
`;

let dir: string;
let referee: { rc: number; tasks: string[]; stats: unknown };
/** The debug and assert tasks, whose messages are compared too. */
let msgTasks = new Set<string>();

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-play-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1", "h2"]),
    "p.yml": PLAYBOOK,
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  const { rc, report } = await refereeRun(dir);
  const outcomes = refereeOutcomes(report);
  msgTasks = outcomes.msgTasks;
  referee = { rc, tasks: outcomes.lines, stats: report.stats };
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("play and block keywords against ansible-playbook", () => {
  test("each task's status, the recap, the exit code and the files left", async () => {
    const ours = await ticklessRun(dir);
    const tasks = ticklessOutcomes(ours.results, msgTasks);
    expect(referee.tasks).toHaveLength(20);
    expect(tasks.join("\n")).toBe(referee.tasks.join("\n"));
    expect(ours.summary.exitCode).toBe(referee.rc);
    expect(ours.stats).toEqual(referee.stats);
    expect(await filesOf(ours.root)).toEqual(await filesOf(path.join(dir, "ansible")));
  }, 60_000);
});
