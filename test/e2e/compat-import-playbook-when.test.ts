/**
 * `when` on import_playbook against the referee: asked, per host, before each imported play's fact
 * gathering (skipped where false) and each of its tasks (a fact set by an earlier play decides),
 * not before its handlers; an import inside an imported playbook adds its own.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeOutcomes, refereeRun, ticklessOutcomes } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1:h2
  gather_facts: false
  tasks:
    - name: decide
      set_fact: { go: "{{ inventory_hostname == 'h1' }}" }
- import_playbook: never.yml
  when: no
- import_playbook: some.yml
  when: go
- import_playbook: outer.yml
  when: go | bool
`;
const NEVER = `
- hosts: h1:h2
  tasks:
    - name: never runs
      debug: { msg: never }
`;
const SOME = `
- hosts: h1:h2
  gather_facts: true
  tasks:
    - name: only where go
      command: "true"
      notify: a handler
    - name: a task of its own when
      debug: { msg: "h1 only" }
      when: inventory_hostname == 'h1'
  handlers:
    - name: a handler
      debug: { msg: handled }
`;
const OUTER = `
- import_playbook: inner.yml
  when: inventory_hostname != 'h2'
`;
const INNER = `
- hosts: h1:h2
  gather_facts: false
  tasks:
    - name: both conditions
      debug: { msg: inner }
`;

let dir: string;
let referee: { rc: number; lines: string[]; stats: unknown; msgTasks: Set<string> };

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-import-when-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1", "h2"]),
    "p.yml": PLAYBOOK,
    "never.yml": NEVER,
    "some.yml": SOME,
    "outer.yml": OUTER,
    "inner.yml": INNER,
  });
  const { rc, report } = await refereeRun(dir);
  referee = { rc, stats: report.stats, ...refereeOutcomes(report) };
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("when on import_playbook against ansible-playbook", () => {
  test("each task's status and message, the recap, the exit code", async () => {
    const ours = await run({ playbook: `${dir}/p.yml`, inventory: `${dir}/inventory.yml` });
    const recap = ours.events.find((e) => e.type === "recap");
    // sorted: tickless's side groups the lines of one task name (the two "Gathering Facts")
    expect(ticklessOutcomes(ours.results, referee.msgTasks).sort()).toEqual([...referee.lines].sort());
    expect(recap && "stats" in recap ? recap.stats : undefined).toEqual(referee.stats);
    expect(ours.summary.exitCode).toBe(referee.rc);
    expect(referee.lines).toContain('never runs@h2: skipped ""');
    expect(referee.lines).toContain('a handler@h1: ok "handled"');
  }, 60_000);
});
