import { type ChildProcess, execFile, spawn } from "node:child_process";
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";

import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { quote } from "shell-quote";
import { stringify } from "yaml";
import { freePort } from "../support/net.js";
import { writeIrqFixture } from "./irq-fixture.js";

const execFileAsync = promisify(execFile);

export const SSHD = "/usr/sbin/sshd";

/**
 * Real directories each host sees through its own overlay. `/home`, `/var/log` and `/var/mail` too:
 * useradd and userdel write there (homes, lastlog and faillog, mail spools).
 */
export const OVERLAID = ["/etc", "/opt", "/boot", "/root", "/var/lib", "/home", "/var/log", "/var/mail"];

export interface LabHost {
  name: string;
  address: "127.0.0.1";
  port: number;
  /** Root of this host's overlay upper dirs: `<upper>/etc/…` holds what the host changed under /etc. */
  upper: string;
  /** Host-side PID of the host's sshd (PID 1 of its namespace: killing it ends every session). */
  pid: number;
  /** The host's public key line (`ssh-ed25519 AAAA…`). */
  hostKey: string;
}

/** What tests need to reach the lab; plain data, so it crosses vitest's provide/inject. */
export interface LabDescription {
  dir: string;
  hosts: LabHost[];
  inventoryFile: string;
  knownHostsFile: string;
  keyFile: string;
}

export interface Lab extends LabDescription {
  /** Kills one host (its whole namespace): its connections drop, the other hosts keep running. */
  kill(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface LabOptions {
  /** Host names; default lab1, lab2, … */
  names?: string[];
  /** Milliseconds to wait for each sshd to listen; default 15 s. */
  startTimeoutMs?: number;
  /** sudo on the hosts (the package unpacked by fetch-sudo.sh) and unprivileged users who may use it. */
  sudo?: { root: string; users: LabUser[] };
  /** How many hosts start at once; default all (a fleet of hundreds starts in waves of this size). */
  startConcurrency?: number;
}

/** A login user of the hosts (the lab's key), allowed `sudo` to any user. */
export interface LabUser {
  name: string;
  uid: number;
  /** sudo asks for it (sudo -S); without one, NOPASSWD. */
  password?: string;
}

/** Starts `n` namespace hosts, each a real sshd on 127.0.0.1 with private overlays, /tmp and IRQ fixtures. */
export async function startLab(n: number, options: LabOptions = {}): Promise<Lab> {
  await access(SSHD).catch(() => {
    throw new Error(`the test lab needs OpenSSH's server at ${SSHD} (apt-get install openssh-server)`);
  });
  const dir = await mkdtemp(join(tmpdir(), "tickless-lab-"));
  const children: ChildProcess[] = [];
  const hosts: LabHost[] = [];
  const lab: Lab = {
    dir,
    hosts,
    inventoryFile: join(dir, "inventory.yml"),
    knownHostsFile: join(dir, "known_hosts"),
    keyFile: join(dir, "id_ed25519"),
    kill: async (name) => {
      const host = hosts.find((h) => h.name === name);
      if (!host) throw new Error(`no lab host ${name}`);
      await killAndWait(host.pid);
    },
    stop: async () => {
      for (const h of hosts) await killAndWait(h.pid);
      for (const c of children) if (c.pid) await killAndWait(c.pid);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await keygen(lab.keyFile);
    // Users other than root read authorized_keys as themselves: the lab dir must let them through.
    if (options.sudo) await chmod(dir, 0o711);
    await writeFile(join(dir, "authorized_keys"), await readFile(`${lab.keyFile}.pub`));
    const names = options.names ?? Array.from({ length: n }, (_, i) => `lab${i + 1}`);
    const start = (name: string) =>
      startHost(dir, name, options.startTimeoutMs ?? 15_000, children, options.sudo);
    const queue = [...names];
    const started = new Map<string, LabHost>();
    const worker = async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift())
        started.set(name, await start(name));
    };
    await Promise.all(
      Array.from({ length: Math.min(options.startConcurrency ?? names.length, names.length) }, worker),
    );
    hosts.push(...names.map((name) => started.get(name)!));
    await writeFile(lab.knownHostsFile, hosts.map((h) => `[${h.address}]:${h.port} ${h.hostKey}\n`).join(""));
    await writeFile(lab.inventoryFile, renderInventory(lab));
    return lab;
  } catch (err) {
    await lab.stop();
    throw err;
  }
}

/** The Ansible YAML inventory of the lab: group `lab`, one entry per host. */
function renderInventory(lab: LabDescription): string {
  const hosts = Object.fromEntries(
    lab.hosts.map((h) => [
      h.name,
      {
        ansible_host: h.address,
        ansible_port: h.port,
        ansible_user: "root",
        ansible_ssh_private_key_file: lab.keyFile,
        tickless_known_hosts_file: lab.knownHostsFile,
      },
    ]),
  );
  return stringify({ all: { children: { lab: { hosts } } } });
}

async function keygen(file: string): Promise<void> {
  await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "tickless-lab", "-f", file]);
}

