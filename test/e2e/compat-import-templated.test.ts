/**
 * import_role and import_tasks whose name is a template (and a role of `roles:` and a role's
 * dependency, with the play's variables), against the referee: rendered as the
 * playbook loads with the play's vars, vars_files, the defaults and vars of the play's roles, a
 * block's and the task's vars, extra vars and an import_playbook's vars (under the imported play's
 * own while it loads, over them once it runs; its file named by them too); in a file included at run time, with the include's
 * vars and loop variable but not a fact (the include fails on the host, in both); a name using a
 * variable known only per host (an inventory var) or not at all is refused before anything runs,
 * by both.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PlaybookErrors } from "../../src/playbook/index.js";
import { ANSIBLE_PLAYBOOK, hasAnsible, type RefereeReport, refereeEnv } from "../referee/ansible.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";
import { refereeRun } from "./referee-runs.js";

const PLAYBOOK = `
- name: templated imports
  hosts: h1
  gather_facts: false
  vars: { pv: ra, tf: other, tasks_file: tasks.yml, shared: play, dep_role: ra }
  vars_files: [vf.yml]
  roles:
    - rb
    - role: "{{ vf_role }}"
  tasks:
    - name: from play vars
      import_role: { name: "{{ pv }}" }
    - name: from vars_files
      import_role: { name: "{{ vf_role }}" }
    - name: from extra vars
      import_role: "name={{ ev_role }}"
    - name: tasks_from
      import_role: { name: ra, tasks_from: "{{ tf }}" }
    - name: from the defaults of a play role
      import_role: { name: "{{ rb_default }}", tasks_from: "{{ tf }}" }
    - name: from the task's vars
      import_role: { role: "{{ tv }}" }
      vars: { tv: rd }
    - block:
        - name: from a block's vars
          import_role: { name: "{{ bv }}" }
      vars: { bv: rd }
    - name: import_tasks from play vars
      import_tasks: "{{ tasks_file }}"
    - import_tasks: "{{ ev_tasks }}"
      vars: { marker: from-extra }
- import_playbook: "{{ stem }}.yml"
  vars: { ip_role: rd, shared: import, stem: needing }
`;

const NEEDING = `
- hosts: h1
  gather_facts: false
  vars: { shared: own }
  tasks:
    - name: from the import's vars
      import_role: { name: "{{ ip_role }}" }
    - name: the play's own vars win while it loads
      import_role: { name: "{{ 'ra' if shared == 'own' else 'rd' }}" }
    - name: the import's win once it runs
      debug: { msg: "{{ shared }}" }
`;

const ROLE_TASK = (entry: string) => `
- name: shown
  debug: { msg: "{{ role_name }} ${entry} {{ marker | default('') }}" }
`;

const TREE: Record<string, string> = {
  "p.yml": PLAYBOOK,
  "needing.yml": NEEDING,
  "vf.yml": "vf_role: rd\n",
  "tasks.yml": `
- name: imported task
  debug: { msg: "tasks.yml {{ marker | default('none') }}" }
`,
  "roles/ra/tasks/main.yml": ROLE_TASK("main"),
  "roles/ra/tasks/other.yml": ROLE_TASK("other"),
  "roles/rd/tasks/main.yml": ROLE_TASK("main"),
  "roles/rd/tasks/other.yml": ROLE_TASK("other"),
  "roles/rb/defaults/main.yml": "rb_default: rd\n",
  "roles/rb/meta/main.yml": 'dependencies: ["{{ dep_role }}"]\n',
  "roles/rb/tasks/main.yml": ROLE_TASK("main"),
};

const INVENTORY = `all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: /usr/bin/python3
  hosts:
    h1: { host_role: ra }
`;

const INCLUDED = `
- hosts: h1
  gather_facts: false
  tasks:
    - include_tasks: inc.yml
      vars: { r: rd }
    - include_tasks: inc.yml
      loop: [ra]
      loop_control: { loop_var: r }
    - name: a fact
      set_fact: { late: ra }
    - include_tasks: inc.yml
      vars: { r: "{{ late }}" }
    - name: never
      debug: { msg: never }
`;

const INC = `
- name: imported in an include
  import_role: { name: "{{ r }}" }
`;

const EXTRA = { ev_role: "ra", ev_tasks: "tasks.yml" };

/** Each result in the order it came: task, status and debug message (one host). */
function refereeLines(report: RefereeReport): string[] {
  return report.plays.flatMap((p) =>
    p.tasks.flatMap((t) => Object.values(t.hosts).map((r) => `${t.task.name}: ${r.status} ${r.msg}`)),
  );
}

let dir: string;

