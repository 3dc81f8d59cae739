import { chmod } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { configDefaults } from "../../src/cli/run.js";
import { findAnsibleConfig, loadAnsibleConfig } from "../../src/config/ansible-cfg.js";
import { openConnection } from "../../src/connection/index.js";
import type { ConnectionSettings } from "../../src/connection/types.js";
import { runPlaybook } from "../../src/engine/run-playbook.js";
import { formatError } from "../../src/errors.js";
import { cli, testdir } from "../cli/helpers.js";

const CFG = [
  "# an Ansible user's ansible.cfg",
  "[defaults]",
  "inventory = ./hosts.yml, other.yml ; two inventories",
  "Roles_Path = roles-a:~/roles-b",
  "remote_user: deploy",
  "forks = 7",
  "host_key_checking = False",
  "timeout = 20",
  "private_key_file = keys/id",
  "gathering = smart",
  "",
  "[privilege_escalation]",
  "become = yes",
  "become_user = redis",
  "become_ask_pass = False",
  "",
  "[ssh_connection]",
  "pipelining = True",
  "",
].join("\n");

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function dir(files: Record<string, string>) {
  const d = await testdir(files);
  cleanup = d.cleanup;
  return d;
}

describe("ansible.cfg", () => {
  it("reads the settings tickless has, relative paths from the file's directory, and names every other key with file:line", async () => {
    const d = await dir({ "conf/ansible.cfg": CFG });
    const cfg = await loadAnsibleConfig(
      { ANSIBLE_CONFIG: d.file("conf/ansible.cfg"), HOME: "/home/u" },
      d.path,
    );
    const at = d.file("conf");
    expect(cfg.file).toBe(d.file("conf/ansible.cfg"));
    expect(cfg.inventory).toEqual([path.join(at, "hosts.yml"), path.join(at, "other.yml")]);
    expect(cfg.rolesPath?.[0]).toBe(path.join(at, "roles-a"));
    expect(cfg.rolesPath?.[1]).toMatch(/\/roles-b$/);
    expect(cfg).toMatchObject({
      remoteUser: "deploy",
      forks: 7,
      hostKeyChecking: false,
      timeout: 20,
      privateKeyFile: path.join(at, "keys/id"),
      become: true,
      becomeUser: "redis",
    });
    const f = d.file("conf/ansible.cfg");
    expect(cfg.warnings).toEqual([
      `${f}:10: [defaults] gathering is ignored: tickless has no equivalent (see docs/compat.md, "ansible.cfg")`,
      `${f}:15: [privilege_escalation] become_ask_pass is ignored: tickless has no equivalent (see docs/compat.md, "ansible.cfg")`,
      `${f}:18: [ssh_connection] pipelining is ignored: tickless has no equivalent (see docs/compat.md, "ansible.cfg")`,
    ]);
    expect(cfg.origins.forks).toBe(`forks = 7 (${f}:6)`);
  });

  it("is found as Ansible finds it: ANSIBLE_CONFIG (a file or a directory), then ./ansible.cfg", async () => {
    const d = await dir({
      "ansible.cfg": "[defaults]\nforks = 1\n",
      "other/ansible.cfg": "[defaults]\nforks = 2\n",
    });
    await chmod(d.path, 0o755);
    expect((await findAnsibleConfig({}, d.path)).file).toBe(d.file("ansible.cfg"));
    expect((await findAnsibleConfig({ ANSIBLE_CONFIG: "other" }, d.path)).file).toBe(
      d.file("other/ansible.cfg"),
    );
    expect((await findAnsibleConfig({ ANSIBLE_CONFIG: d.file("other/ansible.cfg") }, "/")).file).toBe(
      d.file("other/ansible.cfg"),
    );
    // an ANSIBLE_CONFIG naming nothing falls through to ./ansible.cfg, as in Ansible
    expect((await findAnsibleConfig({ ANSIBLE_CONFIG: "nowhere.cfg" }, d.path)).file).toBe(
      d.file("ansible.cfg"),
    );
  });

  it("skips ./ansible.cfg in a world-writable directory, saying so", async () => {
    const d = await dir({ "ansible.cfg": "[defaults]\nforks = 1\n" });
    await chmod(d.path, 0o777);
    const found = await findAnsibleConfig({}, d.path);
    expect(found.file).not.toBe(d.file("ansible.cfg"));
    expect(found.warnings[0]).toContain("world writable");
  });

  it("lets ANSIBLE_<KEY> variables beat the file", async () => {
    const d = await dir({ "ansible.cfg": "[defaults]\nforks = 3\nroles_path = a\n" });
    const cfg = await loadAnsibleConfig(
      { ANSIBLE_CONFIG: d.file("ansible.cfg"), ANSIBLE_FORKS: "9", ANSIBLE_ROLES_PATH: "/r1:/r2" },
      d.path,
    );
    expect(cfg.forks).toBe(9);
    expect(cfg.rolesPath).toEqual(["/r1", "/r2"]);
    expect(cfg.origins.forks).toBe("forks = 9 (env ANSIBLE_FORKS)");
  });

  it("reads [defaults] ansible_managed as written, from the file only (Ansible has no variable for it)", async () => {
    const d = await dir({
      "ansible.cfg": "[defaults]\nansible_managed = by {uid} on {host}: {file} %Y-%m-%d %% done ; a note\n",
    });
    const cfg = await loadAnsibleConfig(
      { ANSIBLE_CONFIG: d.file("ansible.cfg"), ANSIBLE_MANAGED: "from env", ANSIBLE_ANSIBLE_MANAGED: "env" },
      d.path,
    );
    expect(cfg.ansibleManaged).toBe("by {uid} on {host}: {file} %Y-%m-%d %% done");
    expect(cfg.warnings).toEqual([]);
    expect(configDefaults(cfg).ansibleManaged).toBe("by {uid} on {host}: {file} %Y-%m-%d %% done");
    expect(configDefaults({ origins: {}, sources: {}, warnings: [], ignored: [] })).not.toHaveProperty(
      "ansibleManaged",
    );
  });

  it("refuses a bad value with its file:line", async () => {
    const d = await dir({ "ansible.cfg": "[defaults]\n\nforks = many\n" });
    const err = await loadAnsibleConfig({ ANSIBLE_CONFIG: d.file("ansible.cfg") }, d.path).catch((e) => e);
    expect(formatError(err)).toContain(
      `${d.file("ansible.cfg")}:3: forks: expected a whole number of 1 or more, got "many"`,
    );
  });
});

