/**
 * Ansible Vault against the referee: group_vars holding `!vault` values (one under a vault id), a
 * whole vars file encrypted with ansible-vault, both used in copy, template and debug tasks, and a
 * template that `{% include %}`s an encrypted file (neither decrypts it), run by ansible-playbook
 * and by tickless with the same password files. The files left and the recap must match, and no
 * decrypted value may appear in tickless's events.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { VaultKeyring } from "../../src/vault/index.js";
import { hasAnsible } from "../referee/ansible.js";
import { encryptFile, encryptString, hasAnsibleVault, passwordFile } from "../vault/vectors.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";
import { filesOf, refereeInventory, refereeOutcomes, refereeRun, ticklessOutcomes } from "./referee-runs.js";

const DB_PASSWORD = "db-Pa55word-7f3e";
const API_TOKEN = "tok-91c2-labelled";
const FILE_SECRET = "whole-file-secret-a1b2";

const PLAY_SECRET = "play-vars-secret-44d0";
const ARG_SECRET = "task-arg-secret-9b7c";
const INCLUDED_SECRET = "included-secret-e3f1";
const COPIED_SECRET = "copied-file-secret-12ab";

const ALL_SECRETS = [
  DB_PASSWORD,
  API_TOKEN,
  FILE_SECRET,
  PLAY_SECRET,
  ARG_SECRET,
  INCLUDED_SECRET,
  COPIED_SECRET,
];

const PLAYBOOK = `
- name: vault
  hosts: all
  gather_facts: false
  vars_files:
    - secrets.yml
  vars:
PLAY_VARS
  tasks:
    - name: include an encrypted vars file
      include_vars: { file: included.yml }
    - name: a vaulted task argument
      copy:
        dest: "{{ root }}/{{ inventory_hostname }}-arg"
TASK_ARG
    - name: copy an encrypted source file
      copy: { src: secret.txt, dest: "{{ root }}/{{ inventory_hostname }}-copied" }
    - name: render an encrypted template
      template: { src: enc.conf.j2, dest: "{{ root }}/{{ inventory_hostname }}-enc.conf" }
    - name: a template that includes an encrypted file
      template: { src: inc.conf.j2, dest: "{{ root }}/{{ inventory_hostname }}-inc.conf" }
    - name: play vars and included vars
      copy: { dest: "{{ root }}/{{ inventory_hostname }}-more", content: "{{ play_secret }} {{ included_secret }}\\n" }
    - name: write the vaulted password
      copy: { dest: "{{ root }}/{{ inventory_hostname }}-db", content: "{{ db_password }}\\n", mode: "0600" }
    - name: render a template with vaulted values
      template: { src: app.conf.j2, dest: "{{ root }}/{{ inventory_hostname }}-app.conf" }
    - name: a vaulted value in an expression
      debug: { msg: "{{ db_password | length }} {{ api_token is defined }} {{ plain_var }}" }
    - name: a vaulted value in a condition
      debug: { msg: "matched" }
      when: file_secret is match('whole')
`;

describe.skipIf(!hasAnsible || !hasAnsibleVault)("Ansible Vault against ansible-playbook", () => {
  let dir: string;
  let args: string[];
  let vault: { passwordFiles: string[]; ids: string[] };
  beforeAll(async () => {
    dir = await tempDir("tickless-vault-");
    const pw = await passwordFile(dir, "vault-pass", "group secret");
    const prodPw = await passwordFile(dir, "prod-pass", "prod secret");
    const dbBlock = await encryptString(DB_PASSWORD, pw, "db_password");
    const tokenBlock = await encryptString(API_TOKEN, `prod@${prodPw}`, "api_token");
    const indent = (block: string, by: string) =>
      block
        .trimEnd()
        .split("\n")
        .map((l) => by + l)
        .join("\n");
    const playVars = indent(await encryptString(PLAY_SECRET, pw, "play_secret"), "    ");
    const taskArg = indent(await encryptString(ARG_SECRET, pw, "content"), "        ");
    await writeTree(dir, {
      "included.yml": `included_secret: ${INCLUDED_SECRET}\n`,
      "files/secret.txt": `${COPIED_SECRET}\n`,
      "templates/enc.conf.j2": "enc {{ db_password }} {{ plain_var }}\n",
      "templates/inc.conf.j2": "before\n{% include 'part.j2' %}\nafter\n",
      "templates/part.j2": "part {{ plain_var }}\n",
      "inventory.yml": refereeInventory(["h1", "h2"]),
      "group_vars/all.yml": `plain_var: plain\n${dbBlock}${tokenBlock}`,
      "p.yml": PLAYBOOK.replace("PLAY_VARS", playVars).replace("TASK_ARG", taskArg),
      "templates/app.conf.j2":
        "user=app\npassword={{ db_password }}\ntoken={{ api_token }}\nfile={{ file_secret }}\n",
      "ansible/.keep": "",
      "tickless/.keep": "",
    });
    const secrets = path.join(dir, "secrets.yml");
    await writeFile(secrets, `file_secret: ${FILE_SECRET}\nfile_port: 6380\n`);
    await encryptFile(secrets, pw);
    for (const f of ["included.yml", "files/secret.txt", "templates/enc.conf.j2", "templates/part.j2"])
      await encryptFile(path.join(dir, f), pw);
    args = ["--vault-password-file", pw, "--vault-id", `prod@${prodPw}`];
    vault = { passwordFiles: [pw], ids: [`prod@${prodPw}`] };
  }, 60_000);
  afterAll(() => removeDir(dir));

  test("the same files, outcomes and recap; no secret in tickless's events", async () => {
    const referee = await refereeRun(dir, args);
    expect(referee.rc).toBe(0);
    const ours = await run({
      playbook: path.join(dir, "p.yml"),
      inventory: path.join(dir, "inventory.yml"),
      extraVars: { root: path.join(dir, "tickless") },
      vault,
    });
    expect(ours.summary.exitCode).toBe(0);
    const ref = refereeOutcomes(referee.report);
    expect(ticklessOutcomes(ours.results, ref.msgTasks)).toEqual(ref.lines);
    const recap = ours.events.find((e) => e.type === "recap");
    expect(recap && "stats" in recap ? recap.stats : undefined).toEqual(referee.report.stats);
    const left = await filesOf(path.join(dir, "tickless"));
    expect(left).toEqual(await filesOf(path.join(dir, "ansible")));
    expect(left.join("\n")).toContain(DB_PASSWORD);
    expect(left.join("\n")).toContain(API_TOKEN);
    const events = JSON.stringify(ours.events);
    expect(left.join("\n")).toContain(COPIED_SECRET);
    // Jinja's loader reads an {% include %}d file, not the vault: both write its ciphertext as it is
    expect(left.find((f) => f.startsWith("h1-inc.conf "))).toMatch(
      /^h1-inc\.conf "before\\n\$ANSIBLE_VAULT;1\.1;AES256\\n/,
    );
    for (const secret of ALL_SECRETS) expect(events).not.toContain(secret);
  }, 120_000);

  test("--diff and check mode: the diffs mask the decrypted values", async () => {
    const ours = await run({
      playbook: path.join(dir, "p.yml"),
      inventory: path.join(dir, "inventory.yml"),
      extraVars: { root: path.join(dir, "tickless-check") },
      vault: new VaultKeyring([
        { id: "default", password: Buffer.from("group secret") },
        { id: "prod", password: Buffer.from("prod secret") },
      ]),
      check: true,
      diff: true,
    });
    const events = JSON.stringify(ours.events);
    expect(events).toContain("********");
    for (const secret of ALL_SECRETS) expect(events).not.toContain(secret);
  }, 60_000);
});
