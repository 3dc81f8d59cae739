/**
 * The facts of ansible-core's `user` collector, against the referee: `ansible_user_id` (the name
 * the task runs as, as getpass.getuser() finds it), its passwd entry's uid, gid, gecos, home and
 * shell, and the real and effective ids, each also under `ansible_facts`; a file task whose owner
 * is `ansible_user_id` (as Ansible's own file target writes it).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const FACTS = [
  "user_id",
  "user_uid",
  "user_gid",
  "user_gecos",
  "user_dir",
  "user_shell",
  "real_user_id",
  "effective_user_id",
  "real_group_id",
  "effective_group_id",
];

const PLAYBOOK = `
- hosts: h1
  gather_facts: true
  tasks:
${FACTS.map((f) => `    - name: ${f}\n      debug: { msg: "{{ ansible_${f} }} {{ ansible_facts.${f} is number }}" }`).join("\n")}
    - name: a file owned by the user the task runs as
      file: { path: "{{ root }}/owned", state: touch, owner: "{{ ansible_user_id }}" }
`;

let fixture: Awaited<ReturnType<typeof refereeFixture>>;

beforeAll(async () => {
  if (!hasAnsible) return;
  fixture = await refereeFixture("tickless-compat-user-facts-", PLAYBOOK);
}, 180_000);

afterAll(async () => {
  if (fixture) await removeDir(fixture.dir);
});

describe.skipIf(!hasAnsible)("the user facts against ansible-playbook", () => {
  test("each fact's value and type, and a file owned by ansible_user_id", async () => {
    const ours = await ticklessRun(fixture.dir);
    expect(ticklessOutcomes(ours.results, fixture.msgTasks)).toEqual(fixture.lines);
    expect(fixture.lines.find((l) => l.includes("user_uid"))).toMatch(/"\d+ True"/);
    expect(fixture.lines.find((l) => l.includes("user_dir"))).toMatch(/"\/\S* False"/);
    expect(fixture.lines.at(-1)).toMatch(/changed/);
    expect(ours.summary.exitCode).toBe(0);
  }, 120_000);
});
