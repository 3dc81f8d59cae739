/**
 * How a host is reached, read from its resolved variables: tickless's own `tickless_*` names, or
 * the Ansible names teams already have (`ansible_host`, `ansible_port`, …). tickless names win.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import type { ConnectionSettings } from "../connection/types.js";
import { ParseError } from "../errors.js";
import { isTemplate, renderValue } from "../template/index.js";
import { VaultValue } from "../vault/keyring.js";
import { LOCALHOST_NAMES } from "./group-tree.js";

/** Each setting's variable names, highest priority first. */
const NAMES = {
  connection: ["tickless_connection", "ansible_connection"],
  address: ["tickless_host", "ansible_host", "ansible_ssh_host"],
  port: ["tickless_port", "ansible_port", "ansible_ssh_port"],
  user: ["tickless_user", "ansible_user", "ansible_ssh_user"],
  privateKeyFile: ["tickless_private_key_file", "ansible_ssh_private_key_file", "ansible_private_key_file"],
  password: ["tickless_password", "ansible_password", "ansible_ssh_pass", "ansible_ssh_password"],
  become: ["tickless_become", "ansible_become"],
  becomeUser: ["tickless_become_user", "ansible_become_user"],
  becomePassword: ["tickless_become_password", "ansible_become_password", "ansible_become_pass"],
  knownHostsFile: ["tickless_known_hosts_file"],
  hostKeyChecking: [
    "tickless_host_key_checking",
    "ansible_host_key_checking",
    "ansible_ssh_host_key_checking",
  ],
  connectTimeout: ["tickless_connect_timeout", "ansible_timeout", "ansible_ssh_timeout"],
  commandTimeout: ["tickless_command_timeout"],
  unreachableTimeout: ["tickless_unreachable_timeout"],
  lockFile: ["tickless_lock_file"],
} as const;

/** Variables whose values are secrets: reporters scrub these values from every output. */
export const SECRET_VARS: readonly string[] = [...NAMES.password, ...NAMES.becomePassword];

/**
 * The non-empty values of the secret variables, for scrubbing output: both as written and
 * rendered (`tickless_become_password: "{{ vault_pw }}"` masks the password itself).
 */
export function secretValues(vars: Record<string, unknown>): string[] {
  const values = SECRET_VARS.flatMap((name) => {
    const raw = vars[name];
    if (raw === undefined || raw === null || raw instanceof VaultValue || String(raw) === "") return []; // the keyring scrubs what it decrypts

    try {
      return [String(raw), String(rendered(raw, vars))];
    } catch {
      return [String(raw)]; // connectionSettings reports the template's error
    }
  }).filter((v) => v !== "");
  return [...new Set(values)];
}

/** A connection variable's value, its templates rendered against the host's variables (as Ansible does). */
function rendered(value: unknown, vars: Record<string, unknown>): unknown {
  const plain = value instanceof VaultValue ? value.reveal() : value;
  return isTemplate(plain) ? renderValue(plain, vars) : plain;
}

const TRANSPORTS: Record<string, "local" | "ssh"> = {
  local: "local",
  ssh: "ssh",
  smart: "ssh",
  paramiko: "ssh",
  paramiko_ssh: "ssh",
};

/**
 * The connection settings of `host` from its resolved variables. Defaults: ssh to the host's own
 * name, except `localhost`/`127.0.0.1`/`::1` with no connection variable, which run locally.
 */
export function connectionSettings(host: string, vars: Record<string, unknown>): ConnectionSettings {
  const read = new Reader(host, vars);
  const connection = read.pick(NAMES.connection);
  let transport: "local" | "ssh";
  if (connection) {
    const value = String(connection.value);
    const known = TRANSPORTS[value];
    if (!known) read.fail(connection.name, `unknown connection type \`${value}\``, "use `local` or `ssh`");
    transport = known;
  } else {
    transport = LOCALHOST_NAMES.includes(host) ? "local" : "ssh";
  }
  const settings: ConnectionSettings = { host, transport, address: read.string(NAMES.address) ?? host };
  const optional: Partial<ConnectionSettings> = {
    port: read.port(NAMES.port),
    user: read.string(NAMES.user),
    privateKeyFile: expandHome(read.string(NAMES.privateKeyFile)),
    password: read.string(NAMES.password),
    become: read.bool(NAMES.become),
    becomeUser: read.string(NAMES.becomeUser),
    becomePassword: read.string(NAMES.becomePassword),
    knownHostsFile: expandHome(read.string(NAMES.knownHostsFile)),
    hostKeyChecking: read.hostKeyChecking(NAMES.hostKeyChecking),
    connectTimeoutMs: read.seconds(NAMES.connectTimeout),
    commandTimeoutMs: read.seconds(NAMES.commandTimeout),
    unreachableTimeoutMs: read.seconds(NAMES.unreachableTimeout),
    lockFile: read.absolutePath(NAMES.lockFile),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
  }
  return settings;
}

