/**
 * lookup(), query() and q() against the referee: one playbook (env, file, pipe, lines, template,
 * vars, first_found, the with_* plugins, wantlist, errors=, a role's files/ and templates/, no_log)
 * runs under real ansible-playbook and under tickless; each task's status and message, the recap
 * and the exit code must be the same. tickless prefixes a failure's message with the task's
 * file:line:column, which the comparison removes; Ansible reports include_role as a task, tickless
 * counts it in the recap only (docs/compat.md, known differences).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { EngineEvent } from "../../src/index.js";
import { loadPlaybook } from "../../src/index.js";
import { ansiblePlaybook, hasAnsible } from "../referee/ansible.js";
import { removeDir, run, tempDir } from "./helpers.js";

const PLAYBOOK = `- hosts: h1
  gather_facts: false
  vars:
    who: world
    n: 3
    path_var: "beside.txt"
    templated_name: "{{ path_var }}"
  tasks:
    - name: env
      debug: { msg: "[{{ lookup('env', 'TICKLESS_LOOKUP_ENV') }}]" }
    - name: env missing, default
      debug: { msg: "[{{ lookup('env', 'TICKLESS_LOOKUP_NOPE', default='dflt') }}]" }
    - name: env missing
      debug: { msg: "<{{ lookup('ansible.builtin.env', 'TICKLESS_LOOKUP_NOPE') }}>" }
    - name: env two terms joined
      debug: { msg: "{{ lookup('env', 'TICKLESS_LOOKUP_ENV', 'TICKLESS_LOOKUP_ENV') }}" }
    - name: file rstrip by default
      debug: { msg: "[{{ lookup('file', 'pad.txt') }}]" }
    - name: file lstrip, no rstrip
      debug: { msg: "[{{ lookup('file', 'pad.txt', lstrip=true, rstrip=false) }}]" }
    - name: files/ before the playbook's directory
      debug: { msg: "{{ lookup('file', 'both.txt') }}" }
    - name: file from a var whose template names it
      debug: { msg: "{{ lookup('file', templated_name) }}" }
    - name: file term holding a template
      debug: { msg: "{{ lookup('file', '{{ path_var }}') }}" }
    - name: file missing
      debug: { msg: "{{ lookup('file', 'nope.txt') }}" }
      ignore_errors: true
    - name: file missing, errors=ignore
      debug: { msg: "<{{ lookup('file', 'nope.txt', errors='ignore') }}>" }
    - name: file missing, errors=warn
      debug: { msg: "<{{ lookup('file', 'nope.txt', errors='warn') }}>" }
    - name: query of a missing file, errors=ignore
      debug: { msg: "{{ query('file', 'nope.txt', errors='ignore') | length }}" }
    - name: pipe
      debug: { msg: "[{{ lookup('pipe', 'echo one; echo two') }}]" }
    - name: pipe runs in the playbook's directory
      debug: { msg: "{{ lookup('pipe', 'cat beside.txt') }}" }
    - name: pipe failing
      debug: { msg: "{{ lookup('pipe', 'echo out; exit 3') }}" }
      ignore_errors: true
    - name: lines joined by lookup
      debug: { msg: "{{ lookup('lines', 'printf \\"a\\\\nb\\\\n\\"') }}" }
    - name: lines as a list
      debug: { msg: "{{ query('lines', 'printf \\"a\\\\nb\\\\n\\"') | length }} {{ q('lines', 'printf \\"a\\\\nb\\\\n\\"') | last }}" }
    - name: lines failing
      debug: { msg: "{{ lookup('lines', 'false') }}" }
      ignore_errors: true
    - name: template
      debug: { msg: "{{ lookup('template', 'hello.j2') }}" }
    - name: template converts data
      debug: { msg: "{{ lookup('template', 'data.j2').a + 1 }} {{ lookup('template', 'data.j2') | type_debug }} {{ lookup('template', 'data.j2', convert_data=false) is string }}" }
    - name: template_vars
      debug: { msg: "{{ lookup('template', 'hello.j2', template_vars={'who': 'you'}) }}" }
    - name: template missing
      debug: { msg: "{{ lookup('template', 'nope.j2') }}" }
      ignore_errors: true
    - name: vars
      debug: { msg: "{{ lookup('vars', 'who') }} {{ lookup('vars', 'nope', default='d') }} {{ lookup('vars', 'templated_name') }}" }
    - name: vars undefined
      debug: { msg: "{{ lookup('vars', 'nope') }}" }
      ignore_errors: true
    - name: items and list
      debug: { msg: "{{ lookup('items', ['a', 'b'], 'c') }} {{ query('items', ['a', ['b']]) | length }} {{ lookup('list', ['x', 'y']) | length }}" }
    - name: wantlist
      debug: { msg: "{{ lookup('env', 'TICKLESS_LOOKUP_ENV', wantlist=true) | length }} {{ lookup('env', 'TICKLESS_LOOKUP_ENV', wantlist=true) | first }}" }
    - name: sequence, dict, indexed_items, together, nested
      debug: { msg: "{{ lookup('sequence', 'start=1 end=3') }} {{ query('dict', {'k': 'v'}) | map(attribute='key') | join }} {{ query('indexed_items', ['a', 'b']) | length }} {{ query('together', [1, 2], ['a']) | length }} {{ query('nested', [1, 2], ['a', 'b']) | length }}" }
    - name: fileglob
      debug: { msg: "{{ query('fileglob', '*.txt') | map('basename') | sort | join(',') }}" }
    - name: first_found
      debug: { msg: "{{ lookup('first_found', ['nope.txt', 'both.txt']) | basename }} {{ lookup('first_found', 'x', files=['nope.txt', 'beside.txt']) | basename }}" }
    - name: first_found nothing
      debug: { msg: "{{ lookup('first_found', ['nope.txt']) }}" }
      ignore_errors: true
    - name: first_found skip
      debug: { msg: "{{ lookup('first_found', {'files': ['nope.txt'], 'skip': true}) | length }}" }
    - name: a lookup's text is not templated again
      set_fact:
        fetched: "{{ lookup('pipe', 'printf \\"%s%s who }}\\" { {') }}"
    - name: the fact kept the braces
      debug: { msg: "{{ fetched }}" }
    - name: in a when
      debug: { msg: ran }
      when: lookup('file', 'beside.txt') == 'beside'
    - name: a file's braces stay text
      set_fact:
        braces: "{{ lookup('file', 'braces.txt') }}"
    - name: the braces
      debug: { msg: "{{ braces }}" }
    - name: with_file
      debug: { msg: "<{{ item }}>" }
      with_file: [pad.txt, beside.txt, braces.txt]
    - name: with_file missing
      debug: { msg: "{{ item }}" }
      with_file: [beside.txt, nope.txt]
      ignore_errors: true
    - name: with_lines
      debug: { msg: "{{ item }}" }
      with_lines: "printf 'x\\ny\\n'"
    - name: with_pipe failing
      debug: { msg: "{{ item }}" }
      with_pipe: "exit 4"
      ignore_errors: true
    - name: with_first_found
      debug: { msg: "{{ item | basename }}" }
      with_first_found: [nope.txt, both.txt]
    - name: with_first_found skip
      debug: { msg: "{{ item }}" }
      with_first_found: [{ files: [nope.txt], skip: true }]
    - name: with_env, with_vars, with_template
      debug: { msg: "{{ item }}" }
      with_env: [TICKLESS_LOOKUP_ENV]
    - name: with_vars
      debug: { msg: "{{ item }}" }
      with_vars: [who, n]
    - name: with_template
      debug: { msg: "{{ item }}" }
      with_template: hello.j2
    - name: include_vars with_first_found looks in vars/
      include_vars: "{{ item }}"
      with_first_found: [nope.yml, defaults.yml]
    - name: the included var
      debug: { msg: "{{ from_vars }}" }
    - name: a role
      include_role: { name: r }
    - name: a secret read under no_log
      debug: { msg: "{{ lookup('file', 'secret.txt') }}" }
      no_log: true
    - name: a failing pipe under no_log
      debug: { msg: "{{ lookup('pipe', 'echo secret-value-123 >/dev/null; exit 1') }}" }
      no_log: true
      ignore_errors: true
`;

const FILES: Record<string, string> = {
  "files/pad.txt": "  padded text  \n\n",
  "beside.txt": "beside\n",
  "files/both.txt": "in files\n",
  "both.txt": "beside both\n",
  "files/secret.txt": "secret-value-123\n",
  "braces.txt": "{{ who }}\n",
  "vars/defaults.yml": "from_vars: in vars dir\n",
  "defaults.yml": "from_vars: beside the playbook\n",
  "roles/r/files/rf.txt": "role file\n",
  "roles/r/templates/rt.j2": 'role {{ who }} {{ extra | default("none") }}\n',
  "templates/data.j2": '{"a": {{ n }}, "b": "{{ who }}"}\n',
  "templates/hello.j2": "hello {{ who }} from {{ template_path }}\n",
  "roles/r/tasks/main.yml": `- name: role file lookup
  debug: { msg: "{{ lookup('file', 'rf.txt') }}" }
- name: role template lookup
  debug: { msg: "{{ lookup('template', 'rt.j2', template_vars={'extra': 'given'}) }}" }
- name: playbook file from a role
  debug: { msg: "{{ lookup('file', 'both.txt') }}" }
`,
  "inventory.yml":
    "all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: /usr/bin/python3\n  hosts:\n    h1: {}\n",
};

/** A failure's message without tickless's location prefix, nor Ansible's "The error appears to be in" tail. */
function message(msg: unknown): string {
  return String(msg)
    .replace(/^\/\S+:\d+:\d+: /, "")
    .replace(
      /^The task includes an option with an undefined variable\. The error was: (.*?)\. \1\n[\s\S]*$/,
      "$1",
    );
}

