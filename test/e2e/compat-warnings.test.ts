/**
 * A module result's `warnings` against the referee's default output: ansible-playbook prints each
 * as `[WARNING]: text` after an ok, changed or failed result (a loop's items' too), each text once
 * per run however many hosts give it, and none for a `no_log` task. tickless emits them as warning
 * events, which every reporter prints the same way.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ANSIBLE_PLAYBOOK, hasAnsible, refereeEnv } from "../referee/ansible.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";
import { refereeInventory } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: all
  gather_facts: false
  tasks:
    - name: an empty regexp, on both hosts
      lineinfile: { path: "{{ root }}/f-{{ inventory_hostname }}", regexp: "", line: b, create: true }
    - name: an empty search string, in a loop
      lineinfile: { path: "{{ root }}/g-{{ inventory_hostname }}-{{ item }}", search_string: "", line: b, create: true }
      loop: [1, 2]
    - name: under no_log
      command: { cmd: "true", executable: /bin/nosuch }
      no_log: true
    - name: command's executable, in a loop
      command: { cmd: "echo {{ item }}", executable: /bin/bash }
      loop: [1]
    - name: skipped
      command: { cmd: "true", executable: /bin/skipped }
      when: false
`;

/** The `[WARNING]:` texts of ansible-playbook's stderr, its 79-column wrapping undone. */
function warningsOf(stderr: string): string[] {
  return stderr
    .split(/^\[WARNING\]: /m)
    .slice(1)
    .map((w) => w.trim().replace(/\s*\n\s*/g, " "));
}

let dir: string;
let theirs: string[];

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-warnings-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1", "h2"]),
    "p.yml": PLAYBOOK,
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  const env = { ...refereeEnv(), ANSIBLE_STDOUT_CALLBACK: "default" };
  const res = await promisify(execFile)(
    ANSIBLE_PLAYBOOK,
    ["-i", "inventory.yml", "p.yml", "-e", `root=${path.join(dir, "ansible")}`],
    { env, cwd: dir },
  );
  theirs = warningsOf(res.stderr);
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("module warnings against ansible-playbook", () => {
  test("each text once per run, a loop's items' too, none under no_log or for a skipped task", async () => {
    // the referee's own words, so the comparison below compares something
    expect(theirs).toHaveLength(3);
    expect(theirs[0]).toMatch(/^The regular expression is an empty string/);
    expect(theirs[1]).toMatch(/^The search string is an empty string/);
    expect(theirs[2]).toBe(
      "As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '/bin/bash'.",
    );
    const mine = await run({
      playbook: path.join(dir, "p.yml"),
      inventory: path.join(dir, "inventory.yml"),
      extraVars: { root: path.join(dir, "tickless") },
    });
    expect(mine.summary.exitCode).toBe(0);
    const shown = mine.events.flatMap((e) => (e.type === "warning" ? [e.message] : []));
    expect(shown).toEqual(theirs);
    // the registered result still holds its warnings on every host
    const first = mine.results.filter((r) => r.task === "an empty regexp, on both hosts");
    expect(first.map((r) => r.host).sort()).toEqual(["h1", "h2"]);
    for (const r of first) expect(r.result.warnings).toEqual([theirs[0]]);
  }, 60_000);
});
