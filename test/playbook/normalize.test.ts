import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadPlaybook, loadTaskFile, validatePlaybook } from "../../src/playbook/index.js";
import type { Block, Include, Task } from "../../src/playbook/types.js";
import { testdir } from "../support/fs.js";
import { testRegistry } from "./helpers.js";

const PLAYBOOK = `- name: every keyword
  hosts: [web, db]
  vars:
    mode: 0644
    enabled: yes
    letter: y
    when_text: on
  vars_files: [vars/common.yml]
  gather_facts: no
  become: true
  become_user: root
  serial: [1, "30%"]
  strategy: free
  max_fail_percentage: 25
  any_errors_fatal: true
  tags: setup, tuning
  environment: { LANG: C, RETRIES: 3 }
  no_log: false
  pre_tasks:
    - debug: msg=start
  tasks:
    - name: run it
      command: echo hi creates=/tmp/x
      args: { chdir: /tmp }
      when: ansible_os_family == "Debian"
      register: out
      notify: restart app
      changed_when: out.rc == 0
      failed_when: [out.rc > 1, false]
      ignore_errors: true
      tags: [a, 1]
      check_mode: false
      diff: true
      retries: 3
      until: out.rc == 0
      delay: 2
      no_log: true
      vars: { x: 1 }
      environment: { PATH: /bin }
      run_once: true
      become: false
      become_user: app
      verify: out.rc == 0
    - copy: dest=/etc/app.conf content="a b" backup=yes mode=0644
      loop: "{{ files }}"
      loop_control: { label: "{{ item.name }}", loop_var: f }
      verify: [a == 1, b == 2]
    - ansible.builtin.copy:
        dest: /x
        mode: 0600
      with_items: [1, 2]
      notify: [restart app, reload]
      verify: { that: c == 3, command: test -f /x }
    - name: guarded
      block:
        - debug: { msg: inside }
      rescue:
        - debug: { msg: rescued }
      always:
        - debug: { msg: always }
      when: [a, b]
      tags: blk
    - include_tasks: { file: "inc/{{ kind }}.yml" }
      loop: [a, b]
      loop_control: { loop_var: kind }
    - import_tasks: inc/imported.yml
    - import_tasks: inc/imported.yml
      when: x == 1
      tags: imp
  post_tasks:
    - debug: { var: out }
  handlers:
    - name: restart app
      command: systemctl restart app
    - name: reloader
      listen: reload
      command: systemctl reload app
- import_playbook: sub/other.yml
  vars: { from_import: 1 }
  tags: [imported]
`;

async function fixture() {
  return testdir({
    "site.yml": PLAYBOOK,
    "vars/common.yml": "a: 1\n",
    "inc/imported.yml": "- name: imported one\n  debug: { msg: imported }\n- import_tasks: nested.yml\n",
    "inc/nested.yml": "- name: nested\n  command: uptime\n",
    "sub/other.yml": "- hosts: all\n  vars_files: [v.yml]\n  tasks:\n    - command: id\n",
    "sub/v.yml": "b: 2\n",
  });
}

