/**
 * Roles against the referee: a small role tree (a dependency found through ansible.cfg's
 * roles_path, defaults and vars at their precedence, role params and a role's `vars:`, handlers,
 * include_role's apply (when, environment, tags on the role's tasks), templates/ and files/ of the
 * role (a template including and importing others from the role's
 * templates/ and the playbook's), tasks_from, vars_from, defaults_from and handlers_from,
 * include_role in a loop with a `when`, a role listed twice) under ansible-playbook and tickless: each task's status and
 * message, the recap and the files left must match.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadAnsibleConfig } from "../../src/config/ansible-cfg.js";
import type { EngineEvent } from "../../src/engine/events.js";
import { hasAnsible, type RefereeReport } from "../referee/ansible.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";
import { filesOf, refereeInventory, refereeOutcomes, refereeRun } from "./referee-runs.js";

const PLAYBOOK = `
- name: roles
  hosts: h1:h2
  gather_facts: false
  vars:
    play_over: play-vars
    play_wins: play-vars
  pre_tasks:
    - name: pre
      debug: { msg: "pre {{ port }} {{ vars_wins }} {{ web_port }}" }
  roles:
    - app
    - role: app
    - { role: base, base_msg: param-msg }
    - role: web
      vars: { web_msg: from-role-vars }
      web_param: p1
      when: inventory_hostname == 'h1'
    - { role: web, web_port: 81 }
  tasks:
    - name: after roles
      debug: { msg: "{{ vars_wins }} {{ port }} {{ web_msg }}" }
    - name: import another entry of a role
      import_role: { name: web, tasks_from: setup, vars_from: other }
    - name: include per item
      include_role: { name: app, tasks_from: alt }
      loop: [a, b]
      when: inventory_hostname == 'h1'
    - name: include another entry with its own defaults and handlers
      include_role: { name: web, tasks_from: ported, defaults_from: alt, handlers_from: alt }
    - name: include with keywords applied to the role's tasks
      include_role:
        name: applied
        apply:
          when: inventory_hostname == 'h2'
          environment: { APPLIED: from-apply }
          tags: [applied]
    - name: notify by the role's name
      copy: { dest: "{{ root }}/{{ inventory_hostname }}-poke", content: "poke\\n" }
      notify: "web : reload web"
    - name: set a fact over role vars
      set_fact: { vars_wins: fact }
    - name: the fact and the extra var win
      debug: { msg: "{{ vars_wins }} {{ extra_wins }}" }
`;

const TREE: Record<string, string> = {
  "ansible.cfg": "[defaults]\nroles_path = shared-roles\nretry_files_enabled = False\n",
  "inventory.yml": refereeInventory(["h1", "h2"]).replace("    h2: {}", "    h2: { inv_wins: inventory }"),
  "p.yml": PLAYBOOK,
  "shared-roles/base/defaults/main.yml": "base_msg: base-default\nport: 1000\n",
  "shared-roles/base/tasks/main.yml": `
- name: write base
  copy: { dest: "{{ root }}/{{ inventory_hostname }}-base-{{ base_msg }}", content: "{{ base_msg }} {{ port }}\\n" }
`,
  "roles/app/meta/main.yml": "dependencies:\n  - base\n",
  "roles/app/defaults/main.yml":
    "port: 8080\napp_name: app-default\ninv_wins: role-default\nplay_wins: role-default\nextra_wins: role-default\n",
  "roles/app/vars/main.yml": "vars_wins: role-vars\nplay_over: role-vars\nextra_wins: role-vars\n",
  "roles/app/tasks/main.yml": `
- name: write config
  template: { src: app.conf.j2, dest: "{{ root }}/{{ inventory_hostname }}-app.conf" }
  notify: restart app
- name: copy a file
  copy: { src: static.txt, dest: "{{ root }}/{{ inventory_hostname }}-static.txt" }
- name: precedence
  debug: { msg: "{{ port }} {{ app_name }} {{ inv_wins }} {{ play_wins }} {{ play_over }} {{ vars_wins }} {{ role_name }}" }
- include_tasks: extra.yml
`,
  "roles/app/tasks/extra.yml": `
- name: extra from the role
  copy: { src: static.txt, dest: "{{ root }}/{{ inventory_hostname }}-extra.txt" }
`,
  "roles/app/tasks/alt.yml": `
- name: alt entry
  copy: { dest: "{{ root }}/{{ inventory_hostname }}-alt-{{ item }}", content: "{{ item }} {{ app_name }} {{ port }}\\n" }
`,
  "roles/app/handlers/main.yml": `
- name: restart app
  copy: { dest: "{{ root }}/{{ inventory_hostname }}-restarted", content: "restarted {{ app_name }}\\n" }
`,
  "roles/app/templates/app.conf.j2":
    "name={{ app_name }}\nport={{ port }}\n{% include 'app-part.j2' %}\n{% from 'app-macros.j2' import line %}\n{{ line('k', port) }}\n{% include 'common.j2' %}\n",
  "roles/app/templates/app-part.j2": "part of {{ role_name }} {{ app_name }}\n",
  "roles/app/templates/app-macros.j2": "{% macro line(k, v) %}{{ k }} = {{ v }}{% endmacro %}\n",
  "templates/common.j2": "common beside the playbook {{ port }}\n",
  "roles/app/files/static.txt": "static\n",
  "roles/web/meta/main.yml":
    "allow_duplicates: true\ndependencies:\n  - { role: base, base_msg: from-web }\n",
  "roles/web/defaults/main.yml": "web_port: 80\nweb_msg: web-default\n",
  "roles/web/vars/other.yml": "web_from_vars_file: other\n",
  "roles/web/tasks/main.yml": `
- name: write web
  copy:
    dest: "{{ root }}/{{ inventory_hostname }}-web-{{ web_port }}"
    content: "{{ web_port }} {{ web_msg }} {{ web_param | default('none') }}\\n"
  notify: reload web
`,
  "roles/web/tasks/setup.yml": `
- name: setup entry
  debug: { msg: "setup {{ web_from_vars_file }} {{ web_port }}" }
`,
  "roles/web/defaults/alt.yml": "web_port: 90\n",
  "roles/applied/tasks/main.yml": `
- name: applied environment
  shell: echo "$APPLIED {{ inventory_hostname }}"
  register: applied_out
- name: applied message
  debug: { msg: "{{ applied_out.stdout }} {{ 'applied' in ansible_run_tags or 'all' in ansible_run_tags }}" }
`,
  "roles/web/tasks/ported.yml": `
- name: write ported
  copy: { dest: "{{ root }}/{{ inventory_hostname }}-ported-{{ web_port }}", content: "{{ web_msg }}\\n" }
  notify: alt handler
`,
  "roles/web/handlers/alt.yml": `
- name: alt handler
  copy: { dest: "{{ root }}/{{ inventory_hostname }}-alt-handled", content: "port {{ web_port }}\\n" }
`,
  "roles/web/handlers/main.yml": `
- name: reload web
  copy: { dest: "{{ root }}/{{ inventory_hostname }}-reloaded", content: "reloaded\\n" }
`,
  "ansible/.keep": "",
  "tickless/.keep": "",
};

/**
 * include_tasks and include_role themselves are neither shown nor counted by tickless
 * (docs/compat.md): ansible-core 2.14 counts an include_tasks as ok once per file it includes
 * (include_role: never), and either as skipped where its `when` is false.
 */
