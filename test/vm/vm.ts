/**
 * startVm: boots a qcow2 overlay of the pristine image with qemu-system-x86_64 (SeaBIOS → GRUB in
 * the image → kernel, so the kernel command line is the one the guest's own grub.cfg says), with
 * SSH forwarded to a free port on 127.0.0.1, and waits until root can log in.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import { freePort } from "../ssh-e2e/helpers.js";
import { kvmWorks } from "./accel.js";
import { ensureImage, type ImageOptions, type VmImage } from "./image.js";

const execFileAsync = promisify(execFile);

export interface VmOptions extends ImageOptions {
  /** Inventory host name; default vm1. */
  name?: string;
  /** Default: $TICKLESS_VM_ACCEL, else kvm when the probe boots the image's kernel under it, else tcg. */
  accel?: "kvm" | "tcg";
  /** Default 8. */
  cpus?: number;
  /** Default 1024. */
  memoryMiB?: number;
  /** How long a boot may take until SSH answers; default $TICKLESS_VM_BOOT_TIMEOUT seconds or 20 min. */
  bootTimeoutMs?: number;
  /**
   * How long the guest's sshd may stay silent (no banner) before the harness resets the machine, as
   * a BMC would; default $TICKLESS_VM_HANG_TIMEOUT seconds or 8 min. See supervise().
   */
  hangTimeoutMs?: number;
  /** Keep the VM's directory (overlay, console log) after stop(); default $TICKLESS_VM_KEEP. */
  keep?: boolean;
}

export interface SshResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface Vm {
  name: string;
  /** Holds the overlay disk, console.log, known_hosts and inventory.yml. */
  dir: string;
  port: number;
  keyFile: string;
  knownHostsFile: string;
  /** Ansible YAML inventory: group `vm`, host `name`, reached as root by key over the forwarded port. */
  inventoryFile: string;
  /** Everything the guest wrote on its serial console (GRUB, kernel, systemd), across reboots. */
  consoleLog: string;
  /** What the harness did to the machine (resets by the supervisor), one line each. */
  harnessLog: string;
  accel: "kvm" | "tcg";
  image: VmImage;
  /** Seconds from qemu's start to the first successful SSH login. */
  bootSeconds: number;
  /** Runs a shell command as root in the guest; rejects on a non-zero exit unless `allowFailure`. */
  ssh(command: string, options?: { allowFailure?: boolean; timeoutMs?: number }): Promise<SshResult>;
  /** The guest's current /proc/sys/kernel/random/boot_id. */
  bootId(): Promise<string>;
  /** `systemctl reboot` in the guest, then waits for SSH under a new boot id; returns the seconds it took. */
  reboot(): Promise<number>;
  /** Waits for SSH under a boot id other than `previous` (after a reboot the guest started itself). */
  waitForReboot(previous: string): Promise<void>;
  /** Resets the harness's supervisor did because the guest hung (see supervise()). */
  readonly resets: number;
  /**
   * Times the harness started qemu again on the same disk, as a power cycle would: qemu itself
   * exited while the harness waited for the guest (an emulator crash, not the guest's doing), or a
   * reset by the supervisor brought no SSH banner back (see supervise()).
   */
  readonly powerCycles: number;
  /** Freezes the guest's CPUs (QMP `stop`): a hang for the supervisor's own test. */
  freeze(): Promise<void>;
  /** Kills qemu (SIGKILL): an emulator crash for the harness's own test of its power cycle. */
  crashEmulator(): Promise<void>;
  /** Changes the supervisor's hang timeout (its own test shortens it). */
  setHangTimeout(ms: number): void;
  /**
   * Adds `user` (root's key, password `password`) whose sudo asks for that password, as on a
   * production host, and writes an inventory `file` (in the VM dir) that logs in as that user
   * with `ansible_become_password` set and become itself left to the playbook.
   */
  addSudoUser(user: string, password: string, file: string): Promise<string>;
  stop(): Promise<void>;
}

/** Power cycles the harness does per VM (an emulator that died, a reset that brought nothing back). */
const MAX_POWER_CYCLES = 3;

