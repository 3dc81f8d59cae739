/**
 * Ansible's STRING_TYPE_FILTERS against the referee: `to_json`, `to_nice_json`, `to_nice_yaml`
 * and `string` as the last step of a string's only expression give text (also with the one
 * trailing newline Jinja drops and Ansible puts back: copy's content of the template target),
 * where the same text built otherwise (a variable, `~`, a second newline or a space after it)
 * reads as a mapping. Each task's status, the messages and the file written must be the same.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { filesOf, refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const FACTS: Record<string, string> = {
  a: "{{ d | to_json }}",
  b: "{{ d | to_nice_json(indent=(indent_value|int)) }}\\n",
  c: "{{ s }}\\n",
  e: "{{ d | to_json }}\\n\\n",
  f: "{{ (d | to_json) ~ '' }}",
  g: "{{ d | to_json | string }}",
  h: "{{ d | to_nice_yaml }}",
  i: "{{ [1, 2] | to_json }}",
  j: "{{ d | to_json }} ",
};
const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  vars:
    d: { foo: bar, n: 1 }
    s: "{'a': 1}"
    indent_value: 2
  tasks:
    - set_fact:
${Object.entries(FACTS)
  .map(([k, v]) => `        ${k}: "${v}"`)
  .join("\n")}
    - name: which are mappings
      debug: { msg: "${Object.keys(FACTS)
        .map((k) => `${k}={{ ${k} is mapping }}`)
        .join(" ")}" }
    - name: string type filters
      copy:
        content: "{{ d | to_nice_json(indent=(indent_value|int))}}\\n"
        dest: "{{ root }}/nice"
`;

let dir: string;
let theirLines: string[];
let msgTasks: Set<string>;

beforeAll(async () => {
  if (!hasAnsible) return;
  ({ dir, lines: theirLines, msgTasks } = await refereeFixture("tickless-compat-string-filters-", PLAYBOOK));
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("string type filters against ansible-playbook", () => {
  test("each task's status, which values are mappings, and the file written", async () => {
    const ours = await ticklessRun(dir);
    expect(ticklessOutcomes(ours.results, msgTasks)).toEqual(theirLines);
    expect(theirLines).toContain(
      'which are mappings@h1: ok "a=False b=False c=True e=True f=True g=False h=False i=False j=True"',
    );
    expect(await filesOf(`${dir}/tickless`)).toEqual(await filesOf(`${dir}/ansible`));
  }, 60_000);
});
