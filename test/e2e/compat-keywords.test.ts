/**
 * Task keywords against the referee: failed_when and changed_when over a module's own failure,
 * any_errors_fatal on a play, a block and a task, the `hostvars` magic variable, and delegate_to
 * with delegate_facts (an unreachable delegate, then a fatal failure: exit 2 all the same). The same
 * playbook under ansible-playbook and tickless, each on its own copy of the files; each task's
 * status (and the message of debug and assert), the recap, the exit code and the files left must match.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { filesOf, refereeOutcomes, refereeRun, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const INVENTORY = `
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: /usr/bin/python3
    everyone: g
  hosts:
    h1: { own: one }
    h2.example.com: { own: two }
    h3: {}
    h4: {}
    dead: { ansible_connection: ssh, ansible_host: 127.0.0.1, ansible_port: 1 }
`;

const PLAYBOOK = `
- name: a module's failure is a result
  hosts: h1:h2.example.com
  gather_facts: false
  tasks:
    - name: file on a missing path under failed_when false
      file: { path: "{{ root }}/missing/x", state: file }
      failed_when: false
      register: absent
    - name: the module's msg is registered and failed_when decided
      assert:
        that: ["absent is not failed", "absent.msg is defined", "absent.failed_when_result == false"]
    - name: lineinfile on a missing file under changed_when true
      lineinfile: { path: "{{ root }}/missing/y", line: a }
      failed_when: false
      changed_when: true
    - name: systemd on a unit that does not exist (or without systemd)
      systemd: { name: tickless-no-such-unit.service, state: stopped }
      register: nounit
      failed_when: nounit.msg is not defined
    - name: copy from a missing src, failed_when on its msg
      copy: { src: "{{ root }}/nosuch", dest: "{{ root }}/{{ inventory_hostname }}-copy" }
      register: nosrc
      failed_when: nosrc.msg is not defined
    - name: failed_when true on one host
      file: { path: "{{ root }}/missing/x", state: file }
      failed_when: inventory_hostname == 'h1'
      ignore_errors: true
    - name: ignore_errors on a module's failure
      file: { path: "{{ root }}/missing/x", state: file }
      ignore_errors: true
      register: ignored
    - name: registered as failed
      assert: { that: ["ignored is failed", "ignored.msg is defined"] }
    - name: until retries a module's failure
      file: { path: "{{ root }}/missing/x", state: file }
      register: retried
      until: retried is not failed
      retries: 1
      delay: 0
      ignore_errors: true
    - name: the retries are counted
      assert: { that: ["retried.attempts == 1", "retried is failed"] }
    - set_fact: { mine: "fact-{{ inventory_hostname }}" }
    - name: echo
      command: echo hi
      register: said
    - name: hostvars
      assert:
        that:
          - hostvars[inventory_hostname].own in ['one', 'two']
          - hostvars['h1'].own == 'one'
          - hostvars.h1.own == 'one'
          - hostvars['h1'].mine == 'fact-h1'
          - hostvars['h2.example.com'].mine == 'fact-h2.example.com'
          - hostvars['h2.example.com']['said'].stdout == 'hi'
          - hostvars['h3'].everyone == 'g'
          - hostvars['h3'].mine is not defined
          - hostvars['h1'].inventory_hostname == 'h1'
          - hostvars['h2.example.com'].inventory_hostname_short == 'h2'
          - hostvars['h1'].group_names == ['ungrouped']
          - "'h4' in hostvars"
          - "'nosuch' not in hostvars"
    - name: a play's vars are not in hostvars
      assert: { that: ["hostvars['h1'].root is defined", "hostvars['h1'].playvar is not defined"] }
      vars: { playvar: here }

- name: delegate_to
  hosts: h1:h2.example.com
  gather_facts: false
  tasks:
    - name: delegated to h3, with the host's own vars
      copy: { dest: "{{ root }}/{{ inventory_hostname }}-{{ own }}", content: "{{ inventory_hostname }}" }
      delegate_to: h3
      register: delegated
    - name: a delegated set_fact stays on the host
      set_fact: { where: "{{ inventory_hostname }}" }
      delegate_to: h3
    - name: delegate_facts puts the fact on the delegate
      set_fact: { given: "from-{{ inventory_hostname }}" }
      delegate_to: h3
      delegate_facts: true
      run_once: true
    - name: where the facts went
      assert:
        that:
          - delegated is changed
          - where == inventory_hostname
          - given is not defined
          - hostvars['h3'].given == 'from-h1'
          - hostvars['h3'].where is not defined
    - name: run_once runs on the first host and registers its result on each
      command: echo {{ inventory_hostname }}
      run_once: true
      register: once
    - name: the shared result
      assert: { that: ["once.stdout == 'h1'", "once is changed"] }
    - name: run_once with a delegate
      command: echo {{ inventory_hostname }}
      run_once: true
      delegate_to: localhost
      register: once_local
    - name: the first host's vars, shared
      assert: { that: ["once_local.stdout == 'h1'"] }
    - name: delegated to the implicit localhost
      command: echo {{ inventory_hostname }}
      delegate_to: localhost
      register: local
    - name: registered on the host
      assert: { that: ["local.stdout == inventory_hostname"] }
    - name: a delegate per item
      debug: { msg: "{{ item }}" }
      delegate_to: "{{ item }}"
      loop: [h3, localhost]
    - name: a templated delegate
      command: "true"
      delegate_to: "{{ target }}"
      vars: { target: h3 }
    - name: a delegate that cannot be reached makes the host unreachable
      command: "true"
      delegate_to: dead
      when: inventory_hostname == 'h2.example.com'
    - name: the other host goes on
      debug: { msg: "on" }

- name: a task's any_errors_fatal false wins over its play's
  hosts: h1:h3
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - name: fails on h1 only
      fail: { msg: boom }
      when: inventory_hostname == 'h1'
      any_errors_fatal: false
    - name: h3 goes on
      debug: { msg: "on" }

- name: a fatal block's always still runs
  hosts: h3:h4
  gather_facts: false
  tasks:
    - block:
        - name: fails on h3 inside the block
          fail: { msg: boom }
          when: inventory_hostname == 'h3'
        - name: the rest of the block
          debug: { msg: rest }
      always:
        - name: the block's always
          copy: { dest: "{{ root }}/{{ inventory_hostname }}-always", content: "x" }
      any_errors_fatal: true
    - name: after the block
      debug: { msg: after }

- name: a fatal block without always ends the run
  hosts: h4:h1
  gather_facts: false
  tasks:
    - block:
        - name: fails on h4
          fail: { msg: boom }
          when: inventory_hostname == 'h4'
        - name: not reached
          debug: { msg: no }
      any_errors_fatal: true
    - name: not reached either
      debug: { msg: no }

- name: no host left
  hosts: all
  gather_facts: false
  tasks:
    - name: never runs
      copy: { dest: "{{ root }}/{{ inventory_hostname }}-never", content: "x" }
`;

let dir: string;
let referee: { rc: number; tasks: string[]; stats: unknown };
/** The debug and assert tasks, whose messages are compared too. */
let msgTasks = new Set<string>();

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-keywords-");
  await writeTree(dir, {
    "inventory.yml": INVENTORY,
    "p.yml": PLAYBOOK,
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  const { rc, report } = await refereeRun(dir);
  const outcomes = refereeOutcomes(report);
  msgTasks = outcomes.msgTasks;
  referee = { rc, tasks: outcomes.lines, stats: report.stats };
}, 180_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("task keywords against ansible-playbook", () => {
  test("each task's status, the recap, the exit code and the files left", async () => {
    const ours = await ticklessRun(dir);
    const tasks = ticklessOutcomes(ours.results, msgTasks);
    expect(tasks.join("\n")).toBe(referee.tasks.join("\n"));
    expect(referee.rc).toBe(2);
    expect(ours.summary.exitCode).toBe(referee.rc);
    expect(ours.stats).toEqual(referee.stats);
    expect(await filesOf(ours.root)).toEqual(await filesOf(path.join(dir, "ansible")));
  }, 120_000);
});
