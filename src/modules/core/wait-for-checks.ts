/**
 * What `wait_for` runs on the host: one small sh loop bounded by timeout(1) for a port (bash's
 * /dev/tcp, or `nc -z` without bash), a path, or a port's connections draining (counted in
 * /proc/net/tcp as Ansible's Linux strategy counts them); and the Python `search_regex` it
 * matches against a file's bytes on the controller (wait_for.ts).
 */
import { quote } from "shell-quote";
import { compilePython } from "../files/python-regex.js";

export interface WaitForArgs {
  host?: string;
  port?: number;
  path?: string;
  state?: "started" | "stopped" | "present" | "absent" | "drained";
  timeout?: number;
  delay?: number;
  sleep?: number;
  connect_timeout?: number;
  search_regex?: string;
  msg?: string;
}

/** What the loop waits for, with defaults filled in. */
export function waitSettings(args: WaitForArgs) {
  return {
    host: args.host ?? "127.0.0.1",
    state: args.state ?? "started",
    timeout: args.timeout ?? 300,
    delay: args.delay ?? 0,
    sleep: args.sleep ?? 1,
    connectTimeout: args.connect_timeout ?? 5,
  };
}

/** Ansible's default `active_connection_states` as /proc/net/tcp's state codes. */
const ACTIVE_STATES = ["01", "02", "03", "04", "05", "06"];

/** An IPv4 address as /proc/net/tcp writes it (little-endian hex), or undefined for another host. */
export function procNetAddress(host: string): string | undefined {
  const ip = host === "localhost" ? "127.0.0.1" : host;
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  const bytes = m.slice(1).map(Number);
  if (bytes.some((b) => b > 255)) return undefined;
  return bytes
    .reverse()
    .map((b) => b.toString(16).toUpperCase().padStart(2, "0"))
    .join("");
}

/** Succeeds while a connection to `host:port` is still active (0.0.0.0: to any local address). */
function activeConnections(host: string, port: number): string {
  const addr = procNetAddress(host) ?? "";
  const local = addr === "00000000" ? "[0-9A-F]{8}" : addr;
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const states = ACTIVE_STATES.join("|");
  return `grep -Eq -- ${quote([`^ *[0-9]+: ${local}:${hexPort} [0-9A-F:]+ (${states}) `])} /proc/net/tcp`;
}

/**
 * The shell test for one attempt: succeeds when the port is open / the file is there (drained:
 * while a connection is active). `loud`: the test says why it fails on stderr (the probe run once
 * more after a timeout, for the result's `last_error`).
 */
export function checkCommand(args: WaitForArgs, loud = false): string {
  const s = waitSettings(args);
  const quiet = loud ? "" : " >/dev/null 2>&1";
  if (args.port !== undefined && s.state === "drained") return activeConnections(s.host, args.port);
  if (args.port !== undefined) {
    const tcp = quote([`exec 3<>/dev/tcp/${s.host}/${args.port}`]);
    const ct = s.connectTimeout;
    return (
      `if command -v bash >/dev/null 2>&1; then timeout ${ct} bash -c ${tcp}${quiet}; ` +
      `else nc -z -w ${ct} ${quote([s.host, String(args.port)])}${quiet}; fi`
    );
  }
  const path = quote([args.path ?? ""]);
  return loud ? `ls -d -- ${path} >/dev/null` : `test -e ${path}`;
}

/** The whole wait as one script: exits 0 when the condition holds, 124 (timeout) otherwise. */
export function waitScript(args: WaitForArgs): string {
  const s = waitSettings(args);
  const check = checkCommand(args);
  const wantsPresence = s.state === "started" || s.state === "present";
  const delay = s.delay > 0 ? `sleep ${s.delay}; ` : "";
  if (args.port === undefined && args.path === undefined) return `${delay}sleep ${s.timeout}`;
  const loop = wantsPresence
    ? `until ${check}; do sleep ${s.sleep}; done`
    : `while ${check}; do sleep ${s.sleep}; done`;
  return `${delay}timeout ${s.timeout} sh -c ${quote([loop])}`;
}

/** A `search_regex` as Python's `re.compile(…, re.MULTILINE)` over bytes (read as latin1 text). */
export function searchRegex(pattern: string): RegExp {
  const { regex } = compilePython(pattern, "search_regex");
  return new RegExp(regex.source, regex.flags.includes("m") ? regex.flags : `${regex.flags}m`);
}

/** A match's `match_groups` and `match_groupdict`, as Python's groups() and groupdict(). */
export function matchFields(m: RegExpExecArray): { match_groups: unknown[]; match_groupdict: object } {
  const text = (g: string | undefined) =>
    g === undefined ? null : Buffer.from(g, "latin1").toString("utf8");
  const dict: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(m.groups ?? {})) dict[name] = text(value);
  return { match_groups: m.slice(1).map(text), match_groupdict: dict };
}
