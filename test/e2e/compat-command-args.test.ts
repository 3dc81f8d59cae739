/**
 * command and shell arguments Ansible accepts and judges when the task runs, against the referee:
 * `executable` on command (a warning, the command runs), no command and a command string beside
 * `argv` (failed, rc 256, Ansible's msg), a boolean `creates` in check mode, free-form `k=v` words
 * in a multi-line shell block and its whitespace kept, "Would not run" in a task's check mode,
 * `chdir` through a link (the real directory), the `ansible_python` facts a command reads, and `ansible_fips`.
 * Each task's status and message, and the registered results key by key.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";
import { shownValues } from "./registered-values.js";

const TASKS = `
    - name: executable on command
      command: echo hi
      args: { executable: /bogus }
      register: with_executable
    - name: no command
      command:
      args: { chdir: / }
      register: no_command
      ignore_errors: true
    - name: argv and a string
      command: echo testing
      args: { argv: [echo, testing] }
      register: both
      ignore_errors: true
    - name: empty argv
      command: { argv: [] }
      register: empty_argv
      ignore_errors: true
    - name: boolean creates in check mode
      command: { cmd: "true", creates: yes }
      check_mode: yes
      register: bool_creates
    - name: creates in a task's check mode
      command: "true"
      args: { creates: "{{ root }}" }
      check_mode: yes
      register: would_not
    - name: k=v words in a block
      shell: |
        creates={{ root }}/never
        chdir="{{ root }}"
        echo "test"
      register: kv_block
    - name: whitespace kept
      shell: |
        cat <<EOF
        One
          Two
        EOF
      register: indented
    - name: make a link to a directory
      file: { path: "{{ root }}/link", src: "{{ root }}/real", state: link, force: true }
    - name: chdir through the link
      shell: pwd
      args: { chdir: "{{ root }}/link" }
      register: physical
    - name: the host's python
      command: "{{ ansible_python.executable }} -c 'import sys; print(sys.version_info[0])'"
      register: python_major
    - name: python facts
      debug:
        msg: "{{ ansible_facts.python_version is version('3', '>=') }} {{ ansible_python.version.major }} {{ ansible_python.type }} {{ ansible_system }} {{ ansible_fips }}"
`;
const NAMES = [...TASKS.matchAll(/register: (\w+)/g)].map((m) => m[1]);
const PLAYBOOK = `
- hosts: h1
  gather_facts: true
  tasks:
    - file: { path: "{{ root }}/real", state: directory }
${TASKS}${NAMES.map((n) => `    - debug: { var: ${n} }\n`).join("")}`;

/** tickless's check-mode plan, kept in its results; not a key of Ansible's. */
const DROP = new Set(["changes", "invocation"]);

let fixture: Awaited<ReturnType<typeof refereeFixture>>;
let theirs: Record<string, unknown>;

beforeAll(async () => {
  if (!hasAnsible) return;
  fixture = await refereeFixture("tickless-compat-cmdargs-", PLAYBOOK);
  const { report, root } = fixture;
  const debugs = report.plays[0].tasks.filter((t) => t.task.action === "debug").map((t) => t.hosts.h1);
  theirs = shownValues(debugs, NAMES, root, DROP);
}, 180_000);

afterAll(async () => {
  if (fixture) await removeDir(fixture.dir);
});

describe.skipIf(!hasAnsible)(
  "command and shell arguments judged in the task, against ansible-playbook",
  () => {
    test("each task's status and message, and the registered results key by key", async () => {
      const ours = await ticklessRun(fixture.dir);
      expect(ticklessOutcomes(ours.results, fixture.msgTasks)).toEqual(fixture.lines);
      const shown = ours.results
        .filter((e) => e.task === "debug")
        .map((e) => e.result as Record<string, unknown>);
      expect(shownValues(shown, NAMES, path.join(fixture.dir, "tickless"), DROP)).toEqual(theirs);
      expect(theirs.with_executable).toMatchObject({
        stdout: "hi",
        warnings: [expect.stringContaining("Not using '/bogus'")],
      });
      expect(theirs.no_command).toMatchObject({ failed: true, rc: 256, msg: "no command given", cmd: null });
      expect(theirs.both).toMatchObject({ msg: "only command or argv can be given, not both" });
      expect(theirs.bool_creates).toMatchObject({
        changed: true,
        msg: "Command would have run if not in check mode",
      });
      expect(theirs.would_not).toMatchObject({ msg: "Would not run command since '<root>' exists" });
      expect(theirs.kv_block).toMatchObject({ cmd: 'echo "test"\n', stdout: "test" });
      expect(theirs.indented).toMatchObject({ cmd: "cat <<EOF\nOne\n  Two\nEOF\n" });
      expect(theirs.physical).toMatchObject({ stdout: "<root>/real" });
      expect(theirs.python_major).toMatchObject({ stdout: "3" });
      expect(fixture.lines.at(-NAMES.length - 1)).toMatch(/"True 3 cpython Linux False"$/);
    }, 120_000);
  },
);