describe("normalize", () => {
  test("a playbook using every keyword resolves as expected", async () => {
    const dir = await fixture();
    const pb = await loadPlaybook(join(dir, "site.yml"), { registry: testRegistry() });
    expect(pb.file).toBe(join(dir, "site.yml"));
    expect(pb.dir).toBe(dir);
    expect(pb.plays).toHaveLength(2);
    const play = pb.plays[0];
    expect(play).toMatchObject({
      name: "every keyword",
      hosts: "web,db",
      vars: { mode: 0o644, enabled: true, letter: "y", when_text: true },
      varsFiles: ["vars/common.yml"],
      gatherFacts: false,
      become: true,
      becomeUser: "root",
      serial: [1, "30%"],
      strategy: "free",
      maxFailPercentage: 25,
      anyErrorsFatal: true,
      tags: ["setup", "tuning"],
      environment: { LANG: "C", RETRIES: "3" },
      noLog: false,
    });
    expect(play.loc).toEqual({ file: pb.file, line: 1, column: 3 });
    expect(play.locs.serial).toEqual({ file: pb.file, line: 12, column: 11 });
    expect(play.preTasks).toHaveLength(1);

    const [run, copy, copy2, block, include, imported, nested, importBlock] = play.tasks as [
      Task,
      Task,
      Task,
      Block,
      Include,
      Task,
      Task,
      Block,
    ];
    expect(run).toMatchObject({
      kind: "task",
      name: "run it",
      module: "command",
      args: { cmd: "echo hi", creates: "/tmp/x", chdir: "/tmp" },
      when: ['ansible_os_family == "Debian"'],
      register: "out",
      notify: ["restart app"],
      changedWhen: ["out.rc == 0"],
      failedWhen: ["out.rc > 1", "false"],
      ignoreErrors: true,
      tags: ["a", "1"],
      checkMode: false,
      diff: true,
      retries: 3,
      until: "out.rc == 0",
      delay: 2,
      noLog: true,
      vars: { x: 1 },
      environment: { PATH: "/bin" },
      runOnce: true,
      become: false,
      becomeUser: "app",
      verify: { that: ["out.rc == 0"] },
      loopVar: "item",
      listen: [],
    });
    expect(run.loc).toEqual({ file: pb.file, line: 22, column: 7 });
    expect(run.locs.when).toEqual({ file: pb.file, line: 25, column: 13 });
    expect(run.locs["args.chdir"]).toEqual({ file: pb.file, line: 24, column: 22 });
    expect(run.locs["args.cmd"]).toEqual({ file: pb.file, line: 23, column: 16 });

    expect(copy).toMatchObject({
      module: "copy",
      args: { dest: "/etc/app.conf", content: "a b", backup: true, mode: "0644" },
      loop: "{{ files }}",
      loopVar: "f",
      loopLabel: "{{ item.name }}",
      verify: { that: ["a == 1", "b == 2"] },
      notify: [],
      when: [],
    });
    expect(copy2).toMatchObject({
      module: "copy",
      args: { dest: "/x", mode: 0o600 },
      loop: [1, 2],
      notify: ["restart app", "reload"],
      verify: { that: ["c == 3"], command: "test -f /x" },
    });
    expect(copy2.locs["args.mode"]).toEqual({ file: pb.file, line: 50, column: 15 });

    expect(block.kind).toBe("block");
    expect(block.when).toEqual(["a", "b"]);
    expect(block.tags).toEqual(["blk"]);
    expect(block.block.map((t) => (t as Task).args.msg)).toEqual(["inside"]);
    expect(block.rescue.map((t) => (t as Task).args.msg)).toEqual(["rescued"]);
    expect(block.always.map((t) => (t as Task).args.msg)).toEqual(["always"]);

    expect(include).toMatchObject({
      kind: "include",
      file: "inc/{{ kind }}.yml",
      baseDir: dir,
      loop: ["a", "b"],
    });
    expect(include.loopVar).toBe("kind");

    expect(imported).toMatchObject({ kind: "task", name: "imported one", module: "debug" });
    expect(imported.loc).toEqual({ file: join(dir, "inc/imported.yml"), line: 1, column: 3 });
    expect(nested).toMatchObject({ name: "nested", module: "command", args: { cmd: "uptime" } });
    expect(nested.loc.file).toBe(join(dir, "inc/nested.yml"));
    expect(importBlock).toMatchObject({
      kind: "block",
      when: ["x == 1"],
      tags: ["imp"],
      rescue: [],
      always: [],
    });
    expect(importBlock.block).toHaveLength(2);

    expect(play.postTasks).toHaveLength(1);
    expect(play.handlers.map((h) => [h.name, h.listen])).toEqual([
      ["restart app", []],
      ["reloader", ["reload"]],
    ]);

    const other = pb.plays[1];
    expect(other).toMatchObject({
      hosts: "all",
      name: "all",
      vars: { from_import: 1 },
      tags: ["imported"],
      varsFiles: [join(dir, "sub/v.yml")],
      gatherFacts: true,
      serial: [],
      strategy: "linear",
      anyErrorsFatal: false,
    });
    expect(other.tasks[0].loc.file).toBe(join(dir, "sub/other.yml"));
  });

  test("validatePlaybook returns the playbook, no errors, and warnings", async () => {
    const dir = await testdir({
      "p.yml":
        "- hosts: all\n  tasks:\n    - command: id\n  handlers:\n    - name: lonely\n      command: id\n",
    });
    const result = await validatePlaybook(join(dir, "p.yml"), { registry: testRegistry() });
    expect(result.errors).toEqual([]);
    expect(result.playbook?.plays).toHaveLength(1);
    expect(result.warnings).toEqual([`${join(dir, "p.yml")}:5:7: handler "lonely" is never notified`]);
  });

  test("loadTaskFile loads an include_tasks file and inlines its imports", async () => {
    const dir = await testdir({
      "tasks/main.yml": "- import_tasks: more.yml\n- name: last\n  shell_like: x\n",
      "tasks/more.yml": "- command: uptime\n",
      "tasks/ok.yml": "- import_tasks: more.yml\n- debug: msg=done\n",
    });
    const nodes = await loadTaskFile(join(dir, "tasks/ok.yml"), { registry: testRegistry() });
    expect(nodes.map((n) => (n as Task).module)).toEqual(["command", "debug"]);
    await expect(
      loadTaskFile(join(dir, "tasks/main.yml"), { registry: testRegistry() }),
    ).rejects.toMatchObject({
      code: "UNKNOWN_MODULE",
      location: { file: join(dir, "tasks/main.yml"), line: 3, column: 3 },
    });
  });

  test("free-form words that are not args of the module stay in the command", async () => {
    const dir = await testdir({
      "p.yml": "- hosts: all\n  tasks:\n    - command: sysctl -w vm.swappiness=1\n",
    });
    const pb = await loadPlaybook(join(dir, "p.yml"), { registry: testRegistry() });
    expect((pb.plays[0].tasks[0] as Task).args).toEqual({ cmd: "sysctl -w vm.swappiness=1" });
  });
});
