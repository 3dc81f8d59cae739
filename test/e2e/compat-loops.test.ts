/**
 * `with_*` loops and loop_control against the referee: one playbook runs under real
 * ansible-playbook and under tickless on the same local hosts; every task's status per host, each
 * loop item's registered fields (the loop var's value, index_var, ansible_loop, changed, skipped,
 * failed, msg) and the messages of failures, the recap and the exit code must be the same.
 * Messages are strings the tools render alike (a list printed inside a string differs: Jinja
 * renders `['a', 1]`, Handlebars `a,1`).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { EngineEvent } from "../../src/index.js";
import { ansiblePlaybook, hasAnsible, type RefereeReport } from "../referee/ansible.js";
import { removeDir, run, tempDir } from "./helpers.js";

const PLAYBOOK = `
- hosts: h1:h2
  gather_facts: false
  vars:
    users:
      - { name: alice, pubkeys: [k1, k2], opt: { x: [1] } }
      - { name: bob, pubkeys: [] }
      - { name: carol, pubkeys: [k3] }
    nested_users:
      - { name: dan, auth: { pubkeys: [k4] } }
      - { name: eve, auth: {} }
    d: { b: 2, a: "one" }
    a_list: [x]
  tasks:
    - name: with_items flattens one level
      debug: { msg: flat }
      with_items: [a, [b, c], [[d]]]
      register: r1
    - name: with_items of one string
      debug: { msg: "{{ item }}" }
      with_items: "{{ 'solo' }}"
    - name: with_items over a mapping gives its keys
      debug: { msg: "{{ item }}" }
      with_items: "{{ d }}"
    - name: with_list keeps nested lists
      debug: { msg: listed }
      with_list: [a, [b, c]]
    - name: with_dict
      debug: { msg: "{{ item.key }}={{ item.value }}" }
      with_dict: "{{ d }}"
    - name: with_dict of a list
      debug: { msg: never }
      with_dict: "{{ a_list }}"
      ignore_errors: true
    - name: with_indexed_items
      debug: { msg: indexed }
      with_indexed_items: [a, [b, c]]
    - name: with_together fills the short list with null
      debug: { msg: together }
      with_together: [[a, b, c], [1]]
    - name: with_nested
      debug: { msg: nested }
      with_nested: [[a, b], [1, 2], [x]]
    - name: with_subelements
      debug: { msg: subelements }
      with_subelements: ["{{ users }}", pubkeys]
      register: sub
    - name: the parent item lacks the list, the variable keeps it
      assert:
        that:
          - sub.results | length == 3
          - sub.results[0].item[0].name == "alice"
          - sub.results[0].item[0].pubkeys is not defined
          - sub.results[0].item[0].opt.x[0] == 1
          - users[0].pubkeys | length == 2
    - name: with_subelements through a mapping, skipping what is missing
      debug: { msg: subelements }
      with_subelements: ["{{ nested_users }}", auth.pubkeys, { skip_missing: true }]
    - name: with_subelements missing key
      debug: { msg: never }
      with_subelements: ["{{ users }}", nope]
      ignore_errors: true
    - name: with_subelements not a list
      debug: { msg: never }
      with_subelements: ["{{ users }}", name]
      ignore_errors: true
    - name: with_sequence key=value
      debug: { msg: "{{ item }}" }
      with_sequence: start=0 end=10 stride=4 format=%03x
    - name: with_sequence shortcut
      debug: { msg: "{{ item }}" }
      with_sequence: "2-8/3:host%02d"
    - name: with_sequence count backwards
      debug: { msg: "{{ item }}" }
      with_sequence: start=5 count=3 stride=-2
    - name: with_sequence templated end
      debug: { msg: "{{ item }}" }
      with_sequence: start=1 end={{ n }}
      vars: { n: 3 }
    - name: with_sequence count zero
      debug: { msg: "{{ item }}" }
      with_sequence: count=0
    - name: with_sequence both count and end
      debug: { msg: never }
      with_sequence: count=2 end=3
      ignore_errors: true
    - name: with_sequence backwards without a negative stride
      debug: { msg: never }
      with_sequence: start=5 end=1
      ignore_errors: true
    - name: with_sequence leading zero
      debug: { msg: never }
      with_sequence: "0600"
      ignore_errors: true
    - name: with_sequence unknown argument
      debug: { msg: never }
      with_sequence: end=3 step=1
      ignore_errors: true
    - name: with_fileglob beside the playbook and in files/
      debug: { msg: globbed }
      with_fileglob: ["*.conf", "conf.d/*"]
    - name: with_fileglob nothing matches
      debug: { msg: never }
      with_fileglob: "*.none"
    - name: loop_control index_var, extended, label
      debug: { msg: "{{ i }} {{ ansible_loop.index }} {{ ansible_loop.revindex0 }} {{ ansible_loop.length }}" }
      loop: [x, y, z]
      loop_control: { index_var: i, extended: true, label: "item {{ item }}" }
      register: ext
    - name: previtem and nextitem
      assert:
        that:
          - ext.results[0].ansible_loop.previtem is not defined
          - ext.results[0].ansible_loop.nextitem == "y"
          - ext.results[1].ansible_loop.previtem == "x"
          - ext.results[2].ansible_loop.nextitem is not defined
          - ext.results[1].i == 1
          - ext.results[1].ansible_index_var == "i"
    - name: ansible_loop is only set with extended
      debug: { msg: unset }
      loop: [x]
      when: ansible_loop is not defined
    - name: extended without allitems
      debug: { msg: "{{ ansible_loop.index0 }}" }
      with_items: [p, q]
      loop_control: { extended: true, extended_allitems: false }
    - name: loop_var on a with_ loop
      debug: { msg: "{{ pkg.key }}" }
      with_dict: "{{ d }}"
      loop_control: { loop_var: pkg }
      register: lv
    - name: the loop var names the result field
      assert:
        that:
          - lv.results[0].pkg.key == "b"
          - lv.results[0].item is not defined
          - lv.results[0].ansible_loop_var == "pkg"
    - name: pause between items
      debug: { msg: "{{ item }}" }
      with_items: [one, two]
      loop_control: { pause: 0.2 }
    - name: when per item
      debug: { msg: "{{ item }}" }
      with_sequence: count=4
      when: item | int > 2
    - name: include per item with index
      include_tasks: inc.yml
      with_items: [m, n]
      loop_control: { loop_var: it, index_var: idx }
`;

const INCLUDED = `
- name: included
  debug: { msg: "{{ it }} {{ idx }}" }
`;

const HOSTS = ["h1", "h2"];

/** Per task and host: status, failure message, and each loop item's registered fields. */
type Outcome = { rc: number; tasks: string[]; stats: unknown };

