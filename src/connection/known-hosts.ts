import { createHmac, timingSafeEqual } from "node:crypto";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { ConnectionError } from "../errors.js";

export type HostKeyChecking = "strict" | "accept-new" | "off";

/** One key line of a known_hosts file. */
export interface KnownHostEntry {
  file: string;
  line: number;
  marker?: "revoked" | "cert-authority";
  /** The host field as written: comma-separated patterns, or one `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  /** The key blob, as sent by the server during the handshake. */
  key: Buffer;
}

/** The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port = 22): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Default files: ~/.ssh/known_hosts first (accept-new appends to the first file). */
export function defaultKnownHostsFiles(): string[] {
  return [join(homedir(), ".ssh", "known_hosts")];
}

/** Parses OpenSSH known_hosts text; comments, blank and malformed lines are skipped. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split("\n").forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === "" || fields[0].startsWith("#")) return;
    let marker: KnownHostEntry["marker"];
    if (fields[0] === "@revoked" || fields[0] === "@cert-authority") {
      marker = fields.shift() === "@revoked" ? "revoked" : "cert-authority";
    }
    const [hosts, keyType, base64] = fields;
    if (!hosts || !keyType || !base64) return;
    entries.push({ file, line: index + 1, marker, hosts, keyType, key: Buffer.from(base64, "base64") });
  });
  return entries;
}

/** Reads and parses the files that exist, in order. */
export async function loadKnownHosts(files: string[]): Promise<KnownHostEntry[]> {
  const all: KnownHostEntry[] = [];
  for (const file of files) {
    const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return "";
      throw err;
    });
    all.push(...parseKnownHosts(text, file));
  }
  return all;
}

/** Whether an entry's host field names `name` (`host` or `[host]:port`): hashed, globs and negations. */
export function hostMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith("|1|")) {
    const [, , salt, hash] = hosts.split("|");
    if (!salt || !hash) return false;
    const expected = Buffer.from(hash, "base64");
    const actual = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
  let matched = false;
  for (const pattern of hosts.split(",")) {
    const negated = pattern.startsWith("!");
    if (globMatch(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** OpenSSH host patterns: `*` and `?`, case-insensitive. */
function globMatch(pattern: string, name: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`, "i").test(name);
}

/** The key type named inside an SSH key blob (its first length-prefixed string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return "";
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString("latin1");
}

export interface HostKeyCheck {
  /** The host as connected to (after ssh config's HostName) and its port. */
  host: string;
  port: number;
  policy: HostKeyChecking;
  files: string[];
}

/** Host key types already known for a host: offered first during the handshake, as OpenSSH does. */
export async function knownKeyTypes(check: HostKeyCheck): Promise<string[]> {
  const name = knownHostName(check.host, check.port);
  const entries = await loadKnownHosts(check.files);
  return [...new Set(entries.filter((e) => !e.marker && hostMatches(e.hosts, name)).map((e) => e.keyType))];
}

/**
 * Checks the key a server presented. Resolves when accepted (recording it under accept-new);
 * rejects with a HOST_KEY ConnectionError when unknown under strict, changed, or revoked.
 */
export async function verifyHostKey(check: HostKeyCheck, key: Buffer): Promise<void> {
  if (check.policy === "off") return;
  const name = knownHostName(check.host, check.port);
  const keyType = keyTypeOf(key);
  const entries = (await loadKnownHosts(check.files)).filter((e) => hostMatches(e.hosts, name));
  const revoked = entries.find((e) => e.marker === "revoked" && e.key.equals(key));
  if (revoked) {
    throw hostKeyError(`the host key of ${name} is marked @revoked at ${revoked.file}:${revoked.line}`);
  }
  const sameType = entries.filter((e) => !e.marker && e.keyType === keyType);
  if (sameType.some((e) => e.key.equals(key))) return;
  const old = sameType[0];
  if (old) {
    throw hostKeyError(
      `the ${keyType} host key of ${name} has CHANGED: it differs from the key at ${old.file}:${old.line}`,
      `if the host was reinstalled, remove the old key (ssh-keygen -R '${name}' -f ${old.file}) and connect again; otherwise someone may be intercepting the connection`,
    );
  }
  if (check.policy === "accept-new") {
    await recordHostKey(check.files[0] ?? defaultKnownHostsFiles()[0], name, key);
    return;
  }
  const keyscan =
    check.port === 22 ? `ssh-keyscan ${check.host}` : `ssh-keyscan -p ${check.port} ${check.host}`;
  throw hostKeyError(
    `the host key of ${name} is not known (${keyType}; looked in ${check.files.join(", ")})`,
    `add it with \`${keyscan} >> ~/.ssh/known_hosts\` after checking its fingerprint, or run with --host-key-checking accept-new`,
  );
}

/** Appends `name keytype base64` to a known_hosts file (plain, not hashed). */
export async function recordHostKey(file: string, name: string, key: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const existing = await readFile(file, "utf8").catch(() => "");
  const separator = existing === "" || existing.endsWith("\n") ? "" : "\n";
  await appendFile(file, `${separator}${name} ${keyTypeOf(key)} ${key.toString("base64")}\n`, {
    mode: 0o600,
  });
}

function hostKeyError(message: string, hint?: string): ConnectionError {
  return new ConnectionError(message, { code: "HOST_KEY", hint });
}
