/**
 * `remote_user` on a task, a block (templated) and an import_tasks, over real sshd, against the
 * referee: the task runs logged in as that user over a second connection to the host; the host's
 * own `ansible_user` wins over the keyword, the keyword over ansible.cfg's `remote_user` (as in
 * Ansible); tasks without it keep the host's login. Both tools run the same playbook, with the
 * same ansible.cfg, on the same lab host; each task's `stdout` must match.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { stringify } from "yaml";
import { configDefaults } from "../../src/cli/run.js";
import { loadAnsibleConfig } from "../../src/config/ansible-cfg.js";
import { removeDir, run, tempDir } from "../e2e/helpers.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import { ansiblePlaybook, hasAnsible } from "../referee/ansible.js";

const execFileAsync = promisify(execFile);

const PLAYBOOK = `
- hosts: free:fixed
  gather_facts: false
  vars:
    login: root
  tasks:
    - name: the host's login
      command: id -un
    - name: remote_user on the task
      command: id -un
      remote_user: ops
    - block:
        - name: remote_user of the block, templated
          command: id -un
      remote_user: "{{ login }}"
    - name: the host's login again
      command: id -un
    - name: an import with remote_user
      import_tasks: imported.yml
      remote_user: ops
`;

const IMPORTED = `
- name: imported task
  command: id -un
`;

const USERS = [
  { name: "ops", uid: 2111 },
  { name: "deploy", uid: 2112 },
];

describe.skipIf(!sharedLab() || !hasAnsible)("remote_user over ssh against ansible-playbook", () => {
  let lab: Lab;
  let dir: string;
  let releaseHome: () => Promise<void>;
  let inventory: string;

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    const { stdout } = await execFileAsync("bash", [join(import.meta.dirname, "../lab/fetch-sudo.sh")]);
    lab = await startLab(1, { names: ["ruser1"], sudo: { root: stdout.trim(), users: USERS } });
    dir = await tempDir("tickless-remote-user-");
    const h = lab.hosts[0];
    const common = {
      ansible_host: h.address,
      ansible_port: h.port,
      ansible_ssh_private_key_file: lab.keyFile,
      ansible_python_interpreter: "/usr/bin/python3",
      tickless_known_hosts_file: lab.knownHostsFile,
    };
    // free: no login user of its own (ansible.cfg's deploy, and the keyword's where written);
    // fixed: ansible_user root, which wins over every remote_user
    inventory = join(dir, "inventory.yml");
    await writeFile(
      inventory,
      // two inventory hosts on one machine, with different login users and no become: each its own
      // host lock in /tmp, which both may write (/var/lib/tickless is root's)
      stringify({
        all: {
          hosts: {
            free: { ...common, tickless_lock_file: "/tmp/tickless-free.lock" },
            fixed: { ...common, ansible_user: "root", tickless_lock_file: "/tmp/tickless-fixed.lock" },
          },
        },
      }),
    );
    await writeFile(join(dir, "p.yml"), PLAYBOOK);
    await writeFile(join(dir, "imported.yml"), IMPORTED);
    await writeFile(join(dir, "ansible.cfg"), "[defaults]\nremote_user = deploy\n");
  }, 180_000);

  afterAll(async () => {
    await lab?.stop();
    if (dir) await removeDir(dir);
    await releaseHome();
  });

  test("each task's login user, per host, as the referee's; the exit code", async () => {
    const { rc, report } = await ansiblePlaybook(["-i", inventory, join(dir, "p.yml")], dir);
    const expected = report.plays.flatMap((p) =>
      p.tasks.flatMap((t) =>
        Object.entries(t.hosts)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([host, r]) => `${host} ${t.task.name}: ${r.status} ${r.stdout}`),
      ),
    );
    const cfg = await loadAnsibleConfig({}, dir);
    const ours = await run({ playbook: join(dir, "p.yml"), inventory, configDefaults: configDefaults(cfg) });
    const got = ours.results
      .map((e) => `${e.host} ${e.task}: ${e.status} ${(e.result as Record<string, unknown>).stdout}`)
      .sort((a, b) => expected.indexOf(a) - expected.indexOf(b));
    expect(got).toEqual(expected);
    expect(expected).toContain("free the host's login: changed deploy");
    expect(expected).toContain("free remote_user on the task: changed ops");
    expect(expected).toContain("free remote_user of the block, templated: changed root");
    expect(expected).toContain("fixed remote_user on the task: changed root");
    expect(ours.summary.exitCode).toBe(rc);
  }, 180_000);
});
