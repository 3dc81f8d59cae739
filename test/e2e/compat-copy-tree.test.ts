/**
 * copy of a controller directory against the referee: the directory itself into `dest` (`src`
 * without "/"), its contents (`src/`), a missing `dest` made, `directory_mode` and `mode`, the
 * same again unchanged, a changed file rewritten (check mode first, which writes nothing),
 * `force: false` leaving it; each task's status, the registered `dest`, `src` and `changed`, and
 * the files and modes left.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const TASKS = `
    - name: the directory itself
      copy: { src: tree, dest: "{{ root }}/one" }
      register: itself
    - name: the directory itself again
      copy: { src: tree, dest: "{{ root }}/one" }
      register: itself_again
    - name: its contents, with modes
      copy: { src: tree/, dest: "{{ root }}/two/", directory_mode: "0750", mode: "0600" }
      register: contents
    - name: its contents again
      copy: { src: tree/, dest: "{{ root }}/two/", directory_mode: "0750", mode: "0600" }
      register: contents_again
    - name: a file changed behind its back
      copy: { content: "changed\\n", dest: "{{ root }}/two/sub/b" }
    - name: in check mode
      copy: { src: tree/, dest: "{{ root }}/two/", directory_mode: "0750", mode: "0600" }
      check_mode: true
      register: checked
    - name: without force
      copy: { src: tree/, dest: "{{ root }}/two/", force: false, directory_mode: "0750", mode: "0600" }
      register: unforced
    - name: rewritten
      copy: { src: tree/, dest: "{{ root }}/two/", directory_mode: "0750", mode: "0600" }
      register: rewritten
`;
const NAMES = [...TASKS.matchAll(/register: (\w+)/g)].map((m) => m[1]);
const LEFT = [
  "one/tree",
  "one/tree/a",
  "one/tree/sub",
  "one/tree/sub/b",
  "one/tree/sub/deeper/c",
  "two",
  "two/a",
  "two/sub",
  "two/sub/b",
  "two/sub/deeper",
];
const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:${TASKS}${NAMES.map((n) => `    - name: show ${n}\n      debug: { msg: "${n} {{ ${n}.changed }} {{ ${n}.dest | default('-') | replace(root, '<root>') }} {{ ${n}.src | default('-') | replace(playbook_dir, '<dir>') }}" }\n`).join("")}
    - stat: { path: "{{ root }}/{{ item }}" }
      loop: ${JSON.stringify(LEFT)}
      register: left
    - command: cat "{{ root }}/two/sub/b"
      register: b
    - name: modes
      debug:
        msg: "{{ left.results | map(attribute='stat.mode') | list }} {{ b.stdout }}"
`;

let dir: string;
let theirLines: string[];
let msgTasks: Set<string>;

beforeAll(async () => {
  if (!hasAnsible) return;
  ({
    dir,
    lines: theirLines,
    msgTasks,
  } = await refereeFixture("tickless-compat-copy-tree-", PLAYBOOK, {
    "files/tree/a": "a\n",
    "files/tree/sub/b": "b\n",
    "files/tree/sub/deeper/c": "c\n",
  }));
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("copy of a directory against ansible-playbook", () => {
  test("each task's status, the registered dest and src, the files and modes left", async () => {
    const ours = await ticklessRun(dir);
    expect(ticklessOutcomes(ours.results, msgTasks)).toEqual(theirLines);
    expect(theirLines).toContain('show itself@h1: ok "itself True <root>/one/ <dir>/files/tree"');
    expect(theirLines.at(-1)).toContain("'0750', '0600'");
  }, 60_000);
});
