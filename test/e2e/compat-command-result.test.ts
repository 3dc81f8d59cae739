/**
 * command and shell results key by key against the referee: a run, a run that fails, and a run
 * `creates` skips. Same keys (Ansible's `invocation` and callback fields aside), the same `msg`
 * ("" after a run, "non-zero return code", "Did not run command since …"), and `start`, `end` and
 * `delta` in Python's datetime and timedelta shapes (null when skipped).
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: runs
      command: echo hi
    - name: shell runs
      shell: echo hi >&2
    - name: fails
      shell: exit 3
      ignore_errors: true
    - name: skipped by creates
      command: echo never
      args: { creates: / }
`;

const INTERNAL = new Set([
  "invocation",
  "_ansible_no_log",
  "status",
  "ignored",
  "skipped",
  "failed",
  "changed",
]);
const DATETIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/;
const DELTA = /^\d+:\d\d:\d\d\.\d{6}$/;

let dir: string;
let theirs: Record<string, Record<string, unknown>>;

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-cmdres-");
  await writeTree(dir, { "inventory.yml": refereeInventory(["h1"]), "p.yml": PLAYBOOK });
  const { report } = await refereeRun(dir);
  theirs = Object.fromEntries(report.plays[0].tasks.map((t) => [t.task.name, t.hosts.h1]));
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

function keys(r: Record<string, unknown>): string[] {
  return Object.keys(r)
    .filter((k) => !INTERNAL.has(k))
    .sort();
}

describe.skipIf(!hasAnsible)("command and shell results against ansible-playbook", () => {
  test("keys, msg, and the shapes of start, end and delta", async () => {
    const ours = await run({ playbook: path.join(dir, "p.yml"), inventory: path.join(dir, "inventory.yml") });
    const mine = Object.fromEntries(ours.results.map((e) => [e.task, e.result as Record<string, unknown>]));
    for (const name of Object.keys(theirs)) {
      const [a, t] = [theirs[name], mine[name]];
      expect({ name, keys: keys(t) }).toEqual({ name, keys: keys(a) });
      expect({ name, msg: t.msg }).toEqual({ name, msg: a.msg });
      for (const field of ["start", "end", "delta"] as const) {
        const shape = field === "delta" ? DELTA : DATETIME;
        if (a[field] === null) expect(t[field]).toBeNull();
        else {
          expect(a[field]).toMatch(shape);
          expect(t[field]).toMatch(shape);
        }
      }
    }
    expect(theirs["skipped by creates"].start).toBeNull();
    expect(theirs.runs.msg).toBe("");
  }, 60_000);
});
