/**
 * Ansible Vault over SSH on the lab hosts: a `!vault` value in group_vars and an encrypted vars
 * file (vectors from ansible-vault) land on every host byte for byte; a second run changes
 * nothing; the values never appear in the CLI's output, even where a task prints them.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cli } from "../cli/helpers.js";
import { removeDir, tempDir, writeTree } from "../e2e/helpers.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import { encryptFile, encryptString, hasAnsibleVault, passwordFile } from "../vault/vectors.js";
import { onHost, removeOnHosts, uniqueId, writeLabInventory } from "./helpers.js";

const lab = sharedLab();
const GROUP_SECRET = "lab-group-secret-6d2a";
const FILE_SECRET = "lab-file-secret-b81f";

describe.skipIf(!lab || !hasAnsibleVault)("Ansible Vault on the lab hosts", () => {
  let dir: string;
  let releaseHome: () => Promise<void>;
  let inventory: string;
  let pw: string;
  const target = `/tmp/${uniqueId("vault")}`;

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    dir = await tempDir("tickless-ssh-vault-");
    pw = await passwordFile(dir, "pw", "lab vault password");
    inventory = await writeLabInventory(join(dir, "inventory.yml"), lab!);
    await writeTree(dir, {
      "group_vars/lab.yml": await encryptString(GROUP_SECRET, pw, "group_secret"),
      "secrets.yml": `file_secret: ${FILE_SECRET}\n`,
      "site.yml": `
- hosts: lab
  gather_facts: false
  vars_files: [secrets.yml]
  tasks:
    - name: write the secrets
      copy: { dest: "${target}", content: "{{ group_secret }}\\n{{ file_secret }}\\n", mode: "0600" }
    - name: read them back
      command: cat ${target}
      register: back
      changed_when: false
    - name: print them (masked by tickless)
      debug: { msg: "{{ back.stdout }}" }
`,
    });
    await encryptFile(join(dir, "secrets.yml"), pw);
  });
  afterAll(async () => {
    await removeOnHosts(lab?.hosts ?? [], [target]);
    await removeDir(dir);
    await releaseHome();
  });

  test("written on every host, unchanged the second time, never in the output", async () => {
    const args = [
      "run",
      join(dir, "site.yml"),
      "-i",
      inventory,
      "--vault-password-file",
      pw,
      "--diff",
      "-vvv",
    ];
    const first = await cli(args);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    for (const h of lab!.hosts)
      expect(await readFile(onHost(h, target), "utf8")).toBe(`${GROUP_SECRET}\n${FILE_SECRET}\n`);
    expect(first.stdout).toContain('"msg": "********\\n********"');
    const second = await cli(args);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/changed=0/);
    for (const out of [first.stdout, first.stderr, second.stdout, second.stderr]) {
      expect(out).not.toContain(GROUP_SECRET);
      expect(out).not.toContain(FILE_SECRET);
    }
  }, 120_000);
});
