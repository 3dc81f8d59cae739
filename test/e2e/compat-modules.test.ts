/**
 * ping, pause, tempfile and include_vars (and set_fact in a loop) against the referee: the same playbook under
 * ansible-playbook and tickless, for real and in check mode; each task's status and result fields
 * (temp names and times masked), the recap and the exit code must be the same.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1:h2
  gather_facts: false
  vars: { a: play, b: play }
  tasks:
    - name: ping
      ping:
    - name: ping data
      ping: { data: hello }
    - name: ping crash
      ping: { data: crash }
      ignore_errors: true
    - name: pause once for the batch
      pause: { seconds: 1 }
      register: paused
    - name: only the first host has the pause's result
      debug: { msg: "paused" }
      when: paused is defined
    - name: set_fact before include_vars
      set_fact: { c: fact }
    - name: include_vars free form
      include_vars: v.yml
    - name: include_vars over task vars, under set_fact
      debug: { msg: "{{ a }} {{ b }} {{ c }}" }
      vars: { a: task }
    - name: include_vars under a name
      include_vars: { file: v.yml, name: scoped }
    - name: the named variable
      debug: { msg: "{{ scoped.b }} {{ scoped.c }}" }
    - name: include_vars of a missing file
      include_vars: nope.yml
      ignore_errors: true
    - name: include_vars of a list
      include_vars: { file: list.yml }
      ignore_errors: true
    - name: include_vars of an empty file
      include_vars: { file: empty.yml }
    - name: include_vars of a directory
      include_vars: { dir: confs }
      ignore_errors: true
    - name: include_vars of a directory, known extensions only
      include_vars: { dir: confs, ignore_unknown_extensions: true, files_matching: "^[a-y]" }
    - name: include_vars of a directory, one level, yml only
      include_vars: { dir: confs, depth: 1, extensions: [yml], ignore_unknown_extensions: true, ignore_files: [b.yml] }
    - name: what the directories loaded
      debug: { msg: "{{ x }} {{ y }} {{ z }} {{ deep }}" }
    - name: set_fact in a loop
      set_fact: { looped: "{{ item }}" }
      loop: [first, last]
    - name: include_vars in a loop
      include_vars: "{{ item }}"
      loop: [one.yml, two.yml]
    - name: the loops' variables, the last item winning
      debug: { msg: "{{ looped }} {{ l1 }} {{ l2 }}" }
    - name: include_vars of a missing directory
      include_vars: { dir: nowhere }
      ignore_errors: true
    - name: tempfile
      tempfile: { path: "{{ root }}", suffix: .conf }
      register: t1
    - name: tempfile directory
      tempfile: { path: "{{ root }}", state: directory, prefix: build- }
    - name: tempfile in a missing directory
      tempfile: { path: "{{ root }}/missing" }
      ignore_errors: true
    - name: the temp file is there
      command: test -f "{{ t1.path }}"
      when: not ansible_check_mode
`;

const FIELDS = [
  "msg",
  "message",
  "ping",
  "rc",
  "module_stderr",
  "path",
  "mode",
  "state",
  "owner",
  "size",
  "ansible_facts",
  "ansible_included_var_files",
  "stdout",
  "delta",
  "echo",
  "user_input",
] as const;

let dir: string;
const referee: Record<string, { rc: number; tasks: string[]; stats: unknown }> = {};

/**
 * `name@host: status {fields}` with the run's directories, temp names, durations and the lines of
 * a Python traceback above its last masked; a command's status only.
 */
function line(name: string, host: string, status: string, r: Record<string, unknown>, root: string): string {
  if (name === "the temp file is there") return `${name}@${host}: ${status}`;
  const fields = Object.fromEntries(FIELDS.filter((f) => r[f] !== undefined).map((f) => [f, r[f]]));
  if (typeof fields.module_stderr === "string")
    fields.module_stderr = fields.module_stderr.trim().split("\n").pop();
  const text = JSON.stringify(fields)
    .split(root)
    .join("<root>")
    .split(dir)
    .join("<dir>")
    .replace(/(ansible\.|build-)[a-z0-9_]{8}/g, "$1XXXXXXXX")
    .replace(/Paused for [\d.]+/, "Paused for N");
  return `${name}@${host}: ${status} ${text}`;
}

function sorted(lines: [string, string][]): string[] {
  const byTask = new Map<string, string[]>();
  for (const [task, l] of lines) byTask.set(task, [...(byTask.get(task) ?? []), l]);
  return [...byTask.values()].flatMap((l) => l.sort());
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-modules-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1", "h2"]),
    "p.yml": PLAYBOOK,
    "vars/v.yml": "a: inc\nb: inc\nc: inc\n",
    "list.yml": "- 1\n",
    "vars/one.yml": "l1: one\n",
    "vars/two.yml": "l1: two\nl2: two\n",
    "empty.yml": "",
    "confs/a.yml": "x: 1\n",
    "confs/b.yml": "x: 2\ny: 2\n",
    "confs/c.json": '{"z": 3}\n',
    "confs/zz.txt": "not: loaded\n",
    "confs/sub/d.yaml": "deep: 4\n",
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  for (const check of [false, true]) {
    const { rc, report } = await refereeRun(dir, check ? ["--check"] : []);
    const root = path.join(dir, "ansible");
    const tasks = sorted(
      report.plays.flatMap((p) =>
        p.tasks.flatMap((t) =>
          Object.entries(t.hosts).map(
            ([h, r]) => [t.task.name, line(t.task.name, h, r.status, r, root)] as [string, string],
          ),
        ),
      ),
    );
    referee[check ? "check" : "real"] = { rc, tasks, stats: report.stats };
  }
}, 180_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("ping, pause, tempfile and include_vars against ansible-playbook", () => {
  test.each(["real", "check"])(
    "%s run: each task's status and result fields, the recap and the exit code",
    async (mode) => {
      const ours = await ticklessRun(dir, mode === "check");
      const tasks = sorted(
        ours.results.map((e) => [
          e.task,
          line(e.task, e.host, e.status, e.result as Record<string, unknown>, ours.root),
        ]),
      );
      expect(referee[mode].tasks.length).toBeGreaterThan(30);
      expect(tasks.join("\n")).toBe(referee[mode].tasks.join("\n"));
      expect(ours.summary.exitCode).toBe(referee[mode].rc);
      expect(ours.stats).toEqual(referee[mode].stats);
    },
    60_000,
  );
});