describe("tickless run with an ansible.cfg", () => {
  it("takes the inventory and roles_path from it, warns of the keys it ignores, and a flag still wins", async () => {
    const d = await dir({
      "cfg/ansible.cfg": "[defaults]\ninventory = ../inv.yml\nroles_path = ../shared\nnocows = 1\n",
      "inv.yml": "all:\n  hosts:\n    box: { tickless_connection: local }\n",
      "other.yml": "all:\n  hosts:\n    other: { tickless_connection: local }\n",
      "shared/hello/tasks/main.yml": "- name: hello\n  debug: { msg: 'hello from {{ role_name }}' }\n",
      "p.yml": "- hosts: all\n  gather_facts: false\n  roles: [hello]\n",
    });
    const env = { ANSIBLE_CONFIG: d.file("cfg/ansible.cfg") };
    const r = await cli(["run", d.file("p.yml")], { env });
    expect(r.stderr).toContain(`${d.file("cfg/ansible.cfg")}:4: [defaults] nocows is ignored`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("TASK [hello : hello]");
    expect(r.stdout).toContain("hello from hello");
    expect(r.stdout).toMatch(/^box\s+: ok=1/m);
    const flagged = await cli(["run", d.file("p.yml"), "-i", d.file("other.yml")], { env });
    expect(flagged.stdout).toMatch(/^other\s+: ok=1/m);
    expect(flagged.stdout).not.toMatch(/^box\s/m);
    const without = await cli(["run", d.file("p.yml"), "-i", d.file("inv.yml")], { env: {} });
    expect(without.code).toBe(4);
    expect(without.stderr).toContain('role "hello" not found');
    expect(without.stderr).toContain(`looked in ${d.file("roles")}`);
  });
});

describe("ansible.cfg's defaults in a run", () => {
  it("gives hosts its remote_user, private_key_file, timeout and host_key_checking where the inventory sets none", async () => {
    const d = await dir({
      "ansible.cfg":
        "[defaults]\nremote_user = deploy\nprivate_key_file = keys/id\ntimeout = 20\nhost_key_checking = False\n",
      "inv.yml": [
        "all:",
        "  vars: { tickless_connection: local }",
        "  hosts:",
        "    h1: {}",
        "    h2: { ansible_user: ops, ansible_timeout: 5, ansible_host_key_checking: true }",
      ].join("\n"),
      "p.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'true'\n",
    });
    const cfg = await loadAnsibleConfig({ ANSIBLE_CONFIG: d.file("ansible.cfg") }, d.path);
    const seen = new Map<string, ConnectionSettings>();
    const summary = await runPlaybook({
      playbook: d.file("p.yml"),
      inventory: d.file("inv.yml"),
      configDefaults: configDefaults(cfg),
      // the real local connection; the settings it was opened with are kept to look at
      connect: (settings) => {
        seen.set(settings.host, settings);
        return openConnection(settings);
      },
    });
    expect(summary.exitCode).toBe(0);
    expect(seen.get("h1")).toMatchObject({
      user: "deploy",
      privateKeyFile: d.file("keys/id"),
      connectTimeoutMs: 20_000,
      hostKeyChecking: "off",
    });
    expect(seen.get("h2")).toMatchObject({ user: "ops", connectTimeoutMs: 5000, hostKeyChecking: "strict" });
  });

  it("makes become the default of plays that do not set it", async () => {
    const d = await dir({
      "inv.yml": "all:\n  hosts:\n    h1: { tickless_connection: local }\n",
      "p.yml": [
        "- hosts: all",
        "  gather_facts: false",
        "  tasks: [{ name: as the config says, command: id -un, register: who, ignore_errors: true }]",
        "- hosts: all",
        "  gather_facts: false",
        "  become: false",
        "  tasks: [{ name: the play says no, command: id -un, register: me }]",
      ].join("\n"),
    });
    const results: Record<string, unknown>[] = [];
    const summary = await runPlaybook({
      playbook: d.file("p.yml"),
      inventory: d.file("inv.yml"),
      configDefaults: { become: true, becomeUser: "nobody" },
      onEvent: (e) => {
        if (e.type === "host_result") results.push({ task: e.task, ...e.result });
      },
    });
    expect(summary.exitCode).toBe(0);
    const asConfig = results.find((r) => r.task === "as the config says")!;
    // as nobody through sudo, or sudo's absence named: never the user running the tests
    if (asConfig.failed) expect(`${asConfig.msg} ${asConfig.stderr}`).toMatch(/sudo/);
    else expect(asConfig.stdout).toBe("nobody");
    const own = results.find((r) => r.task === "the play says no")!;
    expect(own.failed).toBeFalsy();
    expect(own.stdout).not.toBe("nobody");
  });
});
