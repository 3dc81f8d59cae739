/**
 * copy's `mode: preserve` against the referee: the copy gets the source file's mode, a controller
 * file's and, with `remote_src`, the host file's; a controller directory's files each get their own
 * source's mode, its links kept as links with `local_follow: false`; the same copy again is
 * unchanged. Each task's
 * status and message (the modes in the results and on disk) must match.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: a source with an odd mode
      copy: { content: "foo.txt\\n", dest: "{{ root }}/src.txt", mode: "0547" }
    - name: preserve a controller file's mode
      copy: { src: "{{ root }}/src.txt", dest: "{{ root }}/copy.txt", mode: preserve }
      register: first
    - name: again
      copy: { src: "{{ root }}/src.txt", dest: "{{ root }}/copy.txt", mode: preserve }
      register: again
    - name: preserve a host file's mode
      copy: { src: "{{ root }}/copy.txt", dest: "{{ root }}/copy2.txt", mode: preserve, remote_src: true }
      register: remote
    - stat: { path: "{{ root }}/copy2.txt" }
      register: st
    - name: the modes
      debug: { msg: "{{ first.mode }} {{ first.changed }} {{ again.changed }} {{ remote.mode }} {{ remote.changed }} {{ st.stat.mode }}" }
    - name: a tree
      file: { path: "{{ root }}/tree/sub", state: directory, mode: "0750" }
    - name: its file a
      copy: { content: "a\\n", dest: "{{ root }}/tree/a.txt", mode: "0600" }
    - name: its file b
      copy: { content: "b\\n", dest: "{{ root }}/tree/sub/b.sh", mode: "0751" }
    - name: its link
      file: { src: b.sh, path: "{{ root }}/tree/sub/link", state: link }
    - name: preserve each mode of a controller directory, its link kept
      copy: { src: "{{ root }}/tree/", dest: "{{ root }}/out/", mode: preserve, local_follow: false }
      register: tree
    - name: the directory again
      copy: { src: "{{ root }}/tree/", dest: "{{ root }}/out/", mode: preserve, local_follow: false }
      register: tree_again
    - name: stat a
      stat: { path: "{{ root }}/out/a.txt" }
      register: a
    - name: stat b
      stat: { path: "{{ root }}/out/sub/b.sh" }
      register: b
    - name: stat link
      stat: { path: "{{ root }}/out/sub/link" }
      register: link
    - name: the tree's modes
      debug: { msg: "{{ tree.changed }} {{ tree_again.changed }} {{ a.stat.mode }} {{ b.stat.mode }} {{ link.stat.islnk }} {{ link.stat.lnk_target }}" }
`;

let fixture: Awaited<ReturnType<typeof refereeFixture>>;

beforeAll(async () => {
  if (!hasAnsible) return;
  fixture = await refereeFixture("tickless-compat-copy-preserve-", PLAYBOOK);
}, 120_000);

afterAll(async () => {
  if (fixture) await removeDir(fixture.dir);
});

describe.skipIf(!hasAnsible)("copy's mode: preserve, against ansible-playbook", () => {
  test("each task's status and the modes", async () => {
    const ours = await ticklessRun(fixture.dir);
    expect(ticklessOutcomes(ours.results, fixture.msgTasks)).toEqual(fixture.lines);
    expect(fixture.lines).toContain('the modes@h1: ok "0547 True False 0547 True 0547"');
    expect(fixture.lines.at(-1)).toBe('the tree\'s modes@h1: ok "True False 0600 0751 True b.sh"');
  }, 60_000);
});