function withoutIncludes(report: RefereeReport): RefereeReport {
  const stats = structuredClone(report.stats);
  const plays = report.plays.map((p) => ({
    ...p,
    tasks: p.tasks.filter((t) => {
      if (!/include_(tasks|role)$/.test(t.task.action)) return true;
      for (const [host, r] of Object.entries(t.hosts)) {
        if (r.status === "skipped") stats[host].skipped -= 1;
        else if (t.task.action.endsWith("include_tasks")) stats[host].ok -= r.results?.length ?? 1;
      }
      return false;
    }),
  }));
  return { plays, stats };
}

/**
 * tickless's outcome lines task by task as they ran (a role's task name repeats when the role runs
 * again), each task's hosts sorted, as refereeOutcomes gives the referee's.
 */
function outcomesInOrder(events: EngineEvent[], msgTasks: Set<string>): string[] {
  const lines: string[] = [];
  let task: string[] = [];
  for (const e of events) {
    if (e.type === "task_start") {
      lines.push(...task.sort());
      task = [];
    } else if (e.type === "host_result" && e.item === undefined) {
      const msg = msgTasks.has(e.task) ? e.result.msg : "";
      task.push(`${e.task}@${e.host}: ${e.status} ${JSON.stringify(msg ?? "")}`);
    }
  }
  return [...lines, ...task.sort()];
}

let dir: string;
let referee: { rc: number; lines: string[]; msgTasks: Set<string>; stats: unknown };

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-roles-");
  await writeTree(dir, TREE);
  const { rc, report } = await refereeRun(dir, ["-e", "extra_wins=extra"]);
  const trimmed = withoutIncludes(report);
  referee = { rc, ...refereeOutcomes(trimmed), stats: trimmed.stats };
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("roles against ansible-playbook", () => {
  test("each task's status and message, the recap, the exit code and the files left", async () => {
    const cfg = await loadAnsibleConfig({}, dir);
    expect(cfg.rolesPath).toEqual([path.join(dir, "shared-roles")]);
    expect(cfg.warnings).toEqual([
      `${path.join(dir, "ansible.cfg")}:3: [defaults] retry_files_enabled is ignored: tickless has no equivalent (see docs/compat.md, "ansible.cfg")`,
    ]);
    const ours = await run({
      playbook: path.join(dir, "p.yml"),
      inventory: path.join(dir, "inventory.yml"),
      extraVars: { root: path.join(dir, "tickless"), extra_wins: "extra" },
      rolesPath: cfg.rolesPath,
    });
    const recap = ours.events.find((e) => e.type === "recap");
    expect(referee.lines.length).toBeGreaterThan(30);
    expect(referee.lines).toContain('applied : applied message@h2: ok "from-apply h2 True"');
    expect(referee.lines).toContain('applied : applied message@h1: skipped ""');
    expect(outcomesInOrder(ours.events, referee.msgTasks).join("\n")).toBe(referee.lines.join("\n"));
    expect(ours.summary.exitCode).toBe(referee.rc);
    expect(recap && "stats" in recap ? recap.stats : undefined).toEqual(referee.stats);
    expect(await filesOf(path.join(dir, "tickless"))).toEqual(await filesOf(path.join(dir, "ansible")));
    const conf = await readFile(path.join(dir, "tickless", "h1-app.conf"), "utf8");
    // Jinja drops an included template's last newline, and trim_blocks the one after the tag
    expect(conf).toContain("part of app app-defaultk = 8080\ncommon beside the playbook 8080");
  }, 60_000);
});
