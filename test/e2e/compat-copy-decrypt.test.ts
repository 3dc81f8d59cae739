/**
 * copy's `decrypt` against the referee: an ansible-vault encrypted `src` is written decrypted by
 * default and as it is (its ciphertext) with `decrypt: no`; `decrypt: no` on a plain file copies it
 * as usual, unchanged the second time; `content` with `decrypt: no` is written. The files left, each
 * task's status and the registered `changed` must match.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { encryptFile, hasAnsibleVault, passwordFile } from "../vault/vectors.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";
import { filesOf, refereeInventory, refereeOutcomes, refereeRun, ticklessOutcomes } from "./referee-runs.js";

const SECRET = "copied-secret-5d1e";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: an encrypted src, decrypted by default
      copy: { src: secret.txt, dest: "{{ root }}/decrypted" }
    - name: an encrypted src with decrypt no
      copy: { src: secret.txt, dest: "{{ root }}/encrypted", decrypt: no }
    - name: a plain src with decrypt no
      copy: { src: foo.txt, dest: "{{ root }}/foo", decrypt: no }
    - name: again
      copy: { src: foo.txt, dest: "{{ root }}/foo", decrypt: no }
      register: again
    - name: content with decrypt no
      copy: { content: modified, dest: "{{ root }}/content", decrypt: no, mode: "0700" }
    - name: unchanged
      debug: { msg: "changed {{ again.changed }}" }
`;

describe.skipIf(!hasAnsible || !hasAnsibleVault)("copy's decrypt, against ansible-playbook", () => {
  let dir: string;
  let pw: string;
  beforeAll(async () => {
    dir = await tempDir("tickless-copy-decrypt-");
    pw = await passwordFile(dir, "vault-pass", "copy secret");
    await writeTree(dir, {
      "files/secret.txt": `${SECRET}\n`,
      "files/foo.txt": "foo.txt\n",
      "inventory.yml": refereeInventory(["h1"]),
      "p.yml": PLAYBOOK,
      "ansible/.keep": "",
      "tickless/.keep": "",
    });
    await encryptFile(path.join(dir, "files/secret.txt"), pw);
  }, 60_000);
  afterAll(() => removeDir(dir));

  test("the same files and outcomes", async () => {
    const referee = await refereeRun(dir, ["--vault-password-file", pw]);
    const { lines, msgTasks } = refereeOutcomes(referee.report);
    const ours = await run({
      playbook: path.join(dir, "p.yml"),
      inventory: path.join(dir, "inventory.yml"),
      extraVars: { root: path.join(dir, "tickless") },
      vault: { passwordFiles: [pw], ids: [] },
    });
    expect(ticklessOutcomes(ours.results, msgTasks)).toEqual(lines);
    const theirs = await filesOf(path.join(dir, "ansible"));
    expect(await filesOf(path.join(dir, "tickless"))).toEqual(theirs);
    const source = await readFile(path.join(dir, "files/secret.txt"), "utf8");
    expect(source).toMatch(/^\$ANSIBLE_VAULT;/);
    expect(theirs).toContain(`decrypted ${JSON.stringify(`${SECRET}\n`)}`);
    expect(theirs).toContain(`encrypted ${JSON.stringify(source)}`);
    expect(lines.at(-1)).toBe('unchanged@h1: ok "changed False"');
  }, 120_000);
});
