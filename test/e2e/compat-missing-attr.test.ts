/**
 * A field a result does not have, read in a condition, against the referee: `when: r.nope`,
 * `r['nope']`, `'x' in r.nope`, `r.nope.deeper` fail the task as ansible-playbook fails it
 * ("'dict object' has no attribute 'nope'"), where reading it as false would silently skip;
 * the guards (`is defined`, `is not defined`, `|default`) still read it as undefined. Each
 * task's status, the message's cause and the exit code must be the same.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: register
      command: "true"
      register: r
    - name: when on a missing field
      debug: { msg: one }
      when: r.nonexistent
      ignore_errors: true
    - name: by subscript
      debug: { msg: two }
      when: r['nope']
      ignore_errors: true
    - name: in a missing field
      debug: { msg: three }
      when: "'x' in r.nope"
      ignore_errors: true
    - name: deeper
      debug: { msg: four }
      when: r.nope.deeper
      ignore_errors: true
    - name: negated
      debug: { msg: five }
      when: not r.nope
      ignore_errors: true
    - name: guarded is defined
      debug: { msg: six }
      when: r.nope is defined
    - name: guarded deeper
      debug: { msg: seven }
      when: r.nope.deeper is not defined
    - name: guarded default
      debug: { msg: eight }
      when: r.nope | default(true)
    - name: a field it has
      debug: { msg: nine }
      when: r.rc == 0
    - name: until on a missing field
      command: "true"
      register: u
      until: u.nope
      retries: 1
      delay: 0
      ignore_errors: true
`;

let dir: string;
let referee: { rc: number; tasks: string[] };

/** A failed task's message reduced to its cause: the missing attribute, or none. */
function cause(msg: unknown): string {
  return /'dict object' has no attribute '(\w+)'/.exec(String(msg ?? ""))?.[0] ?? "";
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-missing-attr-");
  await writeTree(dir, { "inventory.yml": refereeInventory(["h1"]), "p.yml": PLAYBOOK });
  const { rc, report } = await refereeRun(dir);
  const tasks = report.plays.flatMap((p) =>
    p.tasks.map((t) => `${t.task.name}: ${t.hosts.h1.status} ${cause(t.hosts.h1.msg)}`),
  );
  referee = { rc, tasks };
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("a missing result field in a condition against ansible-playbook", () => {
  test("each task's status, the missing attribute named, the exit code", async () => {
    const ours = await ticklessRun(dir);
    const tasks = ours.results.map((e) => `${e.task}: ${e.status} ${cause(e.result.msg)}`);
    expect(tasks.join("\n")).toBe(referee.tasks.join("\n"));
    expect(referee.tasks.filter((t) => t.includes("no attribute"))).toHaveLength(6);
    expect(ours.summary.exitCode).toBe(referee.rc);
  }, 60_000);
});