beforeAll(async () => {
  dir = await tempDir("tickless-compat-import-templated-");
  await writeTree(dir, { ...TREE, "inventory.yml": INVENTORY, "ansible/.keep": "", "tickless/.keep": "" });
}, 60_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("templated import_role and import_tasks against ansible-playbook", () => {
  test("each task's role, entry and message, the recap, the exit code", async () => {
    const extra = Object.entries(EXTRA).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const { rc, report } = await refereeRun(dir, extra);
    const ours = await run({
      playbook: path.join(dir, "p.yml"),
      inventory: path.join(dir, "inventory.yml"),
      extraVars: { root: path.join(dir, "tickless"), ...EXTRA },
    });
    const lines = ours.results.map((r) => `${r.task}: ${r.status} ${r.result.msg}`);
    const expected = refereeLines(report);
    expect(expected).toEqual([
      "ra : shown: ok ra main ",
      "rb : shown: ok rb main ",
      "rd : shown: ok rd main ",
      "ra : shown: ok ra main ",
      "rd : shown: ok rd main ",
      "ra : shown: ok ra main ",
      "ra : shown: ok ra other ",
      "rd : shown: ok rd other ",
      "rd : shown: ok rd main ",
      "rd : shown: ok rd main ",
      "imported task: ok tasks.yml none",
      "imported task: ok tasks.yml from-extra",
      "rd : shown: ok rd main ",
      "ra : shown: ok ra main ",
      "the import's win once it runs: ok import",
    ]);
    expect(lines).toEqual(expected);
    expect(ours.summary.exitCode).toBe(rc);
    const recap = ours.events.find((e) => e.type === "recap");
    expect(recap && "stats" in recap ? recap.stats : undefined).toEqual(report.stats);
  }, 120_000);

  test("an import in a file included at run time: the include's vars and loop variable, not a fact", async () => {
    await writeTree(dir, { "included.yml": INCLUDED, "inc.yml": INC });
    const { rc, report } = await (async () => {
      const res = await promisify(execFile)(ANSIBLE_PLAYBOOK, ["-i", "inventory.yml", "included.yml"], {
        env: refereeEnv(),
        cwd: dir,
      }).catch((e) => e);
      const out: string = res.stdout;
      return { rc: res.code ?? 0, report: JSON.parse(out.slice(out.indexOf("{"))) as RefereeReport };
    })();
    const ours = await run({
      playbook: path.join(dir, "included.yml"),
      inventory: path.join(dir, "inventory.yml"),
    });
    const notInclude = (l: string) => !l.startsWith("include_tasks");
    const expected = refereeLines(report).filter(notInclude);
    expect(expected).toEqual(["rd : shown: ok rd main ", "ra : shown: ok ra main ", "a fact: ok undefined"]);
    const lines = ours.results.map((r) => `${r.task}: ${r.status} ${r.result.msg}`).filter(notInclude);
    expect(lines).toEqual(expected);
    expect(rc).toBe(2);
    expect(ours.summary.exitCode).toBe(rc);
    const recap = ours.events.find((e) => e.type === "recap");
    expect(report.stats.h1.failed).toBe(1);
    expect(recap && "stats" in recap ? recap.stats.h1.failed : undefined).toBe(1);
    const failed = ours.results.find((r) => r.status === "failed");
    expect(failed?.result.msg).toContain(
      `inc.yml:3:24: import_role's name "{{ r }}" is rendered when the included file loads, and 'late' is undefined`,
    );
  }, 120_000);

  const refused: [string, string, string][] = [
    ["an undefined name", 'import_role: { name: "{{ nope }}" }', "nope"],
    ["an inventory var", 'import_role: { name: "{{ host_role }}" }', "host_role"],
    ["an undefined tasks_from", 'import_role: { name: ra, tasks_from: "{{ nope }}" }', "nope"],
    ["an undefined import_tasks file", 'import_tasks: "{{ nope }}.yml"', "nope"],
  ];
  test.each(refused)(
    "%s is refused as the playbook loads, by both",
    async (_, task, name) => {
      const file = `refused-${name}-${task.startsWith("import_tasks") ? "tasks" : "role"}.yml`;
      const playbook = `- hosts: h1\n  gather_facts: false\n  tasks:\n    - debug: { msg: never }\n    - ${task}\n`;
      await writeTree(dir, { [file]: playbook });
      const res = await promisify(execFile)(ANSIBLE_PLAYBOOK, ["-i", "inventory.yml", file], {
        env: refereeEnv(),
        cwd: dir,
      }).catch((e) => e);
      expect(res.code).toBeGreaterThan(0);
      expect(res.stderr).toMatch(
        task.startsWith("import_tasks") ? /import path: \{\{ nope \}\}/ : `'${name}' is undefined`,
      );
      expect(res.stdout).not.toContain("never");

      const events: string[] = [];
      const err = await run({
        playbook: path.join(dir, file),
        inventory: path.join(dir, "inventory.yml"),
        onEvent: (e) => events.push(e.type),
      }).catch((e) => e);
      expect(err).toBeInstanceOf(PlaybookErrors);
      expect(events).toEqual([]);
      expect(err.location).toMatchObject({ file: path.join(dir, file), line: 5 });
      expect(err.location.column).toBeGreaterThan(6);
      expect(err.message).toContain(`'${name}' is undefined`);
      expect(err.message).toContain("rendered when the playbook loads");
      expect(err.hint).toMatch(/define "\w+".*-e.*or use include_(role|tasks)/);
    },
    60_000,
  );

  test("import_playbook of an undefined variable is refused as the playbook loads, by both", async () => {
    await writeTree(dir, { "refused-playbook.yml": '- import_playbook: "{{ nope }}.yml"\n' });
    const res = await promisify(execFile)(ANSIBLE_PLAYBOOK, ["-i", "inventory.yml", "refused-playbook.yml"], {
      env: refereeEnv(),
      cwd: dir,
    }).catch((e) => e);
    expect(res.code).toBeGreaterThan(0);
    expect(res.stderr).toContain("'nope' is undefined");
    const err = await run({
      playbook: path.join(dir, "refused-playbook.yml"),
      inventory: path.join(dir, "inventory.yml"),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(PlaybookErrors);
    expect(err.location).toMatchObject({ file: path.join(dir, "refused-playbook.yml"), line: 1, column: 20 });
    expect(err.message).toBe(
      `import_playbook's file "{{ nope }}.yml" is rendered when the playbook loads, and 'nope' is undefined`,
    );
    expect(err.hint).toBe('define "nope" in the import_playbook\'s vars or with -e');
  }, 60_000);
});
