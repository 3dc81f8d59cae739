/**
 * `!unsafe` against the referee: a tagged string is never templated, in play vars, in a list or
 * mapping tagged as a whole (numbers and booleans kept), in a vars file, in module arguments
 * (copy's content written as it is, a shell's `cmd` run as written), and through set_fact (a template that read one gives an
 * unsafe result, so the fact is not templated when it is read later); each task's status, the
 * debug messages and the files left must be the same.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { filesOf, refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  vars_files: [vars.yml]
  vars:
    nottemplated: this should not be seen
    imunsafe: !unsafe '{{ nottemplated }}'
    ulist: !unsafe ["{{ nottemplated }}", 3, true]
    umap: !unsafe { a: "{{ nottemplated }}", n: 2 }
    via: "{{ imunsafe }}"
  tasks:
    - set_fact:
        folded: >
          {{ imunsafe }}
    - set_fact:
        same: "{{ imunsafe }}"
        joined: "{{ imunsafe ~ '!' }}"
        inlist: "{{ [imunsafe, 1] }}"
        flag: !unsafe "yes"
    - name: the facts
      debug: { msg: "{{ same }}|{{ joined }}|{{ inlist }}|{{ folded | trim }}|{{ flag }}" }
    - name: the vars
      debug: { msg: "{{ imunsafe }}|{{ ulist }}|{{ umap }}|{{ via }}|{{ from_file }}" }
    - name: compared
      assert:
        that:
          - same == imunsafe
          - imunsafe == folded | trim
          - inlist[0] == imunsafe
          - ulist[1] == 3
          - ulist[2] is sameas true
          - umap.n == 2
          - flag is sameas true
          - imunsafe | length == 18
    - name: a template written by copy
      copy:
        content: !unsafe '{{ ansible_managed }}\\n'
        dest: "{{ root }}/t.j2"
    - name: rendered
      template: { src: "{{ root }}/t.j2", dest: "{{ root }}/out" }
    - name: a fact read from an unsafe one
      copy: { content: "{{ joined }}", dest: "{{ root }}/joined" }
    - name: a command kept as written
      shell: { cmd: !unsafe 'printf %s "{{ nottemplated }}" > cmd', chdir: "{{ root }}" }
    - name: statements kept
      copy: { content: !unsafe "{% if x %}{{ y }}{% endif %}", dest: "{{ root }}/raw" }
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
  } = await refereeFixture("tickless-compat-unsafe-", PLAYBOOK, {
    "vars.yml": "from_file: !unsafe '{{ nottemplated }} {% raw %}'\n",
  }));
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("!unsafe against ansible-playbook", () => {
  test("each task's status, the messages and the files written", async () => {
    const ours = await ticklessRun(dir);
    expect(ticklessOutcomes(ours.results, msgTasks)).toEqual(theirLines);
    expect(theirLines).toContain(
      `the facts@h1: ok "{{ nottemplated }}|{{ nottemplated }}!|['{{ nottemplated }}', 1]|{{ nottemplated }}|True"`,
    );
    expect(await filesOf(`${dir}/tickless`)).toEqual(await filesOf(`${dir}/ansible`));
    expect(await filesOf(`${dir}/tickless`)).toContain('raw "{% if x %}{{ y }}{% endif %}"');
  }, 60_000);
});