/** Boots a fresh VM from the cached image (building the image first if needed). */
export async function startVm(options: VmOptions = {}): Promise<Vm> {
  const image = await ensureImage(options);
  const name = options.name ?? "vm1";
  const accel = options.accel ?? envAccel() ?? ((await kvmWorks(image)) ? "kvm" : "tcg");
  const bootTimeoutMs = options.bootTimeoutMs ?? Number(process.env.TICKLESS_VM_BOOT_TIMEOUT ?? 1200) * 1000;
  const hangTimeoutMs = options.hangTimeoutMs ?? Number(process.env.TICKLESS_VM_HANG_TIMEOUT ?? 480) * 1000;
  const keep = options.keep ?? Boolean(process.env.TICKLESS_VM_KEEP);
  await mkdir(tmpdir(), { recursive: true });
  const dir = await mkdtemp(join(tmpdir(), `tickless-vm-${name}-`));
  const overlay = join(dir, "disk.qcow2");
  await execFileAsync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", image.disk, "-F", "raw", overlay]);
  const port = await freePort();
  const consoleLog = join(dir, "console.log");
  const qmpSocket = join(dir, "qmp.sock");
  const knownHostsFile = join(dir, "known_hosts");
  await writeFile(knownHostsFile, `[127.0.0.1]:${port} ${image.hostKey}\n`);
  const inventoryFile = join(dir, "inventory.yml");
  await writeFile(inventoryFile, renderInventory(name, port, image.keyFile, knownHostsFile));

  const started = Date.now();
  const harnessLog = join(dir, "harness.log");
  const spec: QemuSpec = {
    accel,
    overlay,
    port,
    consoleLog,
    qmpSocket,
    harnessLog,
    cpus: options.cpus ?? 8,
    mem: options.memoryMiB ?? 1024,
  };
  let qemu = spawnQemu(spec);
  let powerCycles = 0;
  /** The supervisor is stopping qemu to start it again: its exit is not a crash. */
  let cycling = false;
  const supervisor = supervise({
    name,
    port,
    qmpSocket,
    consoleLog,
    harnessLog,
    hangTimeoutMs,
    qemu: () => qemu,
    powerCycle: (why) => powerCycle(why),
  });
  const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;
  /**
   * A power cycle, as a BMC's: qemu stopped (when it still runs) and started again on the same
   * overlay, at most MAX_POWER_CYCLES times per VM, said in harness.log. Two callers: qemu that
   * exited on its own (seen once in CI under TCG during a guest reboot, the guest shut down cleanly,
   * so its disk is consistent), and the supervisor after a reset that brought no SSH banner back.
   */
  const powerCycle = async (why: string): Promise<boolean> => {
    if (powerCycles >= MAX_POWER_CYCLES) return false;
    powerCycles++;
    const note = `[tickless vm harness] ${name}: ${why}: power cycle #${powerCycles} on the same disk\n`;
    const stderr = exited(qemu) ? `\n${qemuStderr(qemu)}` : "";
    console.warn(`${note.trim()}${stderr}\n${await tail(consoleLog, 15)}`);
    await appendFile(harnessLog, note).catch(() => undefined);
    cycling = true;
    try {
      await killAndWait(qemu);
      qemu = spawnQemu(spec);
    } finally {
      cycling = false;
    }
    supervisor.revive();
    return true;
  };
  const base = ["-p", String(port), "-i", image.keyFile, ...sshOptions(knownHostsFile), "root@127.0.0.1"];
  const ssh: Vm["ssh"] = async (command, opts = {}) => {
    const result = await sshRun(base, command, opts.timeoutMs ?? 300_000);
    if (result.code === 0) supervisor.revive();
    if (result.code !== 0 && !opts.allowFailure)
      throw new Error(`ssh ${name} '${command}' exited ${result.code}: ${result.stderr.trim()}`);
    return result;
  };
  const bootId = async () => (await ssh("cat /proc/sys/kernel/random/boot_id")).stdout.trim();
  const waitFor = async (accept: (id: string) => boolean, what: string) => {
    const deadline = Date.now() + bootTimeoutMs;
    for (;;) {
      if (
        exited(qemu) &&
        !cycling &&
        !(await powerCycle(`qemu exited (${qemu.exitCode ?? qemu.signalCode}) ${what}`))
      )
        throw new Error(
          `qemu exited (${qemu.exitCode ?? qemu.signalCode}) ${what}; power cycles by the harness: ${powerCycles}\n${qemuStderr(qemu)}\n${await tail(consoleLog)}`,
        );
      const r = await sshRun(base, "cat /proc/sys/kernel/random/boot_id", 30_000);
      if (r.code === 0) supervisor.revive();
      if (r.code === 0 && accept(r.stdout.trim())) return;
      if (Date.now() > deadline)
        throw new Error(
          `${name}: no SSH ${what} within ${bootTimeoutMs / 1000} s (${dir}); resets by the harness: ${supervisor.resets}\n${await tail(consoleLog)}`,
        );
      await sleep(3000);
    }
  };
  const stop = async () => {
    supervisor.stop();
    await killAndWait(qemu);
    if (!keep) await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => true, "after boot");
    await ssh(WATCHDOG_IN_GUEST);
  } catch (err) {
    supervisor.stop();
    await killAndWait(qemu);
    throw err;
  }
  const vm: Vm = {
    name,
    dir,
    port,
    keyFile: image.keyFile,
    knownHostsFile,
    inventoryFile,
    consoleLog,
    harnessLog,
    accel,
    image,
    bootSeconds: (Date.now() - started) / 1000,
    ssh,
    bootId,
    waitForReboot: (previous) => waitFor((id) => id !== previous, "after reboot"),
    get resets() {
      return supervisor.resets;
    },
    get powerCycles() {
      return powerCycles;
    },
    freeze: async () => {
      await qmp(qmpSocket, ["stop"]);
    },
    crashEmulator: async () => {
      const child = qemu;
      const gone = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGKILL");
      await gone;
    },
    setHangTimeout: (ms) => {
      supervisor.hangTimeoutMs = ms;
    },
    addSudoUser: async (user, password, file) => {
      await ssh(
        [
          `id ${user} >/dev/null 2>&1 || useradd -m -s /bin/bash ${user}`,
          `echo '${user}:${password}' | chpasswd`,
          `install -d -m 700 -o ${user} -g ${user} ~${user}/.ssh`,
          `install -m 600 -o ${user} -g ${user} /root/.ssh/authorized_keys ~${user}/.ssh/authorized_keys`,
          `echo '${user} ALL=(ALL:ALL) ALL' > /etc/sudoers.d/${user} && chmod 440 /etc/sudoers.d/${user}`,
        ].join(" && "),
      );
      const inventory = parse(await readFile(inventoryFile, "utf8"));
      Object.assign(inventory.all.children.vm.hosts[name], {
        ansible_user: user,
        ansible_become_password: password,
      });
      const path = join(dir, file);
      await writeFile(path, stringify(inventory));
      return path;
    },
    reboot: async () => {
      const t0 = Date.now();
      const previous = await bootId();
      // The connection may drop before ssh sees the exit status: only the new boot id counts.
      await ssh("systemctl reboot", { allowFailure: true, timeoutMs: 30_000 });
      await vm.waitForReboot(previous);
      return (Date.now() - t0) / 1000;
    },
    stop,
  };
  return vm;
}

