/**
 * The `random` filter against the referee: with `seed` (an int, a string, a big range, a step, a
 * list) the very numbers and items Python's Random(seed) gives; without one, a number of the range
 * or an item of the list; a list with `start` and a value that is neither fail with Ansible's words.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: seeded
      debug:
        msg: "{{ [2 | random(seed=1337), 100000 | random(seed=inventory_hostname), 999999999999 | random(seed=42),
                  20 | random(start=10, step=2, seed=7), ['a', 'b', 'c', 'd'] | random(seed='x'), 'abc' | random(seed=3)] | join(' ') }}"
    - name: unseeded in range
      assert:
        that:
          - 2 | random in [0, 1]
          - 20 | random(start=10) in range(10, 20)
          - 20 | random(start=10, step=2) % 2 == 0
          - "['a', 'b'] | random in ['a', 'b']"
          - "'ansible_copy_test_' ~ (100000 | random) is match('ansible_copy_test_[0-9]+$')"
    - name: a list with start
      set_fact: { x: "{{ [1, 2, 3] | random(start=2) }}" }
      ignore_errors: true
    - name: neither a list nor a number
      set_fact: { x: "{{ None | random }}" }
      ignore_errors: true
`;

let fixture: Awaited<ReturnType<typeof refereeFixture>>;

beforeAll(async () => {
  if (!hasAnsible) return;
  fixture = await refereeFixture("tickless-compat-random-", PLAYBOOK);
}, 120_000);

afterAll(async () => {
  if (fixture) await removeDir(fixture.dir);
});

describe.skipIf(!hasAnsible)("the random filter, against ansible-playbook", () => {
  test("seeded results equal, unseeded ones in range, and the failures", async () => {
    const ours = await ticklessRun(fixture.dir);
    expect(ticklessOutcomes(ours.results, fixture.msgTasks)).toEqual(fixture.lines);
    expect(fixture.lines[0]).toMatch(/^seeded@h1: ok "1 \d+ 123005401501 14 c [abc]"$/);
    const theirs = fixture.report.plays[0].tasks.slice(2).map((t) => String(t.hosts.h1.msg));
    expect(theirs[0]).toContain("start and step can only be used with integer values");
    expect(theirs[1]).toContain("random can only be used on sequences and integers");
    const failed = ours.results.filter((e) => e.status === "failed").map((e) => String(e.result.msg));
    expect(failed[0]).toContain("start and step can only be used with integer values");
    expect(failed[1]).toContain("random can only be used on sequences and integers");
  }, 60_000);
});
