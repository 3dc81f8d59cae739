/**
 * `group_by` and `add_host` change the run's in-memory inventory as ansible-core's
 * add_dynamic_group / add_dynamic_host do, against the referee: each task's status (changed only
 * when the host joins a group, a parent is new, a host is new or its variables differ), their
 * registered results, `changed_when` over them (also in a loop, and naming the result it
 * registers), `groups`, `group_names` and `hostvars` afterwards, later plays on the new groups and
 * hosts, and the recap; for real and in check mode (both modules run there too). A condition that
 * cannot be evaluated fails the task and keeps the module's result, its error in
 * `changed_when_result`.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeOutcomes, refereeRun, ticklessOutcomes } from "./referee-runs.js";

const LOCAL = "ansible_connection: local, ansible_python_interpreter: /usr/bin/python3";
const PLAYBOOK = `
- hosts: h1:h2
  gather_facts: false
  tasks:
    - name: group_by
      group_by: { key: "by {{ inventory_hostname }}" }
      register: g1
    - name: group_by again
      group_by: { key: "by {{ inventory_hostname }}" }
      register: g2
    - name: group_by with parents
      group_by: { key: kid, parents: [mom, "dad x"] }
      register: g3
    - name: group_by changed_when false
      group_by: { key: other }
      changed_when: false
      register: g4
    - name: group_by in a loop
      group_by: { key: "loop_{{ item }}" }
      loop: [1, 2]
      changed_when: item == 2
      register: g5
    - name: group_by results
      debug: { msg: "{{ g1 }} {{ g2.changed }} {{ g3 }} {{ g4.changed }} {{ g5.changed }} {{ g5.results | map(attribute='changed') | list }}" }
    - name: groups after group_by
      debug: { msg: "{{ groups | dict2items | map(attribute='key') | sort | join(',') }} {{ groups['kid'] | sort }} {{ groups['by-h2'] }} {{ group_names | join(',') }}" }
    - name: add_host
      add_host: { name: "new1:2201", groups: "one, two,one", ${LOCAL}, color: blue }
      register: a1
    - name: add_host again
      add_host: { hostname: new1, groups: [one], color: blue }
      register: a2
    - name: add_host with other vars
      add_host: { host: new1, color: red }
      register: a3
    - name: add_host in a loop
      add_host: { name: "n{{ item }}", group: loopers, ${LOCAL} }
      loop: [1, 2]
      changed_when: item == 2
      register: a4
    - name: add_host naming its own result in changed_when
      add_host: { name: n3, ${LOCAL} }
      changed_when: a5 is changed
      register: a5
    - name: add_host results
      when: a1 is defined
      debug: { msg: "{{ a1 }} {{ a2 }} {{ a3.changed }} {{ a4.changed }} {{ a4.results | map(attribute='changed') | list }} {{ a5.changed }}" }
    - name: hostvars of a new host
      when: a1 is defined
      debug: { msg: "{{ hostvars['new1'].color }} {{ hostvars['new1'].group_names | join(',') }} {{ groups['ungrouped'] }} {{ groups['loopers'] | sort }}" }
    - name: a condition that cannot be evaluated
      command: echo foo
      changed_when: boomboomboom
      register: bad
      ignore_errors: true
      check_mode: false
    - name: its result
      assert:
        that:
          - bad is failed
          - bad is changed
          - bad.stdout == 'foo'
          - bad.changed_when_result is contains('boomboomboom')
- hosts: one:loopers:n3
  gather_facts: false
  tasks:
    - name: in the new hosts
      debug: { msg: "{{ inventory_hostname }} {{ color | default('none') }} {{ ansible_ssh_port | default('') }} {{ group_names | join(',') }}" }
- hosts: kid:by-h2:loop_2
  gather_facts: false
  tasks:
    - name: in the new groups
      debug: { msg: "{{ group_names | join(',') }}" }
`;

let dir: string;
const referee: Record<string, { rc: number; lines: string[]; stats: unknown; msgTasks: Set<string> }> = {};

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-inventory-edits-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1", "h2"]),
    "p.yml": PLAYBOOK,
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  for (const mode of ["real", "check"]) {
    const { rc, report } = await refereeRun(dir, mode === "check" ? ["--check"] : []);
    referee[mode] = { rc, stats: report.stats, ...refereeOutcomes(report) };
  }
}, 180_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("group_by and add_host against ansible-playbook", () => {
  test.each(["real", "check"])(
    "%s run: each task's status and message, the recap, the exit code",
    async (mode) => {
      const theirs = referee[mode];
      const ours = await run({
        playbook: `${dir}/p.yml`,
        inventory: `${dir}/inventory.yml`,
        extraVars: { root: `${dir}/tickless` },
        check: mode === "check",
      });
      const recap = ours.events.find((e) => e.type === "recap");
      expect(ticklessOutcomes(ours.results, theirs.msgTasks).join("\n")).toBe(theirs.lines.join("\n"));
      expect(recap && "stats" in recap ? recap.stats : undefined).toEqual(theirs.stats);
      expect(ours.summary.exitCode).toBe(theirs.rc);
      expect(theirs.lines).toContain('group_by@h1: changed ""');
      expect(theirs.lines).toContain('group_by again@h1: ok ""');
      expect(theirs.lines.filter((l) => l.startsWith("in the new hosts@"))).toHaveLength(4);
    },
    90_000,
  );
});
