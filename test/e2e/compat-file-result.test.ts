/**
 * The file module's registered result against the referee, field by field: `path` (`dest` and `src`
 * for touch and link), uid, gid, owner, group, mode as "0%03o" (symbolic modes, setuid and sticky
 * bits), state and size, for each state, changed or not; a `src` without `state: link` fails.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const TASKS = `
    - file: { path: "{{ root }}/t", state: touch, mode: "0644" }
      register: touched
    - file: { path: "{{ root }}/t", mode: "0600" }
      register: moded
    - file: { path: "{{ root }}/t", mode: "0600" }
      register: moded_again
    - file: { path: "{{ root }}/t", mode: "u=rwx,g=rwx,o=rwx" }
      register: symbolic
    - file: { path: "{{ root }}/t", mode: "04444" }
      register: setuid
    - file: { path: "{{ root }}/t", mode: "01444" }
      register: sticky
    - file: { path: "{{ root }}/d", state: directory, mode: "0750" }
      register: directory
    - file: { path: "{{ root }}/d", state: directory }
      register: directory_again
    - file: { path: "{{ root }}/l", state: link, src: t }
      register: link
    - file: { path: "{{ root }}/l", state: link, src: t }
      register: link_again
    - file: { path: "{{ root }}/d", state: absent }
      register: removed
    - file: { path: "{{ root }}/d", state: absent }
      register: removed_again
    - file: { path: "{{ root }}/t", src: t }
      register: src_without_state
      ignore_errors: true
`;
const NAMES = [...TASKS.matchAll(/register: (\w+)/g)].map((m) => m[1]);
const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:${TASKS}${NAMES.map((n) => `    - debug: { var: ${n} }\n`).join("")}`;

const KEYS = [
  "failed",
  "msg",
  "changed",
  "path",
  "dest",
  "src",
  "uid",
  "gid",
  "owner",
  "group",
  "mode",
  "state",
  "size",
];

/** The compared keys of each result, its root written <root> (a directory's size is the file system's). */
function fields(results: Record<string, any>[], root: string) {
  return results.map((d, i) => {
    const r = d[NAMES[i]];
    // a failure is compared by its words: Ansible's also describes the path (compat.md)
    const keys = r.failed ? ["failed", "msg", "changed"] : KEYS;
    const picked = Object.fromEntries(keys.filter((k) => r[k] !== undefined).map((k) => [k, r[k]]));
    return { name: NAMES[i], ...JSON.parse(JSON.stringify(picked).split(root).join("<root>")) };
  });
}

let dir: string;
let theirs: Record<string, unknown>[];

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-file-result-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  const { report, root } = await refereeRun(dir);
  theirs = fields(
    report.plays[0].tasks.filter((t) => t.task.action === "debug").map((t) => t.hosts.h1),
    root,
  );
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("file results against ansible-playbook", () => {
  test("path or dest, owner, mode, state and size of each registered result", async () => {
    const ours = await ticklessRun(dir);
    const shown = ours.results.filter((e) => e.task === "debug").map((e) => e.result as Record<string, any>);
    expect(fields(shown, path.join(dir, "tickless"))).toEqual(theirs);
    expect(theirs[NAMES.indexOf("symbolic")]).toMatchObject({ mode: "0777", state: "file" });
    expect(theirs[NAMES.indexOf("setuid")]).toMatchObject({ mode: "04444" });
    expect(theirs[NAMES.indexOf("link")]).toMatchObject({
      dest: "<root>/l",
      src: "t",
      state: "link",
      size: 1,
    });
  }, 60_000);
});
