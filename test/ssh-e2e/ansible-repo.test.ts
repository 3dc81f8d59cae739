/**
 * An Ansible user's repository as it is: ansible.cfg (roles_path, vault_password_file), a role
 * with defaults, vars, a meta dependency, handlers, a Jinja template and a file, and group_vars
 * holding a vault-encrypted password. ansible-playbook runs it against one lab host and tickless
 * against another, both over SSH, both reading the same ansible.cfg: the files each host is left
 * with are byte for byte the same (names, modes, contents), the recap counts are the same, and a
 * second run changes nothing under either tool.
 */
import { lstat, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { stringify } from "yaml";
import { cli } from "../cli/helpers.js";
import { removeDir, tempDir, writeTree } from "../e2e/helpers.js";
import type { LabHost } from "../lab/lab.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import { ansiblePlaybook, hasAnsible } from "../referee/ansible.js";
import { encryptString, hasAnsibleVault, passwordFile } from "../vault/vectors.js";
import { onHost, removeOnHosts, uniqueId } from "./helpers.js";

const lab = sharedLab();
const PASSWORD = "db-pw-7c1e94";
const target = `/tmp/${uniqueId("ansible-repo")}`;

const ROLE_FILES: Record<string, string> = {
  "roles/base/tasks/main.yml": `- name: base directory
  file: { path: "{{ target }}", state: directory, mode: "0750" }
- name: base marker
  copy: { content: "base {{ base_level }}\\n", dest: "{{ target }}/base", mode: "0644" }
`,
  "roles/base/defaults/main.yml": "base_level: 1\n",
  "roles/app/meta/main.yml": "dependencies:\n  - role: base\n    vars: { base_level: 2 }\n",
  "roles/app/defaults/main.yml":
    "app_port: 6379\napp_threads: 2\napp_opts: [fast, quiet]\napp_user: nobody\n",
  "roles/app/vars/main.yml": "app_user: svc\n",
  "roles/app/tasks/main.yml": `- name: configuration
  template: { src: app.conf.j2, dest: "{{ target }}/app.conf", mode: "0640" }
  notify: note the restart
- name: banner
  copy: { src: motd, dest: "{{ target }}/motd", mode: "0644" }
- name: the password
  copy: { content: "{{ db_password }}\\n", dest: "{{ target }}/secret", mode: "0600" }
  no_log: true
`,
  "roles/app/handlers/main.yml": `- name: note the restart
  copy: { content: "restarted for port {{ app_port }}\\n", dest: "{{ target }}/restarted", mode: "0644" }
`,
  "roles/app/templates/app.conf.j2": `{# the application's configuration #}
port {{ app_port }}
threads {{ app_threads | int * 2 }}
{% for o in app_opts %}
opt {{ loop.index }} {{ o | upper }}
{% endfor %}
user {{ app_user }}
password_sha1 {{ db_password | hash('sha1') }}
{% if app_port > 1024 %}
unprivileged yes
{% endif %}
`,
  "roles/app/files/motd": "welcome\n",
  "site.yml": `- hosts: app
  gather_facts: false
  roles:
    - role: app
      vars: { app_threads: 4 }
`,
  "ansible.cfg":
    "[defaults]\nroles_path = ./roles\nvault_password_file = ./vault-pass\nretry_files_enabled = False\n",
};

function inventory(host: LabHost): string {
  const vars = {
    ansible_host: host.address,
    ansible_port: host.port,
    ansible_user: "root",
    ansible_ssh_private_key_file: lab!.keyFile,
    ansible_python_interpreter: "/usr/bin/python3",
    tickless_known_hosts_file: lab!.knownHostsFile,
  };
  return stringify({ all: { children: { app: { hosts: { web1: vars } } } } });
}

/** Every path under the target on a host: name, type, mode, and a file's bytes. */
async function leftOn(host: LabHost): Promise<string[]> {
  const root = onHost(host, target);
  const out: string[] = [];
  for (const name of (await readdir(root)).sort()) {
    const st = await lstat(path.join(root, name));
    const mode = (st.mode & 0o7777).toString(8);
    out.push(
      `${name} ${mode} ${st.isFile() ? JSON.stringify(await readFile(path.join(root, name), "utf8")) : "dir"}`,
    );
  }
  return out;
}

describe.skipIf(!lab || !hasAnsible || !hasAnsibleVault)(
  "an Ansible repository under both tools on lab hosts",
  () => {
    let dir: string;
    let release: () => Promise<void>;

    beforeAll(async () => {
      ({ release } = await isolateHome());
      dir = await tempDir("tickless-ansible-repo-");
      const pw = await passwordFile(dir, "vault-pass", "repo vault password");
      await writeTree(dir, {
        ...ROLE_FILES,
        "group_vars/app.yml": `target: ${target}\n${await encryptString(PASSWORD, pw, "db_password")}`,
        "ansible/hosts.yml": inventory(lab!.hosts[0]),
        "tickless/hosts.yml": inventory(lab!.hosts[1]),
      });
    });
    afterAll(async () => {
      await removeOnHosts(lab?.hosts.slice(0, 2) ?? [], [target]);
      if (dir) await removeDir(dir);
      await release?.();
    });

    test("the same files byte for byte and the same recap; a second run changes nothing under either", async () => {
      const theirs = await ansiblePlaybook(["-i", "ansible/hosts.yml", "site.yml"], dir);
      expect(theirs.rc).toBe(0);
      const env = { ANSIBLE_CONFIG: path.join(dir, "ansible.cfg"), HOME: process.env.HOME ?? "" };
      const args = ["run", path.join(dir, "site.yml"), "-i", path.join(dir, "tickless/hosts.yml"), "--json"];
      const ours = await cli(args, { env });
      // the one key tickless does not act on is named, once, with its file and line
      expect(ours.stderr).toMatch(
        /^\[WARNING\]: \S+\/ansible\.cfg:4: \[defaults\] retry_files_enabled is ignored: [^\n]*\n$/,
      );
      expect(ours.code).toBe(0);
      expect(ours.stdout).not.toContain(PASSWORD);

      const files = await leftOn(lab!.hosts[1]);
      expect(files).toEqual(await leftOn(lab!.hosts[0]));
      expect(files.map((f) => f.split(" ")[0])).toEqual(["app.conf", "base", "motd", "restarted", "secret"]);
      expect(files).toContain(`secret 600 ${JSON.stringify(`${PASSWORD}\n`)}`);

      const recap = (out: string) =>
        out
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l))
          .find((e) => e.type === "recap")?.stats;
      expect(recap(ours.stdout)).toEqual(theirs.report.stats);

      const theirsAgain = await ansiblePlaybook(["-i", "ansible/hosts.yml", "site.yml"], dir);
      const oursAgain = await cli(args, { env });
      expect(oursAgain.code).toBe(0);
      expect(theirsAgain.report.stats.web1.changed).toBe(0);
      expect(recap(oursAgain.stdout)).toEqual(theirsAgain.report.stats);
    }, 300_000);
  },
);
