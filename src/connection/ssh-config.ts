import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import SSHConfig from "ssh-config";
import { ParseError } from "../errors.js";

const MAX_JUMP_DEPTH = 8;

/** Where and how to reach one host, after ~/.ssh/config and the inventory are merged. */
export interface SshTarget {
  /** The address to connect to. */
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  connectTimeoutMs?: number;
  /** Hops to go through first, in order (ProxyJump `a,b` → a then b). */
  jumps: SshTarget[];
}

/** What the inventory says; each defined value wins over ~/.ssh/config. */
export interface SshOverrides {
  address?: string;
  port?: number;
  user?: string;
  privateKeyFile?: string;
  connectTimeoutMs?: number;
}

export function defaultSshConfigFile(): string {
  return join(homedir(), ".ssh", "config");
}

/** Loads an ssh config file; a missing file is an empty config. */
export async function loadSshConfig(file = defaultSshConfigFile()): Promise<SSHConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return new SSHConfig();
    throw err;
  }
  try {
    return SSHConfig.parse(text);
  } catch (err) {
    throw new ParseError("INVENTORY", `cannot parse the ssh config ${file}: ${(err as Error).message}`, {
      location: { file },
      cause: err,
    });
  }
}

/** Resolves `alias` through the ssh config (HostName, Port, User, IdentityFile, ConnectTimeout, ProxyJump). */
export function resolveSshTarget(
  config: SSHConfig,
  alias: string,
  overrides: SshOverrides = {},
  depth = 0,
): SshTarget {
  if (depth > MAX_JUMP_DEPTH) {
    throw new ParseError("INVENTORY", `ProxyJump for ${alias} loops (more than ${MAX_JUMP_DEPTH} hops)`, {
      hint: "check the ProxyJump lines of your ssh config",
    });
  }
  const computed = config.compute(alias);
  const one = (key: string): string | undefined => {
    const v = computed[key];
    return Array.isArray(v) ? v[0] : v;
  };
  const all = (key: string): string[] => {
    const v = computed[key];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  const host = overrides.address ?? one("HostName")?.replace(/%h/g, alias) ?? alias;
  const configTimeout = one("ConnectTimeout");
  const identityFiles = overrides.privateKeyFile
    ? [expandHome(overrides.privateKeyFile)]
    : all("IdentityFile").map(expandHome);
  const proxyJump = one("ProxyJump");
  const jumps =
    proxyJump && proxyJump.toLowerCase() !== "none"
      ? proxyJump.split(",").map((hop) => resolveSshTarget(config, ...parseHop(hop), depth + 1))
      : [];
  return {
    host,
    port: overrides.port ?? numberOr(one("Port"), 22),
    user: overrides.user ?? one("User") ?? process.env.USER ?? "root",
    identityFiles,
    connectTimeoutMs:
      overrides.connectTimeoutMs ?? (configTimeout ? numberOr(configTimeout, 10) * 1000 : undefined),
    jumps,
  };
}

/** `[user@]host[:port]` of a ProxyJump hop, as an alias plus the overrides it spells out. */
function parseHop(hop: string): [string, SshOverrides] {
  const match = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hop.trim());
  if (!match) return [hop.trim(), {}];
  const [, user, rawHost, port] = match;
  const alias = rawHost.replace(/^\[|\]$/g, "");
  return [alias, { user, port: port ? Number(port) : undefined }];
}

function numberOr(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) ? n : fallback;
}

/** `~` and `~/x` → the home directory, as ssh does for IdentityFile. */
export function expandHome(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return join(homedir(), path.slice(2));
  return path;
}
