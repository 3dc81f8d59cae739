/**
 * An assert whose `that` list holds an empty item (`-` alone, or ""), against the referee: the
 * item holds (Ansible's evaluate_conditional), so the assert passes when the others do and fails
 * on a false one with Ansible's "Assertion failed" (the condition in `assertion`).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  vars: { x: 1 }
  tasks:
    - name: an empty item among true ones
      assert:
        that:
          - x == 1
          -
          - ""
          - x > 0
    - name: an empty item before a false one
      assert:
        that:
          -
          - x == 2
      ignore_errors: true
      register: failing
    - name: the failure
      debug: { msg: "{{ failing.assertion }} {{ failing.evaluated_to }}" }
`;

let fixture: Awaited<ReturnType<typeof refereeFixture>>;

beforeAll(async () => {
  if (!hasAnsible) return;
  fixture = await refereeFixture("tickless-compat-assert-empty-", PLAYBOOK);
}, 120_000);

afterAll(async () => {
  if (fixture) await removeDir(fixture.dir);
});

describe.skipIf(!hasAnsible)("an empty item in assert's that, against ansible-playbook", () => {
  test("each task's status and message", async () => {
    const ours = await ticklessRun(fixture.dir);
    expect(ticklessOutcomes(ours.results, fixture.msgTasks)).toEqual(fixture.lines);
    expect(fixture.lines).toEqual([
      'an empty item among true ones@h1: ok "All assertions passed"',
      'an empty item before a false one@h1: failed "Assertion failed"',
      'the failure@h1: ok "x == 2 False"',
    ]);
  }, 60_000);
});
