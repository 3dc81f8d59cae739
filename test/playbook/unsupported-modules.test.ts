import path from "node:path";
import { describe, expect, it } from "vitest";
import { defaultRegistry } from "../../src/modules/registry.js";
import { validatePlaybook } from "../../src/playbook/index.js";
import { removeDir, testdir } from "../support/fs.js";

describe("Ansible modules tickless leaves out", () => {
  it.each([
    ["ansible.builtin.zypper: { name: redis, state: present }", /tickless has apt and dnf .* only/],
    ["pacman: { name: redis }", /tickless has apt and dnf .* only/],
  ])("%s is refused at load time, located, with what to write instead", async (task, hint) => {
    const dir = await testdir({ "p.yml": `- hosts: all\n  tasks:\n    - name: t\n      ${task}\n` });
    const result = await validatePlaybook(path.join(dir, "p.yml"), { registry: defaultRegistry() });
    await removeDir(dir);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ code: "UNKNOWN_MODULE", location: { line: 4 } });
    expect(result.errors[0].hint).toMatch(hint);
  });

  it.each([
    "user: { name: app, generate_ssh_key: true }",
    "user: { name: app, expires: 1 }",
    "user: { name: app, password_lock: true }",
    "user: { name: app, local: true }",
  ])("user's options tickless does not run are refused at load time, located: %s", async (task) => {
    const dir = await testdir({ "p.yml": `- hosts: all\n  tasks:\n    - name: t\n      ${task}\n` });
    const result = await validatePlaybook(path.join(dir, "p.yml"), { registry: defaultRegistry() });
    await removeDir(dir);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ code: "MODULE_ARGS", location: { line: 4 } });
    expect(result.errors[0].message).toMatch(/unknown argument "\w+" for module user/);
  });
});
