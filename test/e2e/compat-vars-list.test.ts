/**
 * `vars:` written as a list of mappings (ansible-core's `_load_vars`: merged in order, a later
 * mapping's names win) on a play, a block and a task, against the referee.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  vars:
    - a: play
      b: first
    - b: second
  tasks:
    - name: play vars
      debug: { msg: "{{ a }} {{ b }}" }
    - block:
        - name: block vars
          debug: { msg: "{{ a }} {{ b }} {{ c }}" }
      vars: [{ c: block }, { a: block }]
    - name: task vars
      debug: { msg: "{{ a }} {{ d }}" }
      vars:
        - d: task
    - name: an empty vars
      debug: { msg: "{{ a }}" }
      vars:
- import_playbook: other.yml
  vars:
    e: imported
`;
const OTHER = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: import_playbook vars
      debug: { msg: "{{ e }}" }
`;

let dir: string;
let theirLines: string[];
let msgTasks: Set<string>;

beforeAll(async () => {
  if (!hasAnsible) return;
  ({
    dir,
    lines: theirLines,
    msgTasks,
  } = await refereeFixture("tickless-compat-vars-list-", PLAYBOOK, {
    "other.yml": OTHER,
  }));
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("vars given as a list of mappings against ansible-playbook", () => {
  test("each task sees the mappings merged in order", async () => {
    const ours = await ticklessRun(dir);
    expect(ticklessOutcomes(ours.results, msgTasks)).toEqual(theirLines);
    expect(theirLines).toContain('play vars@h1: ok "play second"');
    expect(theirLines).toContain('block vars@h1: ok "block second block"');
    expect(theirLines).toContain('import_playbook vars@h1: ok "imported"');
  }, 60_000);
});
