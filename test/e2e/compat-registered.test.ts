/**
 * The keys of a registered result against the referee (ansible-core 2.14): a skipped task has
 * `changed`, `skipped` and `skip_reason` (no `failed`, no condition), a skipped loop's items the
 * same, and an ignored failure does not say it was ignored; a task that ran has no `skipped`.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const CASES: [string, string][] = [
  ["skipped", `debug: { msg: x }\n      when: false`],
  ["skipped_loop", `debug: { msg: "{{ item }}" }\n      loop: [1, 2]\n      when: item == 3`],
  ["ignored", `fail: { msg: boom }\n      ignore_errors: true`],
  ["ignored_loop", `fail: { msg: "{{ item }}" }\n      loop: [1]\n      ignore_errors: true`],
  ["ran", `debug: { msg: x }`],
  ["partly_skipped", `debug: { msg: "{{ item }}" }\n      loop: [1, 2]\n      when: item == 2`],
];
const keys = (e: string) => `{{ ${e} | dict2items | map(attribute='key') | sort | join(',') }}`;
const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
${CASES.map(([name, task]) => `    - name: ${name}\n      ${task}\n      register: ${name}`).join("\n")}
${CASES.map(
  ([name]) =>
    `    - name: keys of ${name}\n      debug: { msg: "${keys(name)}${name.includes("loop") || name.startsWith("partly") ? ` / ${keys(`${name}.results[0]`)}` : ""}" }`,
).join("\n")}
    - name: tests on them
      assert:
        that:
          - skipped is skipped
          - skipped is not failed
          - ignored is failed
          - ignored_loop is failed
          - "'failed' not in skipped"
          - "'ignored' not in ignored"
`;

let dir: string;
let theirLines: string[];
let msgTasks: Set<string>;

beforeAll(async () => {
  if (!hasAnsible) return;
  ({ dir, lines: theirLines, msgTasks } = await refereeFixture("tickless-compat-registered-", PLAYBOOK));
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("registered results' keys against ansible-playbook", () => {
  test("each task's status and the keys each registered result has", async () => {
    const ours = await ticklessRun(dir);
    expect(ticklessOutcomes(ours.results, msgTasks)).toEqual(theirLines);
    expect(theirLines).toContain('keys of skipped@h1: ok "changed,skip_reason,skipped"');
    expect(theirLines).toContain('keys of ignored@h1: ok "changed,failed,msg"');
  }, 60_000);
});
