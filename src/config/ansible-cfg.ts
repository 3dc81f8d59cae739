/**
 * ansible.cfg, found where Ansible finds it (ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg,
 * /etc/ansible/ansible.cfg: the first that exists), read with the `ini` package. The settings
 * tickless has an equivalent for become defaults of a run; each other key is named, with its
 * file:line, as ignored. As in Ansible, an ANSIBLE_<KEY> environment variable beats the file.
 */
import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parse } from "ini";
import { ParseError } from "../errors.js";

/** The settings tickless reads, each with the value and where it came from. */
export interface AnsibleConfig {
  /** The file read, if any. */
  file?: string;
  inventory?: string[];
  rolesPath?: string[];
  /** `library`: where users' own modules are looked for (modules/library/). */
  library?: string[];
  remoteUser?: string;
  forks?: number;
  become?: boolean;
  becomeUser?: string;
  hostKeyChecking?: boolean;
  timeout?: number;
  privateKeyFile?: string;
  /** A vault password file (or script), tried after --vault-id and --vault-password-file. */
  vaultPasswordFile?: string;
  /** `[defaults] ansible_managed`, as written (the template module formats it); no environment variable. */
  ansibleManaged?: string;
  /** `name = value (file:line)` or `(env NAME)` per setting given, for `-v` and the docs. */
  origins: Record<string, string>;
  /** The same per setting, in parts: the line as written and where (`file:line`, `env NAME`). */
  sources: Record<string, { written: string; origin: string }>;
  /** Keys tickless does not read, each with its file:line, and other notes. */
  warnings: string[];
  /** The keys of the file tickless does not read, where each is written (`tickless lint`). */
  ignored: IgnoredKey[];
}

/** A key of ansible.cfg tickless has no equivalent for. */
export interface IgnoredKey {
  file: string;
  line: number;
  section: string;
  key: string;
}

/** What a warning about an ignored key says tickless does. */
export const IGNORED_HINT = 'tickless has no equivalent (see docs/compat.md, "ansible.cfg")';

type Kind = "paths" | "pathspec" | "path" | "string" | "int" | "bool";

/** section/key → the setting, its kind and the environment variable that overrides it. */
const KNOWN: Record<string, { setting: keyof AnsibleConfig; kind: Kind; env?: string }> = {
  "defaults/inventory": { setting: "inventory", kind: "paths", env: "ANSIBLE_INVENTORY" },
  "defaults/hostfile": { setting: "inventory", kind: "paths", env: "ANSIBLE_HOSTS" },
  "defaults/roles_path": { setting: "rolesPath", kind: "pathspec", env: "ANSIBLE_ROLES_PATH" },
  "defaults/remote_user": { setting: "remoteUser", kind: "string", env: "ANSIBLE_REMOTE_USER" },
  "defaults/library": { setting: "library", kind: "pathspec", env: "ANSIBLE_LIBRARY" },
  "defaults/forks": { setting: "forks", kind: "int", env: "ANSIBLE_FORKS" },
  "defaults/host_key_checking": {
    setting: "hostKeyChecking",
    kind: "bool",
    env: "ANSIBLE_HOST_KEY_CHECKING",
  },
  "defaults/timeout": { setting: "timeout", kind: "int", env: "ANSIBLE_TIMEOUT" },
  "defaults/private_key_file": { setting: "privateKeyFile", kind: "path", env: "ANSIBLE_PRIVATE_KEY_FILE" },
  "defaults/vault_password_file": {
    setting: "vaultPasswordFile",
    kind: "path",
    env: "ANSIBLE_VAULT_PASSWORD_FILE",
  },
  // DEFAULT_MANAGED_STR: read from the file only, as Ansible
  "defaults/ansible_managed": { setting: "ansibleManaged", kind: "string" },
  "privilege_escalation/become": { setting: "become", kind: "bool", env: "ANSIBLE_BECOME" },
  "privilege_escalation/become_user": { setting: "becomeUser", kind: "string", env: "ANSIBLE_BECOME_USER" },
};

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** The ansible.cfg Ansible would read, and a warning when ./ansible.cfg is skipped as Ansible skips it. */
export async function findAnsibleConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Promise<{ file?: string; warnings: string[] }> {
  const warnings: string[] = [];
  const fromEnv = env.ANSIBLE_CONFIG;
  if (fromEnv) {
    const p = resolve(cwd, fromEnv.replace(/^~(?=$|\/)/, homedir()));
    const file = (await stat(p).then(
      (s) => s.isDirectory(),
      () => false,
    ))
      ? join(p, "ansible.cfg")
      : p;
    if (await isFile(file)) return { file, warnings };
  }
  const local = join(cwd, "ansible.cfg");
  if (await isFile(local)) {
    const mode = (await stat(cwd)).mode;
    if ((mode & 0o002) === 0) return { file: local, warnings };
    warnings.push(
      `${local} is not read: its directory ${cwd} is world writable (Ansible skips it too); set ANSIBLE_CONFIG to use it`,
    );
  }
  for (const file of [join(homedir(), ".ansible.cfg"), "/etc/ansible/ansible.cfg"])
    if (await isFile(file)) return { file, warnings };
  return { warnings };
}