async function startHost(
  labDir: string,
  name: string,
  timeoutMs: number,
  children: ChildProcess[],
  sudo?: LabOptions["sudo"],
): Promise<LabHost> {
  const hostDir = join(labDir, name);
  const upper = join(hostDir, "upper");
  const work = join(hostDir, "work");
  await mkdir(hostDir, { recursive: true });
  for (const d of OVERLAID) {
    await mkdir(join(upper, d), { recursive: true });
    await mkdir(join(work, d), { recursive: true });
  }
  const hostKeyFile = join(hostDir, "ssh_host_ed25519_key");
  await keygen(hostKeyFile);
  const hostKey = (await readFile(`${hostKeyFile}.pub`, "utf8")).trim().split(/\s+/).slice(0, 2).join(" ");
  const fixture = await writeIrqFixture(join(hostDir, "proc"));
  const config = join(hostDir, "sshd_config");
  const script = join(hostDir, "start.sh");
  const users = sudo ? await sudoSetup(sudo) : [];
  await writeFile(script, renderStartScript({ labDir, name, upper, work, config, users, ...fixture }));
  // A port free a moment ago may be taken before sshd binds it (many hosts starting at once): another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    await writeFile(config, renderSshdConfig(labDir, hostDir, hostKeyFile, port));
    try {
      const pid = await spawnHost(script, name, port, timeoutMs, children);
      return { name, address: "127.0.0.1", port, upper, pid, hostKey };
    } catch (err) {
      if (attempt >= 5 || !/Address already in use/.test(String(err))) throw err;
    }
  }
}

