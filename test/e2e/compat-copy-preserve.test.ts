/**
 * copy's `mode: preserve` against the referee: the copy gets the source file's mode, a controller
 * file's and, with `remote_src`, the host file's; the same copy again is unchanged. Each task's
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
    expect(fixture.lines.at(-1)).toBe('the modes@h1: ok "0547 True False 0547 True 0547"');
  }, 60_000);
});
