/** Helpers for playbooks run over real SSH on lab hosts: host views from outside, state hashes, inventories. */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { lstat, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import type { TaskResult } from "../../src/index.js";
import { byStatus, type Run } from "../e2e/helpers.js";
import type { LabDescription, LabHost } from "../lab/lab.js";

const execFileAsync = promisify(execFile);

/** A name no other test uses, for the dirs a test creates on the hosts. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** The host's whole filesystem as its sshd sees it (private /tmp, overlays), read from outside. */
export function hostRoot(host: LabHost): string {
  return `/proc/${host.pid}/root`;
}

/** A path on the host, read from outside through its namespace. */
export function onHost(host: LabHost, path: string): string {
  return join(hostRoot(host), path);
}

/**
 * `{ path: "dir 0755" | "file 0644 <sha256>" | "link -> target" }` for every entry under each root
 * (absent roots contribute nothing): bytes, modes, types and link targets all count.
 */
export async function hashState(roots: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (p: string): Promise<void> => {
    const s = await lstat(p).catch(() => undefined);
    if (!s) return;
    const mode = (s.mode & 0o7777).toString(8).padStart(4, "0");
    if (s.isSymbolicLink()) out[p] = `link -> ${await readlink(p)}`;
    else if (s.isDirectory()) {
      out[p] = `dir ${mode} ${s.uid}:${s.gid}`;
      for (const name of (await readdir(p)).sort()) await visit(join(p, name));
    } else {
      const sha = createHash("sha256")
        .update(await readFile(p))
        .digest("hex");
      out[p] = `file ${mode} ${s.uid}:${s.gid} ${sha}`;
    }
  };
  for (const r of roots) await visit(r);
  return out;
}

/** Paths under the roots whose names are atomic-write temp files (`.name.tickless.XXXXXX` / `-`). */
export async function tempLeftovers(roots: string[]): Promise<string[]> {
  const state = await hashState(roots);
  return Object.keys(state).filter((p) => /\/\.[^/]*\.tickless[.-][^/]*$/.test(p));
}

/** Removes the given host paths from outside (through the host's own mounts). */
export async function removeOnHosts(hosts: LabHost[], paths: string[]): Promise<void> {
  for (const h of hosts) {
    for (const p of paths) await rm(onHost(h, p), { recursive: true, force: true });
  }
}

/**
 * An inventory of lab hosts in group `lab`, connection variables as the lab's own inventory,
 * plus `all` vars and per-host vars (which win).
 */
export async function writeLabInventory(
  file: string,
  lab: LabDescription,
  options: {
    vars?: Record<string, unknown>;
    hosts?: Record<string, Record<string, unknown>>;
    extraHosts?: Record<string, Record<string, unknown>>;
  } = {},
): Promise<string> {
  const hosts: Record<string, Record<string, unknown>> = {};
  for (const h of lab.hosts) {
    hosts[h.name] = {
      ansible_host: h.address,
      ansible_port: h.port,
      ansible_user: "root",
      ansible_ssh_private_key_file: lab.keyFile,
      tickless_known_hosts_file: lab.knownHostsFile,
      ...options.hosts?.[h.name],
    };
  }
  Object.assign(hosts, options.extraHosts ?? {});
  await writeFile(file, stringify({ all: { vars: options.vars ?? {}, children: { lab: { hosts } } } }));
  return file;
}

/**
 * What a check run says the real run will change, as sorted `host:task`: state tasks reported
 * changed, and commands reported as "would have run" (skipped in check mode, as Ansible does).
 */
export function predictedChanges(r: Run): string[] {
  const wouldRun = r.results
    .filter((e) => e.status !== "changed" && [e.result, ...(e.result.results ?? [])].some(wouldHaveRun))
    .map((e) => `${e.host}:${e.task}`);
  return [...byStatus(r, "changed"), ...wouldRun].sort();
}

/** A command that check mode skipped because it would have run (a loop task: any of its items). */
function wouldHaveRun(result: TaskResult): boolean {
  return result.skipped && result.msg === "Command would have run if not in check mode";
}

export function changedTasks(r: Run): string[] {
  return byStatus(r, "changed").sort();
}

/** Runs a command on a lab host with OpenSSH's own client (independent of tickless's transport). */
export async function sshRun(lab: LabDescription, host: LabHost, command: string): Promise<string> {
  const { stdout } = await execFileAsync("ssh", [...sshArgs(lab, host), command], { timeout: 15_000 });
  return stdout;
}

/** OpenSSH client arguments that reach a lab host with the lab's key and known_hosts only. */
export function sshArgs(lab: LabDescription, host: LabHost): string[] {
  return [
    "-i",
    lab.keyFile,
    "-p",
    String(host.port),
    "-o",
    `UserKnownHostsFile=${lab.knownHostsFile}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-F",
    "/dev/null",
    `root@${host.address}`,
  ];
}

export { freePort } from "../support/net.js";

/** Resolves once something accepts connections on 127.0.0.1:port (at most 10 s). */
export async function untilListening(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/**
 * A one-host inventory for both ansible-playbook and tickless: the lab host under `alias`, root by
 * key, the lab's known_hosts, and the host's python3 (the referee's modules run there).
 */
export function refereeHostInventory(lab: LabDescription, host: LabHost, alias: string): string {
  const vars = {
    ansible_host: host.address,
    ansible_port: host.port,
    ansible_user: "root",
    ansible_ssh_private_key_file: lab.keyFile,
    ansible_python_interpreter: "/usr/bin/python3",
    tickless_known_hosts_file: lab.knownHostsFile,
  };
  return stringify({ all: { hosts: { [alias]: vars } } });
}

/** `name: status {the result's `fields` that are set}`: one task's outcome, comparable across tools. */
export function resultLine(
  fields: readonly string[],
  name: string,
  status: string,
  r: Record<string, unknown>,
) {
  const kept = Object.fromEntries(fields.filter((f) => r[f] !== undefined).map((f) => [f, r[f]]));
  return `${name}: ${status} ${JSON.stringify(kept)}`;
}
