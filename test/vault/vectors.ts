/** Test vectors made by the real ansible-vault (ansible-core): encrypt_string and whole-file encrypt. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

export const ANSIBLE_VAULT = "/usr/bin/ansible-vault";
export const hasAnsibleVault = existsSync(ANSIBLE_VAULT);

const run = promisify(execFile);

/** Writes `password` to a file in `dir` and returns its path. */
export async function passwordFile(dir: string, name: string, password: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return file;
}

/** `--vault-id` and, for a labelled id, `--encrypt-vault-id` (a 1.2 envelope carrying the label). */
function idArgs(vaultId: string): string[] {
  const at = vaultId.indexOf("@");
  return at > 0
    ? ["--vault-id", vaultId, "--encrypt-vault-id", vaultId.slice(0, at)]
    : ["--vault-id", vaultId];
}

const env = { ...process.env, ANSIBLE_NOCOLOR: "1" };

/** `ansible-vault encrypt_string`: the `name: !vault |` block, ending with a newline. */
export async function encryptString(plain: string, vaultId: string, name = "secret"): Promise<string> {
  const { stdout } = await run(ANSIBLE_VAULT, ["encrypt_string", ...idArgs(vaultId), "--name", name, plain], {
    env,
  });
  return `${stdout.trimEnd()}\n`;
}

/** `ansible-vault encrypt FILE` in place. */
export async function encryptFile(file: string, vaultId: string): Promise<void> {
  await run(ANSIBLE_VAULT, ["encrypt", ...idArgs(vaultId), file], { env });
}