/** Finds and reads ansible.cfg (environment overrides included); nothing found: only the environment. */
export async function loadAnsibleConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Promise<AnsibleConfig> {
  const found = await findAnsibleConfig(env, cwd);
  const config: AnsibleConfig = { origins: {}, sources: {}, warnings: [...found.warnings], ignored: [] };
  if (found.file) {
    config.file = found.file;
    const text = await readFile(found.file, "utf8");
    readConfigText(text, found.file, config);
  }
  for (const [key, known] of Object.entries(KNOWN)) {
    if (known.env === undefined) continue;
    const value = env[known.env];
    if (value === undefined || value === "") continue;
    set(config, key, value, cwd, `env ${known.env}`, { file: known.env });
  }
  return config;
}

/** Each `key = value` line's section, key, value and line (comments and blank lines left out). */
function entries(text: string): { section: string; key: string; value: string; line: number }[] {
  const parsed = parse(text) as Record<string, unknown>;
  const out: { section: string; key: string; value: string; line: number }[] = [];
  let section = "";
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    const head = /^\s*\[([^\]]+)\]\s*$/.exec(l);
    if (head) {
      section = head[1].trim();
      continue;
    }
    const kv = /^\s*([^=:;#\s[][^=:]*?)\s*[=:]/.exec(l);
    if (!kv) continue;
    const key = kv[1];
    const sect = (section === "" ? parsed : parsed[section]) as Record<string, unknown> | undefined;
    // ini reads `key = value`; configparser's `key: value` form is split here
    let value = sect?.[key];
    if (value === undefined || value === true)
      value = l.slice(l.indexOf(kv[0]) + kv[0].length).replace(/\s[;#].*$/, "");
    out.push({ section, key, value: String(value).trim(), line: i + 1 });
  }
  return out;
}

/** Reads the text of an ansible.cfg into `config`; a key tickless does not read becomes a warning. */
export function readConfigText(text: string, file: string, config: AnsibleConfig): void {
  for (const e of entries(text)) {
    const id = `${e.section}/${e.key.toLowerCase()}`;
    if (id in KNOWN) set(config, id, e.value, dirname(file), `${file}:${e.line}`, { file, line: e.line });
    else {
      config.ignored.push({ file, line: e.line, section: e.section, key: e.key });
      config.warnings.push(`${file}:${e.line}: [${e.section}] ${e.key} is ignored: ${IGNORED_HINT}`);
    }
  }
}

function set(
  config: AnsibleConfig,
  id: string,
  raw: string,
  base: string,
  origin: string,
  at: { file: string; line?: number },
): void {
  const { setting, kind } = KNOWN[id];
  const value = convert(raw, kind, base, id, at);
  (config as unknown as Record<string, unknown>)[setting] = value;
  const written = `${id.split("/")[1]} = ${raw}`;
  config.origins[setting] = `${written} (${origin})`;
  config.sources[setting] = { written, origin };
}

const TRUE = new Set(["y", "yes", "on", "1", "true", "t"]);
const FALSE = new Set(["n", "no", "off", "0", "false", "f"]);

function expand(p: string, base: string): string {
  return p === "~" || p.startsWith("~/") ? join(homedir(), p.slice(1)) : resolve(base, p);
}

function convert(raw: string, kind: Kind, base: string, id: string, at: { file: string; line?: number }) {
  const bad = (expected: string) =>
    new ParseError("BAD_OPTION", `${id.split("/")[1]}: expected ${expected}, got "${raw}"`, {
      location: at,
      hint: "fix the value in ansible.cfg (or the environment variable)",
    });
  switch (kind) {
    case "paths":
      return raw
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)
        .map((p) => expand(p, base));
    case "pathspec":
      return raw
        .split(":")
        .map((p) => p.trim())
        .filter(Boolean)
        .map((p) => expand(p, base));
    case "path":
      return expand(raw, base);
    case "int": {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) throw bad("a whole number of 1 or more");
      return n;
    }
    case "bool": {
      const v = raw.toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw bad("a boolean (True/False)");
    }
    default:
      return raw;
  }
}