/**
 * The guest's systemd drives the emulated i6300esb: pets it every 90 s at run time and arms it for
 * the last phase of a reboot, so that a hung guest is reset instead of failing a test after the
 * boot timeout; stop jobs time out after 60 s (Debian's default is 90 s each). Written into this
 * VM's overlay only (the image recipe is unchanged); daemon-reexec applies it.
 */
const WATCHDOG_IN_GUEST = [
  "mkdir -p /etc/systemd/system.conf.d",
  "printf '[Manager]\\nRuntimeWatchdogSec=3min\\nRebootWatchdogSec=3min\\nDefaultTimeoutStopSec=60s\\n' > /etc/systemd/system.conf.d/90-tickless-vm-watchdog.conf",
  "for i in $(seq 1 30); do [ -e /dev/watchdog0 ] && break; sleep 1; done",
  "systemctl daemon-reexec",
].join(" && ");

function envAccel(): "kvm" | "tcg" | undefined {
  const v = process.env.TICKLESS_VM_ACCEL;
  return v === "kvm" || v === "tcg" ? v : undefined;
}

interface Supervisor {
  readonly resets: number;
  hangTimeoutMs: number;
  /**
   * The machine answered over SSH, or was just started again: the hang clock starts over, and a
   * reset before it counts as answered (a test may freeze the guest again before the next banner
   * check, 10 s apart, has seen it back).
   */
  revive(): void;
  stop(): void;
}

