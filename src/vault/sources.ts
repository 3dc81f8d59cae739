/**
 * Where vault passwords come from, as ansible-playbook takes them: a password file (its content,
 * stripped), an executable password script (its stdout), or a prompt; each under a vault id.
 */
import { execFile } from "node:child_process";
import { access, constants, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, resolve } from "node:path";
import { promisify } from "node:util";
import { OptionError } from "../errors.js";
import type { VaultSecret } from "./keyring.js";

const run = promisify(execFile);

export interface VaultSources {
  /** --vault-password-file (and ANSIBLE_VAULT_PASSWORD_FILE / ansible.cfg vault_password_file). */
  passwordFiles?: string[];
  /** --vault-id `[label@]source`, source a file, a script or `prompt`. */
  ids?: string[];
  /** --ask-vault-pass: one prompted password under the default id. */
  askPass?: boolean;
  /** Asks for a password (the CLI: on the terminal, without echo). */
  prompt?: (question: string) => Promise<string>;
}

/** Reads every password named, in Ansible's order: vault ids, password files, then the prompt. */
export async function loadVaultSecrets(sources: VaultSources, cwd = process.cwd()): Promise<VaultSecret[]> {
  const out: VaultSecret[] = [];
  for (const spec of sources.ids ?? []) {
    const at = spec.indexOf("@");
    const id = at > 0 ? spec.slice(0, at) : "default";
    out.push(await fromSource(id, at > 0 ? spec.slice(at + 1) : spec, sources, cwd));
  }
  for (const file of sources.passwordFiles ?? []) out.push(await fromSource("default", file, sources, cwd));
  if (sources.askPass) out.push({ id: "default", password: await prompted("Vault password: ", sources) });
  return out;
}

async function fromSource(
  id: string,
  source: string,
  sources: VaultSources,
  cwd: string,
): Promise<VaultSecret> {
  if (source === "prompt") return { id, password: await prompted(`Vault password (${id}): `, sources) };
  const file = resolve(cwd, source === "~" || source.startsWith("~/") ? homedir() + source.slice(1) : source);
  let password: Buffer;
  if (await isExecutable(file)) password = await fromScript(id, file);
  else password = await fromFile(file);
  if (password.length === 0) {
    throw new OptionError(`Invalid vault password was provided from file (${source})`, {
      hint: "the file (or the script's output) is empty",
    });
  }
  return { id, password };
}

async function isExecutable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** A password file's content, stripped of surrounding whitespace (as Ansible). */
async function fromFile(file: string): Promise<Buffer> {
  try {
    return Buffer.from((await readFile(file, "utf8")).trim(), "utf8");
  } catch (cause) {
    throw new OptionError(`The vault password file ${file} was not found`, {
      hint: "--vault-password-file and --vault-id take a file (or an executable script) holding the password",
      cause,
    });
  }
}

/** A password script's stdout without its line end; a `*-client` script is told the vault id. */
async function fromScript(id: string, file: string): Promise<Buffer> {
  const client = /-client(\.[^.]+)?$/.test(basename(file));
  try {
    const { stdout } = await run(file, client ? ["--vault-id", id] : [], { encoding: "buffer" });
    let end = stdout.length;
    while (end > 0 && (stdout[end - 1] === 0x0a || stdout[end - 1] === 0x0d)) end--;
    let start = 0;
    while (start < end && (stdout[start] === 0x0a || stdout[start] === 0x0d)) start++;
    return stdout.subarray(start, end);
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    throw new OptionError(`Vault password script ${file} returned non-zero (${String(code)})`, {
      hint: "run the script by hand: it must print the password and exit 0",
      cause,
    });
  }
}

async function prompted(question: string, sources: VaultSources): Promise<Buffer> {
  if (!sources.prompt) {
    throw new OptionError("a vault password prompt needs a terminal", {
      hint: "pass --vault-password-file FILE instead of --ask-vault-pass when not on a terminal",
    });
  }
  const answer = (await sources.prompt(question)).trim();
  if (answer === "")
    throw new OptionError("Invalid vault password was provided", { hint: "the password is empty" });
  return Buffer.from(answer, "utf8");
}
