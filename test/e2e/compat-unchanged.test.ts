/**
 * The results copy, template, lineinfile and blockinfile register, against the referee, field by
 * field: after a write (copy's `checksum`, `md5sum`, `dest`, owner, mode, size, `diff`), when the
 * file is already right (copy's file-module fields with `path`; lineinfile's `backup` "" and
 * `diff`, `found` 0; blockinfile's `diff`), in diff mode and in check mode.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const TASKS = `
    - copy: { dest: "{{ root }}/c", content: "hello\\n" }
      register: written
    - copy: { dest: "{{ root }}/c", content: "hello\\n", backup: true }
      register: same
    - copy: { dest: "{{ root }}/c2", src: "{{ root }}/s.txt", mode: "0600" }
      register: from_src
    - copy: { dest: "{{ root }}/c2", src: "{{ root }}/s.txt", mode: "0600" }
      register: from_src_again
    - copy: { dest: "{{ root }}/c", content: "hello2\\n" }
      register: diffed
      diff: true
    - copy: { dest: "{{ root }}/c", content: "hello3\\n" }
      register: checked
      check_mode: true
    - template: { dest: "{{ root }}/t", src: "{{ root }}/s.txt" }
      register: templated
    - template: { dest: "{{ root }}/t", src: "{{ root }}/s.txt" }
      register: templated_again
    - lineinfile: { path: "{{ root }}/c", line: x }
      register: line
    - lineinfile: { path: "{{ root }}/c", line: x, backup: true }
      register: line_again
    - lineinfile: { path: "{{ root }}/c", line: zz, state: absent }
      register: line_absent
    - lineinfile: { path: "{{ root }}/missing", line: zz, state: absent }
      register: line_no_file
    - lineinfile: { path: "{{ root }}/c", line: y }
      register: line_checked
      check_mode: true
    - lineinfile: { path: "{{ root }}/c", line: x }
      register: line_diffed
      diff: true
    - blockinfile: { path: "{{ root }}/c", block: b }
      register: block
    - blockinfile: { path: "{{ root }}/c", block: b }
      register: block_again
    - blockinfile: { path: "{{ root }}/c", block: b2 }
      register: block_checked
      check_mode: true
    - command: "echo {{ item }}"
      loop: [1, 2]
      register: k_loop
    - command: echo
      register: k_ran
    - command: echo
      register: k_checked
      check_mode: true
    - command: echo
      register: k_cond
      changed_when: "'skipped' not in k_cond"
`;
/**
 * Which results have a `skipped` key (a loop's and a skipped task's, not one that ran, nor its items),
 * and the tests' other names: successful, failure, change, skip.
 */
const KEYS =
  "{{ 'skipped' in k_loop }} {{ 'skipped' in k_loop.results[0] }} {{ 'skipped' in k_ran }} {{ 'skipped' in k_checked }} {{ k_cond.changed }} {{ k_ran is successful }} {{ k_ran is failure }} {{ k_ran is change }} {{ k_checked is skip }}";

const NAMES = [...TASKS.matchAll(/register: (\w+)/g)].map((m) => m[1]).filter((n) => !n.startsWith("k_"));
const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:${TASKS}${NAMES.map((n) => `    - debug: { var: ${n} }\n`).join("")}    - debug: { msg: "${KEYS}" }\n`;

/**
 * Ansible's own keys of a registered result, its root written <root>, a backup's name masked. A
 * write's `src` in Ansible is the temp file it uploaded (gone after the task): tickless has none.
 */
function fields(r: Record<string, unknown>, root: string): Record<string, unknown> {
  const { changes: _c, skipped: _s, ...rest } = r;
  if (typeof rest.src === "string" && !rest.src.startsWith(root)) delete rest.src;
  // content's diff header: Ansible names its controller-side temp file, tickless "dynamically generated"
  for (const d of Array.isArray(rest.diff) ? rest.diff : [])
    if (typeof d.after_header === "string" && !d.after_header.includes(root)) d.after_header = "<generated>";
  if (typeof rest.backup === "string" && rest.backup !== "") rest.backup = "<backup>";
  if (typeof rest.backup_file === "string") rest.backup_file = "<backup>";
  return JSON.parse(JSON.stringify(rest).split(root).join("<root>"));
}

let dir: string;
let theirs: Record<string, unknown>[];
let theirKeys: unknown;

function debugs(results: Record<string, any>[], root: string) {
  return results.map((d, i) => fields(d[NAMES[i]], root));
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-unchanged-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "ansible/s.txt": "src\n",
    "tickless/s.txt": "src\n",
  });
  const { report, root } = await refereeRun(dir);
  const shown = report.plays[0].tasks.filter((t) => t.task.action === "debug").map((t) => t.hosts.h1);
  theirs = debugs(shown.slice(0, NAMES.length), root);
  theirKeys = shown[NAMES.length].msg;
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)(
  "copy, template, lineinfile and blockinfile results against ansible-playbook",
  () => {
    test("each registered result has Ansible's fields and values, written or already right", async () => {
      const ours = await ticklessRun(dir);
      const shown = ours.results
        .filter((e) => e.task === "debug")
        .map((e) => e.result as Record<string, any>);
      const mine = debugs(shown.slice(0, NAMES.length), path.join(dir, "tickless"));
      for (const [i, want] of theirs.entries())
        expect({ name: NAMES[i], ...mine[i] }).toEqual({ name: NAMES[i], ...want });
      expect(theirs[1]).toMatchObject({ changed: false, path: "<root>/c", checksum: expect.any(String) });
      expect(theirs[0]).toMatchObject({
        changed: true,
        md5sum: "b1946ac92492d2347c6235b4d2611184",
        diff: [],
      });
      expect(shown[NAMES.length].msg).toBe(theirKeys);
      expect(theirKeys).toBe("True False False True True True False True True");
      expect(theirs[NAMES.indexOf("line_again")]).toMatchObject({ changed: false, backup: "", msg: "" });
    }, 60_000);
  },
);