/**
 * The harness's last line of defence, as a BMC's: every 10 s it reads the guest's SSH banner (a TCP
 * connect, no login, no load on the guest); when no banner came for `hangTimeoutMs` it resets the
 * machine through QMP (`system_reset`, then `cont` in case it was stopped) and notes it on the
 * console log and stderr. The guest's watchdog (WATCHDOG_IN_GUEST) covers hangs once systemd runs;
 * this covers what it cannot: a kernel that hangs while booting, before systemd arms the watchdog
 * (seen in CI under TCG: RCU stalls during the first boot, a guest busy in interrupts for 15 min),
 * whether the boot was started by the harness or by a playbook's reboot task. A healthy reboot
 * under load took up to 446 s here, hence 8 min. At most 3 resets per VM, then the tests fail. A
 * reset answered by no banner within the hang timeout is followed by a power cycle instead of
 * another reset (the VM's `powerCycle`), with qemu's `query-status` in harness.log.
 */
function supervise(s: {
  name: string;
  port: number;
  qmpSocket: string;
  consoleLog: string;
  harnessLog: string;
  hangTimeoutMs: number;
  qemu: () => ChildProcess;
  /** Stops qemu and starts it again on the same disk; false when the harness's limit is reached. */
  powerCycle: (why: string) => Promise<boolean>;
}): Supervisor {
  let resets = 0;
  let lastAlive = Date.now();
  let stopped = false;
  let busy = false;
  /** A reset was done and no banner came since. */
  let resetUnanswered = false;
  const tick = async () => {
    const qemu = s.qemu();
    if (busy || stopped || qemu.exitCode !== null || qemu.signalCode !== null) return;
    busy = true;
    try {
      if (await sshBanner(s.port, 20_000)) {
        lastAlive = Date.now();
        resetUnanswered = false;
      } else if (!stopped && Date.now() - lastAlive > supervisor.hangTimeoutMs && resetUnanswered) {
        const why = `no SSH banner for ${Math.round((Date.now() - lastAlive) / 1000)} s after system_reset #${resets}`;
        // qemu's own view of the machine (running, paused, internal-error…) for whoever reads the log
        const status = await qmpAnswer(s.qmpSocket, "query-status").catch((err: Error) => err.message);
        resetUnanswered = false;
        if (!(await s.powerCycle(`${why} (qemu status: ${status})`))) {
          const note = `[tickless vm harness] ${s.name}: ${why} (qemu status: ${status}): no power cycle left\n`;
          await appendFile(s.harnessLog, note).catch(() => undefined);
          lastAlive = Date.now();
        }
      } else if (!stopped && Date.now() - lastAlive > supervisor.hangTimeoutMs && resets < 3) {
        const n = resets + 1;
        const why = `no SSH banner for ${Math.round((Date.now() - lastAlive) / 1000)} s`;
        const note = `\n[tickless vm harness] ${s.name}: ${why}: system_reset #${n}\n`;
        console.warn(`${note.trim()}\n${await tail(s.consoleLog, 15)}`);
        // Not into console.log: qemu writes that file at its own offset, over anything appended.
        await appendFile(s.harnessLog, note.trimStart()).catch(() => undefined);
        await qmp(s.qmpSocket, ["system_reset", "cont"]).catch((err: Error) =>
          console.warn(`[tickless vm harness] ${s.name}: QMP reset failed: ${err.message}`),
        );
        // counted once the machine runs again (what a test waiting for the reset may rely on)
        resets = n;
        resetUnanswered = true;
        lastAlive = Date.now();
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), 10_000);
  timer.unref();
  const supervisor: Supervisor = {
    get resets() {
      return resets;
    },
    hangTimeoutMs: s.hangTimeoutMs,
    revive: () => {
      lastAlive = Date.now();
      resetUnanswered = false;
    },
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
  return supervisor;
}

/** True when something on 127.0.0.1:port greets with an SSH identification string within `timeoutMs`. */
function sshBanner(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      got += d;
      if (got.length >= 4) done(got.startsWith("SSH-"));
    });
    socket.on("error", () => done(false));
    socket.on("close", () => done(got.startsWith("SSH-")));
  });
}

/**
 * Runs QMP commands in order on qemu's monitor socket; resolves with the last one's `return`, rejects
 * on an error reply or after 30 s.
 */
function qmp(socketPath: string, commands: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const queue = ["qmp_capabilities", ...commands];
    let buffer = "";
    let greeted = false;
    let last: unknown;
    const timer = setTimeout(
      () => finish(new Error(`QMP ${commands.join(", ")}: no answer in 30 s`)),
      30_000,
    );
    const finish = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(last);
    };
    const next = () => {
      const command = queue.shift();
      if (command === undefined) finish();
      else socket.write(`${JSON.stringify({ execute: command })}\n`);
    };
    socket.setEncoding("utf8");
    socket.on("error", (err) => finish(err));
    socket.on("data", (d: string) => {
      buffer += d;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc?: string } };
        if (msg.QMP && !greeted) {
          greeted = true;
          next();
        } else if (msg.error) finish(new Error(`QMP: ${msg.error.desc ?? JSON.stringify(msg.error)}`));
        else if ("return" in msg) {
          last = msg.return;
          next();
        }
        // Events ({"event": …}) are ignored.
      }
    });
  });
}