/** A task's status and message, and each loop item's. */
function line(task: string, status: string, r: Record<string, any>): string {
  const items = ((r.results ?? []) as Record<string, unknown>[]).map(
    (i) => `\n  ${i.item} ${message(i.msg)}`,
  );
  return `${task}: ${status} ${message(r.msg)}${items.join("")}`;
}

let dir: string;
let referee: { rc: number; tasks: string[]; stats: unknown; raw: string };

beforeAll(async () => {
  if (!hasAnsible) return;
  process.env.TICKLESS_LOOKUP_ENV = "val";
  dir = await tempDir("tickless-compat-lookups-");
  for (const [file, text] of Object.entries(FILES)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  await writeFile(path.join(dir, "lookups.yml"), PLAYBOOK);
  const { rc, report } = await ansiblePlaybook(
    ["-i", path.join(dir, "inventory.yml"), path.join(dir, "lookups.yml")],
    dir,
  );
  const tasks: string[] = [];
  for (const p of report.plays)
    for (const t of p.tasks) {
      if (t.task.action === "include_role") continue;
      for (const r of Object.values(t.hosts)) tasks.push(line(t.task.name, r.status, r));
    }
  referee = { rc, tasks, stats: report.stats, raw: JSON.stringify(report) };
}, 120_000);

afterAll(async () => {
  delete process.env.TICKLESS_LOOKUP_ENV;
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("lookup plugins against ansible-playbook", () => {
  let events: EngineEvent[];
  let rc: number;
  beforeAll(async () => {
    const ours = await run({
      playbook: path.join(dir, "lookups.yml"),
      inventory: path.join(dir, "inventory.yml"),
    });
    events = ours.events;
    rc = ours.summary.exitCode;
  }, 60_000);

  test("every task's status and message, the recap and the exit code", () => {
    const tasks = events.flatMap((e) =>
      e.type === "host_result" && e.item === undefined
        ? [line(e.task, e.status, e.result as Record<string, unknown>)]
        : [],
    );
    expect(tasks.join("\n")).toBe(referee.tasks.join("\n"));
    expect(events.find((e) => e.type === "recap")).toMatchObject({ stats: referee.stats });
    expect(rc).toBe(referee.rc);
  });

  test("errors='warn' warns with Ansible's words", () => {
    const warnings = events.flatMap((e) => (e.type === "warning" ? [e.message] : []));
    expect(warnings).toContain(
      "An unhandled exception occurred while running the lookup plugin 'file'. Error was a <class 'ansible.errors.AnsibleError'>, original message: could not locate file in lookup: nope.txt",
    );
  });

  test("a secret a lookup read under no_log reaches no event, in either tool", () => {
    expect(referee.raw).not.toContain("secret-value-123");
    expect(JSON.stringify(events)).not.toContain("secret-value-123");
  });
});

describe.skipIf(!hasAnsible)("a lookup plugin tickless does not run", () => {
  const UNKNOWN = `- hosts: h1
  gather_facts: false
  tasks:
    - name: first
      debug: { msg: before }
    - name: unknown plugin
      debug: { msg: "{{ lookup('nope_plugin', 'x') }}" }
`;

  test("Ansible fails the task; tickless refuses the playbook when it loads, at file:line, with a hint", async () => {
    await writeFile(path.join(dir, "unknown.yml"), UNKNOWN);
    const { report } = await ansiblePlaybook(
      ["-i", path.join(dir, "inventory.yml"), path.join(dir, "unknown.yml")],
      dir,
    );
    const failed = report.plays[0].tasks[1].hosts.h1;
    expect(failed.status).toBe("failed");
    expect(failed.msg).toContain("lookup plugin (nope_plugin) not found");
    const err = await loadPlaybook(path.join(dir, "unknown.yml")).catch((e) => e);
    expect(err.code).toBe("EXPRESSION");
    expect(err.message).toContain('the lookup plugin "nope_plugin" is not supported');
    expect(err.location).toMatchObject({ file: path.join(dir, "unknown.yml"), line: 7 });
    expect(err.hint).toMatch(/tickless runs the lookup plugins .*env, file, .*pipe/);
  }, 60_000);
});
