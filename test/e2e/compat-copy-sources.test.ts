/**
 * copy's failures over its source, against the referee, in Ansible's words: a `remote_src` that is
 * missing ("Source … not found") or neither a file nor a directory ("Cannot copy invalid source
 * '/dev/null': not a file"), and an encrypted `src` with no vault password given ("A vault password
 * or secret must be specified to decrypt …", also for a directory holding one: the file named is
 * the first as Python's os.walk goes, a directory's files before its subdirectories'). Each task's status
 * and message must match.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { encryptFile, hasAnsibleVault, passwordFile } from "../vault/vectors.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import {
  refereeInventory,
  refereeOutcomes,
  refereeRun,
  ticklessOutcomes,
  ticklessRun,
} from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: a device
      copy: { src: /dev/null, dest: "{{ root }}/null", remote_src: true }
      register: device
      ignore_errors: true
    - name: a missing source
      copy: { src: /nonexistent-tickless-source, dest: "{{ root }}/missing", remote_src: true }
      register: missing
      ignore_errors: true
    - name: an encrypted file without a password
      copy: { src: vault/vault-file, dest: "{{ root }}/file" }
      register: encrypted
      ignore_errors: true
    - name: a directory holding one
      copy: { src: vault, dest: "{{ root }}/dir" }
      register: in_dir
      ignore_errors: true
    - name: the messages
      debug: { msg: "{{ [device.msg, missing.msg, encrypted.msg | replace(playbook_dir, '.'), in_dir.msg | replace(playbook_dir, '.')] | join(' | ') }}" }
`;

let dir: string;

beforeAll(async () => {
  dir = await tempDir("tickless-copy-sources-");
  await writeTree(dir, {
    "files/vault/vault-file": "secret\n",
    "files/vault/folder/nested-file": "nested\n",
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  if (hasAnsibleVault) {
    const pw = await passwordFile(dir, "pw", "x");
    await encryptFile(path.join(dir, "files/vault/vault-file"), pw);
    await encryptFile(path.join(dir, "files/vault/folder/nested-file"), pw);
  }
});

afterAll(() => removeDir(dir));

describe.skipIf(!hasAnsible || !hasAnsibleVault)(
  "copy's failures over its source, against ansible-playbook",
  () => {
    test("each task's status and message", async () => {
      const referee = await refereeRun(dir);
      const { lines, msgTasks } = refereeOutcomes(referee.report);
      const ours = await ticklessRun(dir);
      expect(ticklessOutcomes(ours.results, msgTasks)).toEqual(lines);
      expect(lines.at(-1)).toBe(
        "the messages@h1: ok \"Cannot copy invalid source '/dev/null': not a file | Source /nonexistent-tickless-source not found | A vault password or secret must be specified to decrypt ./files/vault/vault-file | A vault password or secret must be specified to decrypt ./files/vault/vault-file\"",
      );
    }, 120_000);
  },
);
