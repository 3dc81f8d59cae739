/**
 * What the default output shows of assert and debug, against the referee's default callback (the
 * check of Ansible's `assert` integration target): a quiet assert shows its item alone, one that is
 * not quiet shows its result, and debug's; a result shown so is laid out as Python's
 * json.dumps(indent=4, sort_keys=True); an item of assert's `that` written with `{{ }}` gets
 * Ansible's warning, once per task and host (a loop's items share it). The two tools' stdout must
 * be the same text.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ANSIBLE_PLAYBOOK, hasAnsible, refereeEnv } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";

const BIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

const PLAYBOOK = `
- hosts: localhost
  gather_facts: false
  vars:
    item_A: yes
    foo: bar
  tasks:
    - assert:
        that: "item is defined"
        quiet: true
      with_items: [item_A]
    - assert:
        that: "item is defined"
        quiet: false
      with_items: [item_A]
    - assert:
        that:
          - '"{{ foo }}" == "bar"'
          - foo == "bar"
    - name: templated again, warned once
      assert:
        that: ['"{{ foo }}" == "bar"']
        quiet: true
    - name: a templated when in a loop, warned once for the task
      debug: { msg: "{{ item }}" }
      when: "{{ foo == 'bar' }}"
      loop: [1, 2]
    - name: a nested result
      debug:
        msg: { b: [1, "two", { c: null }], a: true, e: [], d: {} }
    - name: a failed assert
      assert:
        that: [foo == "baz"]
      ignore_errors: true
`;

const exec = promisify(execFile);
/** stdout with trailing spaces dropped, as the target's runme.sh compares it. */
const tidy = (s: string) => s.replace(/ +$/gm, "");
/** The `[WARNING]:` texts, the referee's 79-column wrapping undone. */
const warnings = (s: string) =>
  s
    .split(/^\[WARNING\]: /m)
    .slice(1)
    .map((w) => w.trim().replace(/\s*\n\s*/g, " "));

let dir: string;
let theirs: { stdout: string; stderr: string };

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-assert-output-");
  await writeTree(dir, { "p.yml": PLAYBOOK });
  const env = { ...refereeEnv(), ANSIBLE_STDOUT_CALLBACK: "default", ANSIBLE_FORCE_COLOR: "0" };
  theirs = await exec(ANSIBLE_PLAYBOOK, ["-i", "localhost,", "-c", "local", "p.yml"], { env, cwd: dir });
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("assert and debug in the default output, against ansible-playbook", () => {
  test("the same stdout, and the templated conditions' warnings once per task", async () => {
    // the referee's own layout, so the comparison compares something
    expect(theirs.stdout).toContain('ok: [localhost] => (item=item_A) => {\n    "ansible_loop_var": "item",');
    expect(theirs.stdout).toMatch(
      /ok: \[localhost\] => \{\n {4}"changed": false,\n {4}"msg": "All assertions passed"\n\}/,
    );
    const env = { ...process.env, NO_COLOR: "1" };
    const mine = await exec(process.execPath, [BIN, "run", "-i", "localhost,", "p.yml"], { env, cwd: dir });
    expect(tidy(mine.stdout)).toBe(tidy(theirs.stdout));
    const warned = (c: string) =>
      `conditional statements should not include jinja2 templating delimiters such as {{ }} or {% %}. Found: ${c}`;
    const expected = [
      warned('"{{ foo }}" == "bar"'),
      warned('"{{ foo }}" == "bar"'),
      warned("{{ foo == 'bar' }}"),
    ];
    expect(warnings(theirs.stderr)).toEqual(expected);
    expect(warnings(mine.stderr)).toEqual(expected);
  }, 60_000);
});
