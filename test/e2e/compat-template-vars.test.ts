/**
 * What the template module gives a template, against the referee: `template_mtime` (the file's
 * time, to the microsecond, as Python's datetime prints it, in text and inside a list),
 * `template_run_date` (a new one each run: a change every time), `template_path`,
 * `template_fullpath`, `template_host`, `template_uid`; and a guarded chain of brackets on a
 * missing key (`d['bar']['baz']['abc'] is not defined`, `| default`), the assert of Ansible's
 * template target. Each task's status, the messages and the bytes (the run date aside) must be
 * the same.
 */
import { readFile, utimes } from "node:fs/promises";
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

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: the dates
      template: { src: dates.j2, dest: "{{ root }}/dates" }
    - name: a whole second
      template: { src: whole.j2, dest: "{{ root }}/whole" }
    - name: nested undefined values are undefined
      vars:
        dict_var: { bar: {} }
        list_var: [{ foo: {} }]
      assert:
        that:
          - dict_var.bar.baz.abc is not defined
          - dict_var['bar']['baz'] is not defined
          - dict_var['bar']['baz']['abc'] is not defined
          - dict_var['bar']['baz']['abc'] | default('DEFAULT') == 'DEFAULT'
          - dict_var['baz']['abc'] is not defined
          - dict_var['baz']['abc'] | default('DEFAULT') == 'DEFAULT'
          - list_var[1] is not defined
          - list_var[0]['foo']['bar'] is not defined
          - list_var[1]['foo'] is not defined
          - list_var[1]['foo'] | default('DEFAULT') == 'DEFAULT'
          - dict_var['bar'].baz is not defined
`;

const DATES =
  "m={{ template_mtime }}\nr={{ template_run_date }}\nl={{ [template_mtime] }}\n" +
  "h={{ template_host }} u={{ template_uid }} p={{ template_path }} f={{ template_fullpath | basename }}\n";

let dir: string;
const theirs: { lines: string[]; msgTasks: Set<string> }[] = [];

/** The text a run left, its run date line replaced by its shape. */
async function rendered(root: string, name: string): Promise<string> {
  const text = await readFile(path.join(root, name), "utf8");
  return text.replace(/^r=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/m, "r=<a date>");
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-template-vars-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "templates/dates.j2": DATES,
    "templates/whole.j2": "m={{ template_mtime }} {{ [template_mtime] }}\n",
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  await utimes(path.join(dir, "templates/dates.j2"), 1614834367, 1614834367.1234567);
  await utimes(path.join(dir, "templates/whole.j2"), 1614834367, 1614834367);
  for (let i = 0; i < 2; i++) theirs.push(refereeOutcomes((await refereeRun(dir)).report));
}, 180_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("template vars against ansible-playbook", () => {
  test("each task's status, twice (the run date changes the file), and the bytes", async () => {
    for (const their of theirs) {
      const ours = await ticklessRun(dir);
      expect(ticklessOutcomes(ours.results, their.msgTasks)).toEqual(their.lines);
    }
    expect(theirs[1].lines).toContain('the dates@h1: changed ""');
    expect(theirs[1].lines).toContain('a whole second@h1: ok ""');
    for (const name of ["dates", "whole"]) {
      const expected = await rendered(path.join(dir, "ansible"), name);
      expect(await rendered(path.join(dir, "tickless"), name)).toEqual(expected);
    }
    expect(await rendered(path.join(dir, "ansible"), "dates")).toMatch(/^r=<a date>$/m);
  }, 60_000);
});
