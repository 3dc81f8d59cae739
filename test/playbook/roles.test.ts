import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { formatError } from "../../src/errors.js";
import { loadPlaybook, validatePlaybook } from "../../src/playbook/index.js";
import type { Block, Task } from "../../src/playbook/types.js";
import { cli, testdir } from "../cli/helpers.js";
import { ANSIBLE_PLAYBOOK, hasAnsible } from "../referee/ansible.js";

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function tree(files: Record<string, string>) {
  const d = await testdir(files);
  cleanup = d.cleanup;
  return d;
}

const ROLE = {
  "roles/r/tasks/main.yml": "- name: r main\n  debug: { msg: main }\n",
  "roles/r/tasks/other.yml": "- name: r other\n  debug: { msg: other }\n",
  "roles/r/handlers/main.yml": "- name: r handler\n  debug: { msg: h }\n",
};

async function errorsOf(files: Record<string, string>, rolesPath: string[] = []) {
  const d = await tree(files);
  const result = await validatePlaybook(d.file("p.yml"), { rolesPath });
  return { d, errors: result.errors.map((e) => formatError(e)) };
}

describe("roles when the playbook loads", () => {
  it("checks a role's template where the template module finds it (<role>/templates), every problem of it", async () => {
    const { d, errors } = await errorsOf({
      "roles/t/tasks/main.yml": "- name: conf\n  template: { src: app.j2, dest: /tmp/x }\n",
      "roles/t/templates/app.j2": "a={{ a | nope }}\nb={{ b | upper | zap }}\n",
      "p.yml": "- hosts: all\n  roles: [t]\n",
    });
    expect(errors).toEqual([
      expect.stringMatching(
        new RegExp(`^${d.file("roles/t/templates/app.j2")}:1:6: .*unknown filter "nope"`),
      ),
      expect.stringMatching(new RegExp(`^${d.file("roles/t/templates/app.j2")}:2:6: .*unknown filter "zap"`)),
    ]);
  });

  it("runs roles after pre_tasks and before tasks; their handlers before the play's, import_role's after", async () => {
    const d = await tree({
      ...ROLE,
      "roles/s/handlers/main.yml": "- name: s handler\n  debug: { msg: s }\n",
      "p.yml": [
        "- hosts: all",
        "  pre_tasks: [{ name: pre, debug: { msg: pre } }]",
        "  roles: [r]",
        "  tasks:",
        "    - name: task",
        "      debug: { msg: t }",
        "    - import_role: { name: s }",
        "  handlers: [{ name: play handler, debug: { msg: p } }]",
      ].join("\n"),
    });
    const [play] = (await loadPlaybook(d.file("p.yml"), { rolesPath: [] })).plays;
    expect(play.preTasks.map((t) => t.name)).toEqual(["pre"]);
    const [role, task] = play.tasks as [Block, Task];
    expect(role.role?.name).toBe("r");
    expect((role.block[0] as Task).name).toBe("r main");
    expect((role.block[0] as Task).role?.dir).toBe(d.file("roles/r"));
    expect(task.name).toBe("task");
    expect(play.handlers.map((h) => h.name)).toEqual(["r handler", "play handler", "s handler"]);
    expect(play.roles.map((r) => r.name)).toEqual(["r", "s"]);
  });

  it("names a missing role with where it is written and every directory it looked in", async () => {
    const { d, errors } = await errorsOf({ "p.yml": "- hosts: all\n  roles:\n    - web\n" }, ["/srv/roles"]);
    expect(errors).toEqual([
      `${d.file("p.yml")}:3:7: role "web" not found (hint: looked in ${d.file("roles")}, /srv/roles, ${d.path} (set roles_path in ansible.cfg or ANSIBLE_ROLES_PATH for another place))`,
    ]);
  });

  it("names a missing tasks_from file, a missing dependency at its line in meta/main.yml, and a cycle", async () => {
    const missingFrom = await errorsOf({
      ...ROLE,
      "p.yml": "- hosts: all\n  tasks:\n    - include_role: { name: r, tasks_from: nope }\n",
    });
    expect(missingFrom.errors[0]).toContain("p.yml:3:21: role file not found:");
    expect(missingFrom.errors[0]).toContain("tasks/nope");
    const dep = await errorsOf({
      ...ROLE,
      "roles/r/meta/main.yml": "dependencies:\n  - role: gone\n",
      "p.yml": "- hosts: all\n  roles: [r]\n",
    });
    expect(dep.errors[0]).toContain(`${dep.d.file("roles/r/meta/main.yml")}:2:5: role "gone" not found`);
    const cycle = await errorsOf({
      ...ROLE,
      "roles/r/meta/main.yml": "dependencies: [q]\n",
      "roles/q/meta/main.yml": "dependencies: [r]\n",
      "p.yml": "- hosts: all\n  roles: [r]\n",
    });
    expect(cycle.errors[0]).toContain('role "r" depends on itself');
  });

  it("refuses what it does not run, at the key, with what to write instead", async () => {
    const { errors } = await errorsOf({
      ...ROLE,
      "p.yml": [
        "- hosts: all",
        "  roles:",
        "    - { role: r, delegate_to: db1 }",
        "  tasks:",
        "    - include_role: { name: r, apply: { become: true, delegate_to: db1 } }",
        "    - import_role: { name: '{{ which }}' }",
        "    - import_role: { name: r }",
        "      loop: [1, 2]",
        "    - import_role: { name: r, public: true }",
      ].join("\n"),
    });
    expect(errors).toHaveLength(5);
    expect(errors[0]).toMatch(
      /p\.yml:3:18: "delegate_to" on a role is not supported \(hint: delegate_to goes on each task/,
    );
    expect(errors[1]).toMatch(
      /p\.yml:5:21: include_role: apply does not take "delegate_to" \(hint: delegate_to goes on each task/,
    );
    expect(errors[2]).toMatch(
      /p\.yml:6:28: import_role's name "\{\{ which \}\}" is rendered when the playbook loads, and 'which' is undefined \(hint: define "which" .* or use include_role/,
    );
    expect(errors[3]).toMatch(/p\.yml:8:7: import_role .* cannot loop \(hint: use include_role/);
    expect(errors[4]).toMatch(/p\.yml:9:20: import_role does not take "public" \(hint: .*always the play's/);
  });

  it("takes include_role's apply keywords, and refuses apply on import_role and apply that is not a mapping", async () => {
    const ok = await errorsOf({
      ...ROLE,
      "p.yml":
        "- hosts: all\n  tasks:\n    - include_role: { name: r, apply: { tags: [x], become: true, when: a } }\n",
    });
    expect(ok.errors).toEqual([]);
    const { errors } = await errorsOf({
      ...ROLE,
      "p.yml": [
        "- hosts: all",
        "  tasks:",
        "    - import_role: { name: r, apply: { tags: [x] } }",
        "    - include_role: { name: r, apply: [tags] }",
        "    - include_role: { name: r, apply: { vars: { a: 1 } } }",
      ].join("\n"),
    });
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(
      /p\.yml:3:20: import_role does not take "apply" \(hint: import_role's own keywords/,
    );
    expect(errors[1]).toMatch(/p\.yml:4:21: include_role: apply must be a mapping of keywords/);
    expect(errors[2]).toMatch(
      /p\.yml:5:21: include_role: apply does not take "vars" \(hint: put vars: on the include_role/,
    );
  });

  it("lets a notify name a role's handler as 'role : name' and refuses an unknown one", async () => {
    const ok = await errorsOf({
      ...ROLE,
      "p.yml": "- hosts: all\n  roles: [r]\n  tasks:\n    - command: 'true'\n      notify: 'r : r handler'\n",
    });
    expect(ok.errors).toEqual([]);
    const bad = await errorsOf({
      ...ROLE,
      "p.yml": "- hosts: all\n  roles: [r]\n  tasks:\n    - command: 'true'\n      notify: 'r : nope'\n",
    });
    expect(bad.errors[0]).toContain('notify names no handler: "r : nope"');
  });

  it("--start-at-task names a role's task as 'role : name' too", async () => {
    const d = await tree({
      ...ROLE,
      "p.yml":
        "- hosts: localhost\n  gather_facts: false\n  pre_tasks: [{ name: before, debug: { msg: b } }]\n  roles: [r]\n",
    });
    const r = await cli(["run", d.file("p.yml"), "--start-at-task", "r : r main"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("TASK [before]");
    expect(r.stdout).toContain("TASK [r : r main]");
    expect(r.stderr).not.toContain("no task named");
  });

  it("tickless validate finds roles through ansible.cfg", async () => {
    const d = await tree({
      "elsewhere/r/tasks/main.yml": "- debug: { msg: hi }\n",
      "ansible.cfg": "[defaults]\nroles_path = elsewhere\n",
      "p.yml": "- hosts: all\n  roles: [r]\n",
    });
    const r = await cli(["validate", d.file("p.yml")], { env: { ANSIBLE_CONFIG: d.file("ansible.cfg") } });
    expect(r.stdout).toBe("ok: 1 play, 1 task\n");
    const bare = await cli(["validate", d.file("p.yml")], { env: {} });
    expect(bare.code).toBe(4);
    expect(bare.stdout).toContain(`${path.join(d.path, "p.yml")}:2:11: role "r" not found`);
  });
});

describe.skipIf(!hasAnsible)("a role's tags against ansible-playbook", () => {
  it("--list-tasks --tags: a role entry's tags reach its tasks and its dependency's, named 'role : task'", async () => {
    const d = await tree({
      "roles/w/tasks/main.yml": "- name: w task\n  debug: { msg: w }\n",
      "roles/w/meta/main.yml": "dependencies: [b]\n",
      "roles/b/tasks/main.yml": "- name: b task\n  debug: { msg: b }\n",
      "p.yml": [
        "- hosts: localhost",
        "  gather_facts: false",
        "  roles:",
        "    - { role: w, tags: [web] }",
        "  tasks:",
        "    - name: plain",
        "      debug: { msg: p }",
      ].join("\n"),
    });
    const args = ["p.yml", "--list-tasks", "--tags", "web"];
    const theirs = await promisify(execFile)(ANSIBLE_PLAYBOOK, args, {
      cwd: d.path,
      env: { ...process.env, ANSIBLE_ROLES_PATH: d.file("none"), ANSIBLE_NOCOLOR: "1" },
    });
    const ours = await cli(["run", d.file("p.yml"), "--list-tasks", "--tags", "web"]);
    const tasks = (text: string) =>
      text.split("\n").filter((l) => l.includes("TAGS:") && !l.includes("play #"));
    expect(tasks(ours.stdout)).toEqual(["      b : b task\tTAGS: [web]", "      w : w task\tTAGS: [web]"]);
    expect(tasks(ours.stdout)).toEqual(tasks(theirs.stdout));
  }, 60_000);
});

describe.skipIf(!hasAnsible)("import_role named by -e against ansible-playbook", () => {
  it("--list-tasks and --syntax-check render the name with -e; without it both refuse it", async () => {
    const d = await tree({
      ...ROLE,
      "p.yml": [
        "- hosts: localhost",
        "  gather_facts: false",
        "  tasks:",
        "    - import_role: { name: '{{ which }}', tasks_from: '{{ entry }}' }",
      ].join("\n"),
    });
    const env = { ...process.env, ANSIBLE_ROLES_PATH: d.file("none"), ANSIBLE_NOCOLOR: "1" };
    const given = ["-e", "which=r", "-e", "entry=other"];
    const theirs = await promisify(execFile)(ANSIBLE_PLAYBOOK, ["p.yml", "--list-tasks", ...given], {
      cwd: d.path,
      env,
    });
    const ours = await cli(["run", d.file("p.yml"), "--list-tasks", ...given]);
    const tasks = (text: string) =>
      text.split("\n").filter((l) => l.includes("TAGS:") && !l.includes("play #"));
    expect(tasks(ours.stdout)).toEqual(["      r : r other\tTAGS: []"]);
    expect(tasks(ours.stdout)).toEqual(tasks(theirs.stdout));
    expect((await cli(["run", d.file("p.yml"), "--syntax-check", ...given])).code).toBe(0);

    const refused = await promisify(execFile)(ANSIBLE_PLAYBOOK, ["p.yml", "--syntax-check"], {
      cwd: d.path,
      env,
    }).catch((e) => e);
    expect(refused.code).toBeGreaterThan(0);
    expect(refused.stderr).toContain("'which' is undefined");
    const ourRefusal = await cli(["run", d.file("p.yml"), "--syntax-check", "-e", "entry=other"]);
    expect(ourRefusal.code).toBe(4);
    expect(ourRefusal.stderr).toContain(
      `${d.file("p.yml")}:4:28: import_role's name "{{ which }}" is rendered when the playbook loads, and 'which' is undefined`,
    );
  }, 60_000);
});
