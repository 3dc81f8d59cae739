/** The same playbook under real ansible-playbook and tickless: same recap, same tasks on the same hosts. */
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { EngineEvent } from "../../src/index.js";
import { ansiblePlaybook, hasAnsible } from "../referee/ansible.js";
import { type Lab, lab, removeDir, run } from "./helpers.js";

const PLAYBOOK = `
- hosts: all
  gather_facts: false
  tasks:
    - name: write
      copy: { dest: "{{ root }}/f", content: "x" }
      notify: restart
    - name: loop
      debug: { msg: "{{ item }}" }
      loop: [a, b]
      when: item != "b"
    - name: cmd
      command: echo hi
      register: out
      changed_when: false
    - name: ignored
      command: "false"
      ignore_errors: true
      when: inventory_hostname == "h1"
    - name: guarded
      block:
        - name: fail h2
          fail: { msg: boom }
          when: inventory_hostname == "h2"
      rescue:
        - name: rescue
          debug: { msg: rescued }
      always:
        - name: always
          debug: { msg: always }
    - name: once
      debug: { msg: once }
      run_once: true
    - name: fail h3
      fail: { msg: bye }
      when: inventory_hostname == "h3"
    - name: last
      debug: { msg: last }
  handlers:
    - name: restart
      debug: { msg: restarted }
- hosts: all
  gather_facts: false
  tasks:
    - name: second play
      debug: { msg: "{{ out.stdout }}" }
`;

const PLAYBOOK_SERIAL = `
- hosts: all
  gather_facts: false
  serial: [1, 2]
  max_fail_percentage: 49
  tasks:
    - name: change
      copy: { dest: "{{ root }}/g", content: "y" }
      notify: [topic]
    - meta: flush_handlers
    - name: fail h3
      fail: { msg: x }
      when: inventory_hostname == "h3"
    - name: after
      debug: { msg: after }
  handlers:
    - name: first
      debug: { msg: one }
      listen: topic
    - name: second
      debug: { msg: two }
      listen: topic
- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - name: fatal on h1
      fail: { msg: x }
      when: inventory_hostname == "h1"
    - name: not reached
      debug: { msg: x }
`;

let l: Lab;

beforeAll(async () => {
  l = await lab(["h1", "h2", "h3", "h4"], { "p.yml": PLAYBOOK, "serial.yml": PLAYBOOK_SERIAL });
  // The same inventory in Ansible's words (tickless accepts ansible_connection too).
  const hosts = ["h1", "h2", "h3", "h4"].map((h) => `    ${h}: { root: "${l.roots[h]}" }`).join("\n");
  await writeFile(
    l.file("ansible-inventory.yml"),
    `all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: /usr/bin/python3\n  hosts:\n${hosts}\n`,
  );
});
afterAll(async () => {
  if (l) await removeDir(l.dir);
});

type Stats = Record<string, Record<string, number>>;

async function ansibleRun(playbook: string): Promise<{ rc: number; stats: Stats; tasks: string[] }> {
  const args = ["-i", l.file("ansible-inventory.yml"), l.file(playbook)];
  const { rc, report } = await ansiblePlaybook(args, l.dir);
  const tasks = report.plays.flatMap((p) =>
    p.tasks
      .filter((t) => Object.keys(t.hosts).length > 0)
      .map((t) => `${t.task.name}@${Object.keys(t.hosts).sort().join(",")}`),
  );
  return { rc, stats: report.stats, tasks };
}

test.skipIf(!hasAnsible).each([
  ["p.yml", "f"],
  ["serial.yml", "g"],
])(
  "%s: recap, exit code and per-task hosts match ansible-playbook",
  async (playbook, written) => {
    const ansible = await ansibleRun(playbook);
    for (const h of Object.keys(l.roots)) await removeDir(`${l.roots[h]}/${written}`);
    const ours = await run({ playbook: l.file(playbook), inventory: l.file("ansible-inventory.yml") });
    const tasks: string[] = [];
    let current: { name: string; hosts: Set<string> } | undefined;
    const flush = () => current && tasks.push(`${current.name}@${[...current.hosts].sort().join(",")}`);
    for (const e of ours.events as EngineEvent[]) {
      // ansible-playbook sends no task start for meta tasks; tickless shows them as tasks
      if (e.type === "task_start" && e.meta) {
        flush();
        current = undefined;
      } else if (e.type === "task_start") {
        flush();
        current = { name: e.task, hosts: new Set() };
      } else if (e.type === "host_result" && e.item === undefined) current?.hosts.add(e.host);
    }
    flush();
    expect(ours.summary.exitCode).toBe(ansible.rc);
    expect(tasks).toEqual(ansible.tasks);
    expect(ours.summary.stats).toEqual(ansible.stats);
  },
  60_000,
);