/** Starts the host's namespaces and sshd; resolves to sshd's pid once it listens on `port`. */
async function spawnHost(
  script: string,
  name: string,
  port: number,
  timeoutMs: number,
  children: ChildProcess[],
): Promise<number> {
  // setpriv: if the test process dies without stop(), unshare dies too, and --kill-child takes sshd down.
  const child = spawn(
    "setpriv",
    [
      "--pdeathsig",
      "KILL",
      "unshare",
      "--mount",
      "--uts",
      "--pid",
      "--fork",
      "--kill-child",
      "--mount-proc",
      "sh",
      script,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  children.push(child);
  await waitListening(child, name, port, timeoutMs);
  return childPid(child.pid!);
}

function renderSshdConfig(labDir: string, hostDir: string, hostKeyFile: string, port: number): string {
  return [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${hostKeyFile}`,
    `PidFile ${join(hostDir, "sshd.pid")}`,
    "PermitRootLogin prohibit-password",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    `AuthorizedKeysFile ${join(labDir, "authorized_keys")}`,
    "UsePAM no",
    "StrictModes no",
    "PrintMotd no",
    "MaxSessions 64",
    "MaxStartups 100",
    "Subsystem sftp internal-sftp",
    "",
  ].join("\n");
}

interface StartScript {
  labDir: string;
  name: string;
  upper: string;
  work: string;
  config: string;
  irqDir: string;
  interruptsFile: string;
  managedAffinityFiles: string[];
  /** Lines run before sshd starts (sudo and its users). */
  users: string[];
}

/** The shell run inside the namespaces: private mounts, overlays, /tmp, /run, fixtures, hostname, sshd. */
function renderStartScript(s: StartScript): string {
  const q = (v: string) => quote([v]);
  const lines = ["set -eu", "mount --make-rprivate /"];
  for (const d of OVERLAID) {
    lines.push(
      `mount -t overlay overlay -o ${q(`lowerdir=${d},upperdir=${s.upper}${d},workdir=${s.work}${d}`)} ${d}`,
    );
  }
  lines.push(
    "mount -t tmpfs -o mode=0755 tmpfs /run",
    "mkdir -p /run/sshd /run/tickless-lab",
    // The lab dir lives under /tmp: keep it reachable at the same path once /tmp is private.
    `mount --bind ${q(s.labDir)} /run/tickless-lab`,
    "mount -t tmpfs -o mode=1777 tmpfs /tmp",
    `mkdir -p ${q(s.labDir)}`,
    `mount --bind /run/tickless-lab ${q(s.labDir)}`,
    // The machine's sysfs read-only, and its tracefs and debugfs hidden under empty read-only
    // tmpfs: no test can write a real /sys or tracing file through a lab host (fixtures take a
    // sys_root or tracefs of their own). The other submounts (cgroups) stay as they are.
    "mount --rbind /sys /sys",
    "mount -o remount,bind,ro /sys",
    "for d in /sys/kernel/tracing /sys/kernel/debug; do [ -d $d ] && mount -t tmpfs -o ro,mode=0555,size=4k tmpfs $d; done; true",
    `mount --bind ${q(s.irqDir)} /proc/irq`,
    `mount --bind ${q(s.interruptsFile)} /proc/interrupts`,
  );
  for (const f of s.managedAffinityFiles) {
    const inProc = f.replace(s.irqDir, "/proc/irq");
    lines.push(`mount --bind ${q(inProc)} ${q(inProc)}`, `mount -o remount,bind,ro ${q(inProc)}`);
  }
  // A fresh Debian root account: the machine's own /root dotfiles (pyenv, cargo…) stay out of the hosts.
  lines.push("cp /etc/skel/.bashrc /etc/skel/.profile /root/ 2>/dev/null || true");
  lines.push(...s.users);
  lines.push(
    `hostname ${q(s.name)}`,
    `echo "127.0.1.1 ${s.name}" >> /etc/hosts`,
    `exec ${SSHD} -D -e -f ${q(s.config)}`,
    "",
  );
  return lines.join("\n");
}

/**
 * Shell lines that give a host sudo (the unpacked package over /usr, read-only; its /etc files in
 * the host's /etc overlay) and the users, written straight into the overlay's passwd/shadow/group,
 * each with a home under /var/lib.
 */
async function sudoSetup(sudo: NonNullable<LabOptions["sudo"]>): Promise<string[]> {
  const q = (v: string) => quote([v]);
  const lines = [
    `mount -t overlay overlay -o ${q(`lowerdir=${sudo.root}/usr:/usr`)} /usr`,
    `cp -a ${q(`${sudo.root}/etc/sudoers`)} ${q(`${sudo.root}/etc/sudo.conf`)} /etc/`,
    `cp -a ${q(`${sudo.root}/etc/pam.d/sudo`)} /etc/pam.d/`,
    "mkdir -p /etc/sudoers.d",
  ];
  for (const u of sudo.users) {
    const hash = u.password ? await passwordHash(u.password) : "*";
    const home = `/var/lib/lab-home/${u.name}`;
    const rule = `${u.name} ALL=(ALL:ALL) ${u.password ? "" : "NOPASSWD: "}ALL`;
    lines.push(
      `echo ${q(`${u.name}:x:${u.uid}:${u.uid}::${home}:/bin/sh`)} >> /etc/passwd`,
      `echo ${q(`${u.name}:${hash}:19000:0:99999:7:::`)} >> /etc/shadow`,
      `echo ${q(`${u.name}:x:${u.uid}:`)} >> /etc/group`,
      `mkdir -p ${q(home)} && chown ${u.uid}:${u.uid} ${q(home)}`,
      `printf '%s\\n' ${q(rule)} ${q(`Defaults:${u.name} lecture=never`)} > /etc/sudoers.d/${u.name}`,
      `chmod 0440 /etc/sudoers.d/${u.name}`,
    );
  }
  return lines;
}

async function passwordHash(password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile("openssl", ["passwd", "-6", "-stdin"], (err, stdout) =>
      err ? reject(err) : resolve(stdout.trim()),
    );
    child.stdin?.end(`${password}\n`);
  });
}

/** Resolves once sshd says it listens; rejects with its stderr if it exits or takes too long. */
function waitListening(child: ChildProcess, name: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(
      () => fail(`lab host ${name} did not listen on port ${port} within ${timeoutMs} ms`),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes(`Server listening on 127.0.0.1 port ${port}`)) {
        clearTimeout(timer);
        child.off("exit", onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) => fail(`lab host ${name} exited (${code}) before listening`);
    function fail(message: string) {
      clearTimeout(timer);
      child.stderr?.off("data", onData);
      reject(new Error(`${message}:\n${log.trim()}`));
    }
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
  });
}

/** The host-side PID of unshare's forked child (the sshd that became PID 1 of the namespace). */
async function childPid(unsharePid: number): Promise<number> {
  const children = await readFile(`/proc/${unsharePid}/task/${unsharePid}/children`, "utf8");
  const pid = Number(children.trim().split(/\s+/)[0]);
  if (!pid) throw new Error(`cannot find the sshd started by unshare (pid ${unsharePid})`);
  return pid;
}

async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
