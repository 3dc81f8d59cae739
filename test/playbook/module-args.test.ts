import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { defaultRegistry } from "../../src/modules/registry.js";
import { loadPlaybook, validateModuleArgs, validatePlaybook, writtenArgs } from "../../src/playbook/index.js";
import type { Task } from "../../src/playbook/types.js";
import { testdir } from "../support/fs.js";
import { testCommand, testCopy, testRegistry } from "./helpers.js";

const here = { file: "p.yml", line: 3, column: 7 };

describe("module args", () => {
  test("free-form text goes into the module's freeForm key; declared k=v words come out", () => {
    expect(writtenArgs(testCommand, "ls -l creates='/a b' chdir=/tmp", { chdir: "/srv" }, here).args).toEqual(
      {
        cmd: "ls -l",
        creates: "/a b",
        chdir: "/tmp",
      },
    );
    expect(writtenArgs(testCommand, { cmd: "id" }, undefined, here).args).toEqual({ cmd: "id" });
  });

  test("k=v shorthand is shell-quoted and coerced to the schema's types", () => {
    const { args, errors } = writtenArgs(
      testCopy,
      "dest=/x content='a b' backup=yes mode=0644",
      undefined,
      here,
    );
    expect(errors).toEqual([]);
    expect(args).toEqual({ dest: "/x", content: "a b", backup: true, mode: "0644" });
  });

  test("a list where a mapping is expected is a located MODULE_ARGS error", () => {
    const { errors } = writtenArgs(testCopy, ["dest=/x"], undefined, here);
    expect(errors[0]).toMatchObject({ code: "MODULE_ARGS", location: here });
  });

  test("validateModuleArgs checks rendered values and locates them with the task's locs", () => {
    expect(() => validateModuleArgs(testCopy, { dest: "/x", backup: true })).not.toThrow();
    const locs = { "args.backup": { file: "p.yml", line: 5, column: 17 } };
    expect(() => validateModuleArgs(testCopy, { dest: "/x", backup: "yes please" }, here, locs)).toThrowError(
      expect.objectContaining({ code: "MODULE_ARGS", location: locs["args.backup"] }),
    );
    expect(() => validateModuleArgs(testCopy, { dest: "/x", backup: "{{ b }}" }, here)).toThrowError(
      expect.objectContaining({ code: "MODULE_ARGS", location: here }),
    );
  });

  test("at load time a {{ template }} stands for any type; concrete values are still checked", async () => {
    const dir = await testdir({
      "p.yml":
        '- hosts: all\n  tasks:\n    - copy: { dest: /x, backup: "{{ b }}", state: "{{ s }}" }\n    - copy: { dest: /x, backup: 3 }\n',
    });
    const result = await validatePlaybook(join(dir, "p.yml"), { registry: testRegistry() });
    expect(result.errors.map((e) => [e.code, e.location?.line])).toEqual([["MODULE_ARGS", 4]]);
  });

  test("the built-in registry resolves modules and aliases", async () => {
    const dir = await testdir({
      "p.yml": [
        "- hosts: all",
        "  tasks:",
        "    - ansible.builtin.command: uptime",
        "    - shell: echo $HOME | wc -c",
        "    - debug: { msg: hi }",
        "    - meta: flush_handlers",
        "    - sysctl: { name: vm.swappiness, value: '1' }",
        "    - set_fact: { a: 1 }",
        "",
      ].join("\n"),
    });
    const pb = await loadPlaybook(join(dir, "p.yml"), { registry: defaultRegistry() });
    const tasks = pb.plays[0].tasks as Task[];
    expect(tasks.map((t) => t.module)).toEqual(["command", "shell", "debug", "meta", "sysctl", "set_fact"]);
    expect(tasks[1].args).toMatchObject({ cmd: "echo $HOME | wc -c" });
    expect(tasks[3].args).toEqual({ action: "flush_handlers" });
  });

  test("the built-in registry's schemas reject bad args with did-you-mean", async () => {
    const dir = await testdir({
      "p.yml": "- hosts: all\n  tasks:\n    - shell: { cmd: id, chdri: /tmp }\n",
    });
    const result = await validatePlaybook(join(dir, "p.yml"));
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({
      code: "MODULE_ARGS",
      location: { line: 3, column: 25 },
      hint: 'did you mean "chdir"?',
    });
  });
});