/** `~/x` → the controller user's home + `/x`, as Ansible does for key files. */
function expandHome(path: string | undefined): string | undefined {
  if (path === "~") return homedir();
  return path?.startsWith("~/") ? join(homedir(), path.slice(2)) : path;
}

/** Reads typed values out of a host's variables; every bad value names the host and variable. */
class Reader {
  constructor(
    private readonly host: string,
    private readonly vars: Record<string, unknown>,
  ) {}

  /** The first variable of `names` that is set (null and "" count as unset). */
  pick(names: readonly string[]): { name: string; value: unknown } | undefined {
    for (const name of names) {
      const raw = this.vars[name];
      if (raw === undefined || raw === null || raw === "") continue;
      let value: unknown;
      try {
        value = rendered(raw, this.vars);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        this.fail(name, `cannot render its template: ${why}`, "define the variables it uses for this host");
      }
      if (value !== undefined && value !== null && value !== "") return { name, value };
    }
    return undefined;
  }

  string(names: readonly string[]): string | undefined {
    const found = this.pick(names);
    if (!found) return undefined;
    if (typeof found.value === "object")
      this.fail(
        found.name,
        "expected a single value, got a mapping or list",
        "write a plain value such as `deploy`",
      );
    return String(found.value);
  }

  port(names: readonly string[]): number | undefined {
    const found = this.pick(names);
    if (!found) return undefined;
    const port = Number(found.value);
    if (!/^\d+$/.test(String(found.value).trim()) || port < 1 || port > 65535) {
      this.fail(
        found.name,
        `bad port \`${String(found.value)}\``,
        "a port is a number from 1 to 65535, e.g. 22",
      );
    }
    return port;
  }

  bool(names: readonly string[]): boolean | undefined {
    const found = this.pick(names);
    if (!found) return undefined;
    if (typeof found.value === "boolean") return found.value;
    const text = String(found.value).toLowerCase();
    if (["yes", "true", "on", "1", "y"].includes(text)) return true;
    if (["no", "false", "off", "0", "n"].includes(text)) return false;
    return this.fail(
      found.name,
      `expected true or false, got \`${String(found.value)}\``,
      "write `true` or `false`",
    );
  }

  seconds(names: readonly string[]): number | undefined {
    const found = this.pick(names);
    if (!found) return undefined;
    const seconds = Number(found.value);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      this.fail(
        found.name,
        `expected a number of seconds, got \`${String(found.value)}\``,
        "write a positive number, e.g. 30",
      );
    }
    return Math.round(seconds * 1000);
  }

  absolutePath(names: readonly string[]): string | undefined {
    const path = this.string(names);
    if (path !== undefined && !path.startsWith("/"))
      this.fail(names[0], `expected an absolute path, got \`${path}\``, "write e.g. /var/lib/tickless/lock");
    return path;
  }

  hostKeyChecking(names: readonly string[]): ConnectionSettings["hostKeyChecking"] {
    const found = this.pick(names);
    if (!found) return undefined;
    if (found.value === true) return "strict";
    if (found.value === false) return "off";
    const value = String(found.value);
    if (value === "strict" || value === "accept-new" || value === "off") return value;
    const asBool = ["yes", "true", "no", "false"].indexOf(value.toLowerCase());
    if (asBool >= 0) return asBool < 2 ? "strict" : "off";
    return this.fail(
      found.name,
      `unknown host key checking mode \`${value}\``,
      "use `strict`, `accept-new` or `off`",
    );
  }

  /** Throws; only non-secret variables ever quote their value in `problem`. */
  fail(name: string, problem: string, hint: string): never {
    throw new ParseError("INVENTORY", `host \`${this.host}\`: variable \`${name}\`: ${problem}`, { hint });
  }
}
