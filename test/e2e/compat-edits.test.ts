/**
 * lineinfile's and blockinfile's registered results against the referee: `msg`, lineinfile's
 * `backup` (the backup's path, "" without one), `found` (lines removed), the `diff` list (contents in diff mode only, then
 * the attribute headers), the warning an empty regexp earns, and the words of a missing file.
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
    - lineinfile: { path: "{{ root }}/f", line: c, backup: true }
      register: added
      diff: true
    - lineinfile: { path: "{{ root }}/f", regexp: "", line: d }
      register: empty_regexp
    - lineinfile: { path: "{{ root }}/f", line: a, state: absent }
      register: removed
    - lineinfile: { path: "{{ root }}/missing", line: d }
      register: missing
      ignore_errors: true
    - blockinfile: { path: "{{ root }}/f", block: x }
      register: block
      diff: true
    - blockinfile: { path: "{{ root }}/f", block: y }
      register: block_again
    - debug: { var: added }
    - debug: { var: empty_regexp }
    - debug: { var: removed }
    - debug: { var: missing }
    - debug: { var: block }
    - debug: { var: block_again }
`;

const NAMES = ["added", "empty_regexp", "removed", "missing", "block", "block_again"];
const FIELDS = ["msg", "backup", "backup_file", "diff", "warnings", "found"];

let dir: string;
let theirs: Record<string, unknown>[];

/** The compared fields of each registered result, the root written as <root> and a backup's name as <backup>. */
function fields(debugs: Record<string, any>[], root: string): Record<string, unknown>[] {
  return debugs.map((d, i) => {
    const r = d[NAMES[i]];
    const picked = Object.fromEntries(FIELDS.filter((f) => r[f] !== undefined).map((f) => [f, r[f]]));
    const text = JSON.stringify(picked).split(root).join("<root>");
    return JSON.parse(text.replace(/"<root>\/f\.[^"]+~"/g, '"<backup>"'));
  });
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-edits-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "ansible/f": "a\nb\n",
    "tickless/f": "a\nb\n",
  });
  const { report, root } = await refereeRun(dir);
  const debugs = report.plays[0].tasks.filter((t) => t.task.action === "debug").map((t) => t.hosts.h1);
  theirs = fields(debugs, root);
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("lineinfile and blockinfile results against ansible-playbook", () => {
  test("msg, backup, found, diff and warnings of each registered result", async () => {
    const root = path.join(dir, "tickless");
    const ours = await run({
      playbook: path.join(dir, "p.yml"),
      inventory: path.join(dir, "inventory.yml"),
      extraVars: { root },
    });
    const debugs = ours.results.filter((e) => e.task === "debug").map((e) => e.result as Record<string, any>);
    const mine = fields(debugs, root);
    for (const [i, want] of theirs.entries())
      expect({ name: NAMES[i], ...mine[i] }).toEqual({ name: NAMES[i], ...want });
    expect(theirs[0]).toMatchObject({ msg: "line added", backup: "<backup>" });
    expect(theirs[2]).toMatchObject({ msg: "1 line(s) removed", found: 1 });
    expect(theirs[3]).toMatchObject({ msg: "Destination <root>/missing does not exist !" });
  }, 60_000);
});
