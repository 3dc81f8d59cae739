/**
 * include_tasks and import_tasks written `file=NAME` (Ansible's k=v form), against the referee: the
 * file is found and run, with a loop and its `loop_var` on the include. Each task's status and
 * message must match.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - include_tasks: file=included.yml
      with_items: [a, b]
      loop_control: { loop_var: dest }
    - import_tasks: file=imported.yml
`;

let fixture: Awaited<ReturnType<typeof refereeFixture>>;

beforeAll(async () => {
  if (!hasAnsible) return;
  fixture = await refereeFixture("tickless-compat-include-kv-", PLAYBOOK, {
    "included.yml": "- name: included\n  debug: { msg: 'included {{ dest }}' }\n",
    "imported.yml": "- name: imported\n  debug: { msg: imported }\n",
  });
}, 120_000);

afterAll(async () => {
  if (fixture) await removeDir(fixture.dir);
});

describe.skipIf(!hasAnsible)(
  "include_tasks and import_tasks written file=NAME, against ansible-playbook",
  () => {
    test("each task's status and message", async () => {
      const ours = await ticklessRun(fixture.dir);
      const lines = fixture.lines.filter((l) => !l.startsWith("include_tasks@"));
      expect(lines).toEqual([
        'included@h1: ok "included a"',
        'included@h1: ok "included b"',
        'imported@h1: ok "imported"',
      ]);
      expect(
        ticklessOutcomes(ours.results, fixture.msgTasks).filter((l) => !l.startsWith("include_tasks@")),
      ).toEqual(lines);
    }, 60_000);
  },
);