function project(task: string, r: Record<string, any>, status: string): string {
  const items = (r.results ?? []).map((i: Record<string, any>) => {
    const loopVar = i.ansible_loop_var;
    const fields: Record<string, unknown> = {
      [loopVar]: i[loopVar],
      changed: i.changed ?? false,
      skipped: i.skipped ?? false,
      failed: i.failed ?? false,
      msg: i.msg,
    };
    if (i.ansible_index_var) fields[i.ansible_index_var] = i[i.ansible_index_var];
    if (i.ansible_loop) fields.ansible_loop = i.ansible_loop;
    return JSON.stringify(fields);
  });
  // ansible-core's fileglob gives the directory's order; tickless sorts
  if (task.startsWith("with_fileglob")) items.sort();
  const msg = status === "failed" || r.results === undefined ? ` ${JSON.stringify(r.msg)}` : "";
  return `${task}: ${status}${r.ignored ? " ignored" : ""}${msg}${items.map((i: string) => `\n  ${i}`).join("")}`;
}

function fromReferee(rc: number, report: RefereeReport): Outcome {
  const tasks: string[] = [];
  const stats = structuredClone(report.stats);
  for (const p of report.plays) {
    for (const t of p.tasks) {
      // tickless neither reports nor counts include_tasks itself (docs/compat.md, known differences)
      if (t.task.action === "include_tasks") {
        for (const [host, r] of Object.entries(t.hosts)) stats[host].ok -= r.results?.length ?? 1;
        continue;
      }
      for (const [host, r] of Object.entries(t.hosts).sort(([a], [b]) => a.localeCompare(b))) {
        tasks.push(`${host} ${project(t.task.name, { ...r, ignored: r.ignored }, r.status)}`);
      }
    }
  }
  return { rc, tasks, stats };
}

function fromTickless(events: EngineEvent[], exitCode: number): Outcome {
  const tasks: string[] = [];
  let lines: string[] = [];
  let stats: unknown = {};
  for (const e of events) {
    if (e.type === "task_start") {
      tasks.push(...lines.sort());
      lines = [];
    } else if (e.type === "host_result" && e.item === undefined) {
      const r = { ...(e.result as Record<string, unknown>), ignored: e.ignored };
      lines.push(`${e.host} ${project(e.task, r, e.status)}`);
    } else if (e.type === "recap") stats = e.stats;
  }
  tasks.push(...lines.sort());
  return { rc: exitCode, tasks, stats };
}

let dir: string;
let referee: Outcome;

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-loops-");
  const hosts = HOSTS.map((h) => `    ${h}: {}`).join("\n");
  await writeFile(
    path.join(dir, "inventory.yml"),
    `all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: /usr/bin/python3\n  hosts:\n${hosts}\n`,
  );
  await writeFile(path.join(dir, "loops.yml"), PLAYBOOK);
  await writeFile(path.join(dir, "inc.yml"), INCLUDED);
  // *.conf: files/ holds some, so the playbook's own directory is not searched; conf.d/ beside the playbook
  await mkdir(path.join(dir, "files"), { recursive: true });
  await mkdir(path.join(dir, "conf.d", "sub.conf"), { recursive: true });
  for (const f of [
    "files/a.conf",
    "files/b.conf",
    "files/.hidden.conf",
    "top.conf",
    "conf.d/x",
    "conf.d/y.conf",
  ])
    await writeFile(path.join(dir, f), "x\n");
  const { rc, report } = await ansiblePlaybook(
    ["-i", path.join(dir, "inventory.yml"), path.join(dir, "loops.yml")],
    dir,
  );
  referee = fromReferee(rc, report);
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("with_* loops and loop_control against ansible-playbook", () => {
  test("every task's status, items, messages, recap and exit code", async () => {
    const ours = await run({
      playbook: path.join(dir, "loops.yml"),
      inventory: path.join(dir, "inventory.yml"),
    });
    const outcome = fromTickless(ours.events, ours.summary.exitCode);
    expect(outcome.tasks.join("\n")).toBe(referee.tasks.join("\n"));
    expect(outcome.stats).toEqual(referee.stats);
    expect(outcome.rc).toBe(referee.rc);
  }, 60_000);
});
