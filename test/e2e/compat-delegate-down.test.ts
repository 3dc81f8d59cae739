/**
 * `delegate_to` and `delegate_facts` on a block and on an `import_tasks`, against the referee: each
 * task inside inherits them unless it sets its own (the facts land on the delegate, an unreachable
 * delegate makes the host unreachable, a task's own delegate wins). Each task's status and message,
 * and the recap must match; a block holding an include_tasks is refused at load time.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadPlaybook } from "../../src/index.js";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { refereeOutcomes, refereeRun, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const INVENTORY = `
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: /usr/bin/python3
  hosts:
    h1: {}
    h3: {}
    dead: { ansible_connection: ssh, ansible_host: 127.0.0.1, ansible_port: 1 }
`;

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: a delegated block
      delegate_to: h3
      delegate_facts: true
      block:
        - name: a fact for the delegate
          set_fact: { given: from-block }
        - name: its own delegate wins
          set_fact: { own: mine }
          delegate_to: h1
          delegate_facts: false
    - name: where the facts went
      assert:
        that:
          - hostvars['h3'].given == 'from-block'
          - given is not defined
          - own == 'mine'
    - import_tasks: imported.yml
      delegate_to: h3
      delegate_facts: true
    - name: the imported fact
      assert: { that: ["hostvars['h3'].imported == 'here'", "imported is not defined"] }
    - name: a block delegated to a host that cannot be reached
      delegate_to: dead
      block:
        - name: unreachable through its block
          command: "true"
    - name: not reached
      debug: { msg: never }
`;

let dir: string;

beforeAll(async () => {
  dir = await tempDir("tickless-delegate-down-");
  await writeTree(dir, {
    "inventory.yml": INVENTORY,
    "p.yml": PLAYBOOK,
    "imported.yml": "- name: an imported fact\n  set_fact: { imported: here }\n",
    "included.yml": "- debug: { msg: hi }\n",
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
});

afterAll(() => removeDir(dir));

describe.skipIf(!hasAnsible)("delegate_to on a block and an import_tasks, against ansible-playbook", () => {
  test("each task's status and message, and the recap", async () => {
    const referee = await refereeRun(dir);
    const { lines, msgTasks } = refereeOutcomes(referee.report);
    const ours = await ticklessRun(dir);
    expect(ticklessOutcomes(ours.results, msgTasks)).toEqual(lines);
    expect(lines).toContain('unreachable through its block@h1: unreachable ""');
    expect(lines.filter((l) => l.startsWith("where the facts") || l.startsWith("the imported"))).toEqual([
      'where the facts went@h1: ok "All assertions passed"',
      'the imported fact@h1: ok "All assertions passed"',
    ]);
    expect(ours.stats).toEqual(referee.report.stats);
  }, 120_000);

  test("a delegated block holding an include_tasks is refused at load time, at file:line", async () => {
    const file = path.join(dir, "include.yml");
    await writeFile(
      file,
      "- hosts: h1\n  tasks:\n    - delegate_to: h3\n      block:\n        - include_tasks: included.yml\n",
    );
    const err = await loadPlaybook(file).catch((e) => e);
    expect(err.message).toContain("delegate_to on a block or import_tasks that holds an include");
    expect(err.location).toMatchObject({ file, line: 3 });
  });
});
