/**
 * The `script` module against the referee: a script from `files/` run with arguments (quoted)
 * from `chdir`, through `executable` (Python writing a UTF-16 file that wait_for then searches),
 * skipped by `creates` (also a free-form `creates=` word) and `removes`, a failing script, and
 * check mode with and without `creates`. Each task's status and message, the registered results
 * key by key, and the files the scripts wrote.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { filesOf, refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";
import { shownValues } from "./registered-values.js";

const TASKS = `
    - name: with arguments from chdir
      script: show.sh a "b c"
      args: { chdir: "{{ root }}" }
      register: with_args
    - name: through an executable
      script: write_utf16.py "{{ root }}/utf16.txt"
      args: { executable: "{{ ansible_facts.python.executable }}" }
      register: through_python
    - name: the file it wrote
      wait_for: { path: "{{ root }}/utf16.txt", search_regex: completed, timeout: 5 }
    - name: creates as a word
      script: show.sh creates={{ root }}
      register: created
    - name: removes
      script: show.sh
      args: { removes: "{{ root }}/nope" }
      register: removed
    - name: fails
      script: fail.sh
      register: failing
      ignore_errors: true
    - name: check mode
      script: show.sh
      check_mode: true
      register: checked
    - name: check mode with creates
      script: show.sh
      args: { creates: "{{ root }}/nope" }
      check_mode: true
      register: checked_creates
`;
const NAMES = [...TASKS.matchAll(/register: (\w+)/g)].map((m) => m[1]);
const PLAYBOOK = `
- hosts: h1
  gather_facts: true
  tasks:
${TASKS}${NAMES.map((n) => `    - debug: { var: ${n} }\n`).join("")}`;

const FILES = {
  "files/show.sh": '#!/bin/sh\necho "args: $*"\necho to stderr >&2\npwd > marker\n',
  "files/fail.sh": "#!/bin/sh\necho failing\nexit 3\n",
  "files/write_utf16.py": [
    "import sys",
    "data = 'premi\\u00e8re is first\\n'.encode('utf-16') + b'\\ncompleted\\n'",
    "with open(sys.argv[1], 'wb') as f:",
    "    f.write(data)",
    "",
  ].join("\n"),
};

/** tickless's check-mode plan (not a key of Ansible's), and the empty traceback ("NoneType: None") Ansible adds to a failed action. */
const DROP = new Set(["changes", "invocation", "exception"]);

let fixture: Awaited<ReturnType<typeof refereeFixture>>;
let theirs: Record<string, unknown>;
let theirFiles: string[];

beforeAll(async () => {
  if (!hasAnsible) return;
  fixture = await refereeFixture("tickless-compat-script-", PLAYBOOK, FILES);
  const { report, root } = fixture;
  const debugs = report.plays[0].tasks.filter((t) => t.task.action === "debug").map((t) => t.hosts.h1);
  theirs = shownValues(debugs, NAMES, root, DROP);
  theirFiles = await filesOf(root);
}, 180_000);

afterAll(async () => {
  if (fixture) await removeDir(fixture.dir);
});

describe.skipIf(!hasAnsible)("script against ansible-playbook", () => {
  test("each task's status and message, the registered results key by key, the files written", async () => {
    const ours = await ticklessRun(fixture.dir);
    expect(ticklessOutcomes(ours.results, fixture.msgTasks)).toEqual(fixture.lines);
    const shown = ours.results
      .filter((e) => e.task === "debug")
      .map((e) => e.result as Record<string, unknown>);
    const root = path.join(fixture.dir, "tickless");
    expect(shownValues(shown, NAMES, root, DROP)).toEqual(theirs);
    expect((await filesOf(root)).map((f) => f.split(root).join("<root>"))).toEqual(
      theirFiles.map((f) => f.split(path.join(fixture.dir, "ansible")).join("<root>")),
    );
    expect(theirs.with_args).toMatchObject({ rc: 0, stdout: "args: a b c\n", stderr: "to stderr\n" });
    expect(theirs.created).toMatchObject({ skipped: true, msg: "<root> exists, matching creates option" });
    expect(theirs.failing).toMatchObject({ failed: true, rc: 3, msg: "non-zero return code" });
    expect(theirs.checked).toMatchObject({
      skipped: true,
      msg: "Check mode is not supported for this task.",
    });
    expect(theirs.checked_creates).toEqual({ changed: true, failed: false });
  }, 120_000);
});