/** One QMP query's answer as JSON text (`query-status`: `{"running":false,"status":"paused"}`). */
async function qmpAnswer(socketPath: string, command: string): Promise<string> {
  return JSON.stringify(await qmp(socketPath, [command]));
}

interface QemuSpec {
  accel: string;
  overlay: string;
  port: number;
  consoleLog: string;
  qmpSocket: string;
  harnessLog: string;
  cpus: number;
  mem: number;
}

/** The last stderr lines of each qemu the harness started (kept for error messages). */
const stderrTails = new WeakMap<ChildProcess, string>();
/** qemus the harness is stopping itself: their exit and "terminating on signal" are not news. */
const stopping = new WeakSet<ChildProcess>();

function qemuStderr(child: ChildProcess): string {
  const text = stderrTails.get(child)?.trim();
  return text ? `qemu's stderr (last lines):\n${text}` : "qemu printed nothing on stderr";
}

// setpriv: qemu dies with the test process even when stop() never runs.
function spawnQemu(s: QemuSpec): ChildProcess {
  const child = spawn(
    "setpriv",
    [
      "--pdeathsig",
      "KILL",
      "qemu-system-x86_64",
      "-accel",
      s.accel,
      "-smp",
      String(s.cpus),
      "-m",
      String(s.mem),
      "-display",
      "none",
      "-monitor",
      "none",
      "-qmp",
      `unix:${s.qmpSocket},server=on,wait=off`,
      "-vga",
      "none",
      "-parallel",
      "none",
      "-drive",
      `file=${s.overlay},format=qcow2,if=virtio`,
      "-netdev",
      `user,id=n0,hostfwd=tcp:127.0.0.1:${s.port}-:22`,
      // Slot 3 makes the guest's NIC ens3, which the image's /etc/network/interfaces brings up.
      "-device",
      "virtio-net-pci,netdev=n0,addr=0x3",
      // append=on: a power cycle's new qemu goes on after the old one's lines instead of over them.
      "-chardev",
      `file,id=console,path=${s.consoleLog},append=on`,
      "-serial",
      "chardev:console",
      // A hardware watchdog, as servers have: systemd in the guest pets it (watchdogInGuest); a
      // guest that hangs (seen once under TCG: RCU stalls during a reboot) is reset by qemu.
      "-device",
      "i6300esb",
      "-action",
      "watchdog=reset",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d: string) => {
    stderrTails.set(child, `${stderrTails.get(child) ?? ""}${d}`.slice(-4000));
    if (!stopping.has(child)) void appendFile(s.harnessLog, `[qemu stderr] ${d}`).catch(() => undefined);
  });
  child.once("exit", (code, signal) => {
    if (!stopping.has(child))
      void appendFile(
        s.harnessLog,
        `[qemu] exited (${code ?? signal}) at ${new Date().toISOString()}\n`,
      ).catch(() => undefined);
  });
  return child;
}

function sshOptions(knownHostsFile: string): string[] {
  return [
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${knownHostsFile}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=20",
    "-o",
    "ServerAliveInterval=10",
    "-F",
    "/dev/null",
  ];
}

function sshRun(base: string[], command: string, timeoutMs: number): Promise<SshResult> {
  return new Promise((resolve) => {
    execFile(
      "ssh",
      [...base, command],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 255) : 0;
        resolve({ stdout, stderr, code });
      },
    );
  });
}

function renderInventory(name: string, port: number, keyFile: string, knownHostsFile: string): string {
  const host = {
    ansible_host: "127.0.0.1",
    ansible_port: port,
    ansible_user: "root",
    ansible_ssh_private_key_file: keyFile,
    tickless_known_hosts_file: knownHostsFile,
    // An emulated CPU under load: handshakes and update-grub take longer than on hardware.
    tickless_connect_timeout: 60,
    tickless_command_timeout: 600,
  };
  return stringify({ all: { children: { vm: { hosts: { [name]: host } } } } });
}

async function tail(file: string, lines = 40): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return `last console lines (${file}):\n${text.split("\n").slice(-lines).join("\n")}`;
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  stopping.add(child);
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
