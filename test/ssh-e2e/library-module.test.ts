/**
 * A user's own `library/` module over real SSH, logged in as an unprivileged user: without become
 * it runs as that user, with `become: true` as root through sudo; its payload sits in a 0700
 * directory owned by whoever runs it, and nothing is left in the host's /tmp afterwards.
 */
import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { removeDir, run, tempDir, writeTree } from "../e2e/helpers.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import { onHost, writeLabInventory } from "./helpers.js";

const execFileAsync = promisify(execFile);

const WHOAMI = `#!/usr/bin/python
import os
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(tag=dict(type='str', required=True)))
    st = os.stat(module.tmpdir)
    module.exit_json(changed=False, uid=os.getuid(), tag=module.params['tag'],
                     dir_mode=oct(st.st_mode & 0o777), dir_uid=st.st_uid)


if __name__ == '__main__':
    main()
`;

const PLAYBOOK = `
- hosts: lab
  gather_facts: false
  tasks:
    - name: as the login user
      whoami: { tag: plain }
    - name: with become
      whoami: { tag: root }
      become: true
`;

const sharedAvailable = sharedLab() !== undefined;

describe.skipIf(!sharedAvailable)("a library module over SSH, with and without become", () => {
  let lab: Lab;
  let dir: string;
  let releaseHome: () => Promise<void>;

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    const { stdout } = await execFileAsync("bash", [join(import.meta.dirname, "../lab/fetch-sudo.sh")]);
    lab = await startLab(1, {
      names: ["libmod1"],
      sudo: { root: stdout.trim(), users: [{ name: "ops", uid: 2101 }] },
    });
    dir = await tempDir("tickless-libmod-");
    await writeTree(dir, { "site.yml": PLAYBOOK, "library/whoami.py": WHOAMI });
    await writeLabInventory(join(dir, "inventory.yml"), lab, {
      hosts: {
        [lab.hosts[0].name]: {
          ansible_user: "ops",
          ansible_python_interpreter: "/usr/bin/python3",
          tickless_lock_file: "/tmp/libmod.lock",
        },
      },
    });
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
    if (dir) await removeDir(dir);
    await releaseHome();
  });

  test("runs as the login user, then as root; private temp dirs, removed", async () => {
    const tmp = onHost(lab.hosts[0], "/tmp");
    const temps = async () => (await readdir(tmp)).filter((n) => n.startsWith("tickless-module."));
    const before = await temps();
    const res = await run({ playbook: join(dir, "site.yml"), inventory: join(dir, "inventory.yml") });
    expect(res.summary.exitCode, JSON.stringify(res.results.map((r) => r.result))).toBe(0);
    const by = Object.fromEntries(res.results.map((r) => [r.task, r.result as Record<string, unknown>]));
    expect(by["as the login user"]).toMatchObject({
      uid: 2101,
      dir_uid: 2101,
      dir_mode: "0o700",
      tag: "plain",
    });
    expect(by["with become"]).toMatchObject({ uid: 0, dir_uid: 0, dir_mode: "0o700", tag: "root" });
    expect(await temps()).toEqual(before);
  }, 120_000);
});
