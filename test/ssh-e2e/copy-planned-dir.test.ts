/**
 * copy and template over real SSH (SFTP writes) into a directory the play creates and into one no
 * task creates, on the lab hosts: the check run plans every write (the new directory's parents with
 * the file task's mode), the real run writes the first and fails the second with Ansible's words.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { byStatus, removeDir, run, tempDir, writeTree } from "../e2e/helpers.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import { onHost, removeOnHosts, uniqueId, writeLabInventory } from "./helpers.js";

const lab = sharedLab();

const PLAYBOOK = `
- hosts: lab
  gather_facts: false
  vars:
    base: "/tmp/{{ run_id }}"
  tasks:
    - name: the directory
      file: { path: "{{ base }}/new/sub", state: directory, mode: "0750" }
    - name: content into it
      copy: { content: "a = 1\\n", dest: "{{ base }}/new/sub/a.conf" }
    - name: template into it
      template: { src: t.hbs, dest: "{{ base }}/new/sub/t.conf" }
    - name: into a directory no task creates
      copy: { content: "x\\n", dest: "{{ base }}/nowhere/x.conf" }
      ignore_errors: true
`;

describe.skipIf(!lab)("copy into a directory the play creates, over ssh", () => {
  const id = uniqueId("ssh-e2e-copy-dir");
  const base = `/tmp/${id}`;
  let dir: string;
  let releaseHome: () => Promise<void>;
  let options: Parameters<typeof run>[0];

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    dir = await tempDir("tickless-ssh-copy-dir-");
    await writeTree(dir, { "site.yml": PLAYBOOK, "templates/t.hbs": "host {{ inventory_hostname }}\n" });
    const inventory = await writeLabInventory(join(dir, "inventory.yml"), lab!);
    options = { playbook: join(dir, "site.yml"), inventory, extraVars: { run_id: id } };
  });
  afterAll(async () => {
    await removeOnHosts(lab!.hosts, [base]);
    await removeDir(dir);
    await releaseHome();
  });

  test("check mode plans the writes; the real run makes them and fails where no directory is", async () => {
    const hosts = lab!.hosts.map((h) => h.name);
    const pairs = (tasks: string[]) => hosts.flatMap((h) => tasks.map((t) => `${h}:${t}`)).sort();
    const check = await run({ ...options, check: true });
    expect(check.summary.exitCode).toBe(0);
    expect(byStatus(check, "changed").sort()).toEqual(
      pairs(["the directory", "content into it", "template into it", "into a directory no task creates"]),
    );
    for (const h of lab!.hosts) await expect(stat(onHost(h, base))).rejects.toThrow(/ENOENT/);

    const real = await run(options);
    expect(byStatus(real, "changed").sort()).toEqual(
      pairs(["the directory", "content into it", "template into it"]),
    );
    const failed = real.results.filter((e) => e.status === "failed");
    expect(failed.map((e) => `${e.host} ${e.result.msg}`).sort()).toEqual(
      hosts.map((h) => `${h} Destination directory ${base}/nowhere does not exist`).sort(),
    );
    for (const h of lab!.hosts) {
      expect(((await stat(onHost(h, `${base}/new`))).mode & 0o777).toString(8)).toBe("750");
      expect(((await stat(onHost(h, `${base}/new/sub/t.conf`))).mode & 0o777).toString(8)).toBe("644");
    }
  }, 120_000);
});
