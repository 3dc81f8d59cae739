import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { NodeSSH } from "node-ssh";
import { quote } from "shell-quote";
import { ConnectionError, TicklessError } from "../errors.js";
import { exportLine, withExports } from "./command-env.js";
import { ScriptFiles } from "./file-scripts.js";
import { keepalive, keepaliveLost } from "./keepalive.js";
import {
  defaultKnownHostsFiles,
  type HostKeyCheck,
  type HostKeyChecking,
  knownKeyTypes,
  verifyHostKey,
} from "./known-hosts.js";
import { type SftpClient, SftpFiles } from "./sftp-files.js";
import { type ClientChannel, openShellPool, type ShellSession } from "./shell-session.js";
import { loadSshConfig, resolveSshTarget, type SshTarget } from "./ssh-config.js";
import { StaleTemps } from "./stale-temps.js";
import { refuseRecursiveRemoval } from "./system-paths.js";
import {
  becomeUserOf,
  type Connection,
  type ConnectionSettings,
  type FileRead,
  type FileStat,
  type Privilege,
  type RunOptions,
  type RunResult,
  type WriteOptions,
} from "./types.js";

export interface OpenSshOptions {
  /** More known_hosts files, after settings.knownHostsFile and before ~/.ssh/known_hosts. */
  knownHostsFiles?: string[];
  /** Instead of ~/.ssh/config. */
  sshConfigFile?: string;
  /**
   * "shell" (default, measured faster): commands framed over a few long-lived remote shells;
   * "exec": one exec channel per command. Either way commands are interpreted by /bin/sh.
   */
  runMode?: "exec" | "shell";
  /** false: readFile and stat always run shell scripts instead of SFTP requests (default true). */
  sftp?: boolean;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Below OpenSSH's default MaxSessions (10), so parallel commands queue instead of failing. */
const MAX_CHANNELS = 8;
/** Long-lived shells per connection in shell mode (each holds one channel; the rest stay for exec). */
const MAX_SHELLS = 4;
/** How long close() waits for pending kills of timed-out commands. */
const KILL_WAIT_MS = 3_000;

/** The part of the ssh2 client used here (ssh2 ships no types). */
interface Client {
  on(event: string, listener: (...args: any[]) => void): unknown;
  exec(command: string, callback: (err: Error | undefined, channel: ClientChannel) => void): unknown;
  sftp(callback: (err: Error | undefined, sftp: SftpClient) => void): unknown;
  setNoDelay(noDelay: boolean): unknown;
}
const HOST_KEY_ALGORITHMS = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
  "ssh-rsa",
];

/** Opens one SSH connection to a host (through its ProxyJump hops), checked against known_hosts. */
export async function openSsh(
  settings: ConnectionSettings,
  options: OpenSshOptions = {},
): Promise<Connection> {
  const config = await loadSshConfig(options.sshConfigFile);
  const target = resolveSshTarget(config, settings.host, {
    address: settings.address,
    port: settings.port,
    user: settings.user,
    privateKeyFile: settings.privateKeyFile,
    connectTimeoutMs: settings.connectTimeoutMs,
  });
  const knownHostsFiles = [
    ...(settings.knownHostsFile ? [settings.knownHostsFile] : []),
    ...(options.knownHostsFiles ?? []),
    ...defaultKnownHostsFiles(),
  ];
  const policy = settings.hostKeyChecking ?? "strict";
  const jumps: NodeSSH[] = [];
  try {
    // ProxyJump a,b: connect to a, tunnel to b through a, then to the target through b.
    let sock: NodeJS.ReadableStream | undefined;
    for (const jumpHop of target.jumps) {
      // A hop with no IdentityFile of its own tries the target's key before OpenSSH's defaults.
      const hop =
        jumpHop.identityFiles.length > 0 ? jumpHop : { ...jumpHop, identityFiles: target.identityFiles };
      if (jumps.length > 0) sock = await forwardTo(jumps[jumps.length - 1], hop);
      jumps.push(await connectTarget(hop, settings, knownHostsFiles, policy, sock));
    }
    if (jumps.length > 0) sock = await forwardTo(jumps[jumps.length - 1], target);
    const ssh = await connectTarget(target, settings, knownHostsFiles, policy, sock);
    const connection = new SshConnection(settings, target, ssh, jumps, options.sftp ?? true);
    if ((options.runMode ?? "shell") === "shell") connection.useShells();
    return connection;
  } catch (err) {
    for (const jump of jumps) jump.dispose();
    throw err;
  }
}

async function forwardTo(jump: NodeSSH, target: SshTarget): Promise<NodeJS.ReadableStream> {
  try {
    return await jump.forwardOut("127.0.0.1", 0, target.host, target.port);
  } catch (err) {
    throw new ConnectionError(
      `the jump host could not reach ${target.host}:${target.port}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Connects and authenticates to one target, checking its host key; errors become one-line ConnectionErrors. */
async function connectTarget(
  target: SshTarget,
  settings: ConnectionSettings,
  knownHostsFiles: string[],
  policy: HostKeyChecking,
  sock?: NodeJS.ReadableStream,
): Promise<NodeSSH> {
  const check: HostKeyCheck = { host: target.host, port: target.port, policy, files: knownHostsFiles };
  const timeoutMs = target.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const privateKey = await loadPrivateKey(target.identityFiles);
  let hostKeyError: unknown;
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      sock: sock as never,
      readyTimeout: timeoutMs,
      ...keepalive(settings),
      privateKey,
      passphrase: process.env.TICKLESS_SSH_PASSPHRASE,
      password: settings.password,
      agent: process.env.SSH_AUTH_SOCK,
      algorithms: { serverHostKey: (await hostKeyAlgorithms(check)) as never },
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        verifyHostKey(check, key).then(
          () => verify(true),
          (err) => {
            hostKeyError = err;
            verify(false);
          },
        );
      },
    } as never);
  } catch (err) {
    ssh.dispose();
    if (hostKeyError) throw hostKeyError;
    throw connectError(err, target, timeoutMs);
  }
  return ssh;
}

/** Known key types for the host first, as OpenSSH orders them, so a known key is the one negotiated. */
async function hostKeyAlgorithms(check: HostKeyCheck): Promise<string[]> {
  const known = (await knownKeyTypes(check)).flatMap((t) =>
    t === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [t],
  );
  const first = HOST_KEY_ALGORITHMS.filter((a) => known.includes(a));
  return [...first, ...HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a))];
}

/** The first identity file that exists (ssh config / inventory), else OpenSSH's default key names. */
async function loadPrivateKey(identityFiles: string[]): Promise<string | undefined> {
  const defaults = ["id_ed25519", "id_ecdsa", "id_rsa"].map((f) => join(homedir(), ".ssh", f));
  for (const file of identityFiles.length > 0 ? identityFiles : defaults) {
    try {
      return await readFile(file, "utf8");
    } catch (err) {
      if (identityFiles.length > 0 && (err as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new ConnectionError(`cannot read the private key ${file}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
  }
  return undefined;
}

function connectError(err: unknown, target: SshTarget, timeoutMs: number): ConnectionError {
  const e = err as NodeJS.ErrnoException & { level?: string };
  const where = `${target.host}:${target.port}`;
  const who = `${target.user}@${where}`;
  let message: string;
  if (e.code === "ECONNREFUSED") message = `connection refused by ${where}`;
  else if (e.level === "client-timeout" || e.code === "ETIMEDOUT" || /timed out/i.test(e.message ?? ""))
    message = `timed out after ${timeoutMs / 1000} s connecting to ${who}`;
  else if (e.level === "client-authentication") message = `authentication failed for ${who}`;
  else if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") message = `cannot resolve ${target.host}`;
  else if (/passphrase|encrypted/i.test(e.message ?? ""))
    message = `cannot decrypt the private key for ${who} (set TICKLESS_SSH_PASSPHRASE)`;
  else message = `cannot connect to ${who}: ${(e.message ?? String(err)).split("\n")[0]}`;
  return new ConnectionError(message, { cause: err });
}

/** A counting semaphore: at most `limit` channels open at once on one connection. */
class ChannelSlots {
  private free: number;
  private waiting: (() => void)[] = [];
  constructor(limit: number) {
    this.free = limit;
  }
  async use<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

interface ExecRequest {
  command: string;
  stdin?: Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** RunOptions.keepStdinOpen / onStdout: a long-lived holder on its own exec channel. */
  keepStdinOpen?: boolean;
  onStdout?: (chunk: Buffer) => void;
  /** sudo with a password: the prompt to answer and the line that says authentication is over. */
  sudo?: { prompt: string; marker: string; password: string };
  /** `export K='v' …` for the command: a shell session runs it itself, so values stay out of argv. */
  exports?: string;
}

interface ExecResult {
  rc: number;
  stdout: Buffer;
  stderr: Buffer;
}

class SshConnection implements Connection {
  readonly transport = "ssh";
  readonly name: string;
  private lost?: string;
  private readonly slots = new ChannelSlots(MAX_CHANNELS);
  /** Kills of timed-out or interrupted commands not yet done: close() waits for them. */
  private readonly kills = new Set<Promise<unknown>>();
  private shell?: ShellSession;
  /** readFile and stat without a remote process; opened on first use, undefined if the server refuses. */
  private sftp?: Promise<SftpFiles | undefined>;
  private sftpOpen?: SftpFiles;
  /** The file operations as shell scripts: when SFTP is off or refuses, and whenever sudo is needed. */
  private readonly scripts: ScriptFiles;
  /** Earlier runs' temp files, removed on the first write in their directory. */
  private readonly staleTemps = new StaleTemps();

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly target: SshTarget,
    private readonly ssh: NodeSSH,
    private readonly jumps: NodeSSH[],
    private readonly useSftp: boolean,
  ) {
    this.name = settings.host;
    this.scripts = new ScriptFiles(this.name, (script, o) => this.runBuffer(script, o));
    const client = this.client();
    // Without it, Nagle's algorithm and delayed ACKs add tens of ms to each small request.
    client.setNoDelay(true);
    const onGone = (reason: string) => {
      this.lost ??= reason;
    };
    client.on("close", () => onGone("the connection closed"));
    client.on("end", () => onGone("the server ended the connection"));
    client.on("error", (err: Error) => onGone(keepaliveLost(err, settings) ?? err.message));
  }

  /** Switches `run` to long-lived shells (up to MAX_SHELLS, each running one command at a time). */
  useShells(): void {
    this.shell = openShellPool(
      (command) => this.openChannel((c, cb) => c.exec(command, cb)),
      (pid) => this.killGroup(pid),
      MAX_SHELLS,
    );
  }

  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const r = await this.runBuffer(command, options).finally(() => this.recheckNames());
    return { rc: r.rc, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }

  async readFile(path: string, options: Privilege = {}): Promise<FileRead> {
    this.assertUp();
    const plain = await (await this.sftpFiles(options))?.readFile(path);
    return plain ?? this.scripts.readFile(path, options);
  }

  async stat(path: string, options: Privilege & { follow?: boolean } = {}): Promise<FileStat> {
    this.assertUp();
    const plain = await (await this.sftpFiles(options))?.stat(path, options.follow);
    return plain ?? this.scripts.stat(path, options);
  }

  async writeFile(path: string, content: string | Buffer, options: WriteOptions = {}): Promise<void> {
    this.assertUp();
    // validate runs in the write's shell script (validate.ts)
    const sftp = options.validate === undefined ? await this.sftpFiles(options) : undefined;
    if (sftp) {
      const done = await sftp
        .writeFile(path, Buffer.from(content), options)
        .finally(() => this.changed(path));
      if (done) return;
    }
    const dir = dirname(path);
    const prelude = this.staleTemps.firstWriteIn(dir) ? [this.staleTemps.shellLine(dir)] : [];
    await this.scripts.writeFile(path, content, { ...options, prelude }).finally(() => this.changed(path));
  }

  async remove(path: string, options: Privilege & { recursive?: boolean } = {}): Promise<void> {
    if (options.recursive) refuseRecursiveRemoval(path);
    await this.scripts.remove(path, options).finally(() => this.changed(path));
  }

  async close(): Promise<void> {
    // A kill still on its way would be lost with the connection, leaving the command running.
    if (this.kills.size > 0)
      await Promise.race([Promise.all(this.kills), delay(KILL_WAIT_MS, undefined, { ref: false })]);
    this.lost ??= "the connection was closed by tickless";
    this.shell?.close();
    this.sftpOpen?.close();
    this.ssh.dispose();
    for (const jump of this.jumps.reverse()) jump.dispose();
  }

  /**
   * The SFTP reader, unless the operation becomes another user than the login user (sftp-server
   * runs as the login user, so the shell scripts, which go through sudo, answer instead).
   */
  private sftpFiles(privilege: Privilege): Promise<SftpFiles | undefined> {
    const user = becomeUserOf(privilege, this.settings);
    if (!this.useSftp || (user !== undefined && user !== this.target.user)) return Promise.resolve(undefined);
    this.sftp ??= this.openChannel((c, cb) => c.sftp(cb as never)).then(
      (sftp) => {
        this.sftpOpen = new SftpFiles(sftp as unknown as SftpClient, this.staleTemps);
        return this.sftpOpen;
      },
      () => undefined,
    );
    return this.sftp.then((files) => (files?.usable ? files : undefined));
  }

  /** After a command, which may have changed accounts on the host (after, so a concurrent read cannot keep old names). */
  private recheckNames(): void {
    this.sftpOpen?.recheckNames();
  }

  private changed(path: string): void {
    this.sftpOpen?.changed(path);
  }

  private client(): Client {
    return this.ssh.connection as Client;
  }

  private assertUp(): void {
    if (this.lost !== undefined || !this.ssh.isConnected()) throw this.lostError();
  }

  private lostError(when = "", cause?: unknown): ConnectionError {
    const where = `${this.target.user}@${this.target.host}:${this.target.port}`;
    const why = this.lost ?? "disconnected";
    return new ConnectionError(`lost the connection to ${where}${when ? ` ${when}` : ""} (${why})`, {
      cause,
    });
  }

  /** Builds the remote command (env, cwd, become) and runs it. */
  private async runBuffer(command: string, options: RunOptions): Promise<ExecResult> {
    this.assertUp();
    const exports = exportLine(options.env);
    let script = options.cwd ? `cd ${quote([options.cwd])} || exit 1\n${command}` : command;
    const stdin = options.stdin === undefined ? undefined : Buffer.from(options.stdin);
    // A holder (keepStdinOpen) lives as long as the run: the command timeout is not for it.
    const timeoutMs =
      options.timeoutMs ?? (options.keepStdinOpen ? undefined : this.settings.commandTimeoutMs);
    const { signal, keepStdinOpen, onStdout } = options;
    const stream = { signal, keepStdinOpen, onStdout };
    const becomeUser = becomeUserOf(options, this.settings);
    // Without sudo the exports stay out of every command line (the shell session exports them).
    if (becomeUser === undefined || becomeUser === this.target.user)
      return this.execute({ command: script, exports, stdin, timeoutMs, ...stream });
    script = withExports(options.env, script); // sudo resets the environment: the exports go inside its command
    const sudo = `sudo -H -u ${quote([becomeUser])}`;
    const password = this.settings.becomePassword;
    if (!password) {
      return this.execute({ command: `${sudo} -n -- sh -c ${quote([script])}`, stdin, timeoutMs, ...stream });
    }
    const nonce = randomBytes(12).toString("hex");
    const prompt = `[tickless-sudo-${nonce}]`;
    const marker = `TICKLESS-BECOME-${nonce}`;
    const wrapped = `${sudo} -S -p ${quote([prompt])} -- sh -c ${quote([`echo ${marker}\n${script}`])}`;
    return this.execute({
      command: wrapped,
      stdin,
      timeoutMs,
      ...stream,
      sudo: { prompt, marker, password },
    });
  }

  private async execute(request: ExecRequest): Promise<ExecResult> {
    if (this.shell && !request.sudo && !request.keepStdinOpen) {
      const shell = this.shell;
      return this.guardLost(() =>
        shell.run(request.command, request.stdin, request.timeoutMs, request.signal, request.exports),
      );
    }
    const command = request.exports ? `${request.exports}\n${request.command}` : request.command;
    return this.slots.use(() => this.exec({ ...request, command }));
  }

  /** Shell-mode failures: a dropped connection becomes a ConnectionError (its close event may lag a little). */
  private async guardLost<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (this.lost !== undefined || !this.ssh.isConnected())
        throw this.lostError("while running a command", err);
      throw new TicklessError("TASK", `the remote shell on ${this.name} ended while running a command`, {
        cause: err,
      });
    }
  }

  private openChannel(
    open: (c: Client, cb: (err: Error | undefined, ch: ClientChannel) => void) => void,
  ): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      try {
        open(this.client(), (err, channel) => {
          if (err) reject(this.channelError(err));
          else resolve(channel);
        });
      } catch (err) {
        reject(this.channelError(err as Error));
      }
    });
  }

  private channelError(err: Error): ConnectionError {
    if (err.message === "No response from server") this.lost ??= "the server stopped responding";
    if (this.lost !== undefined) return this.lostError("", err);
    return new ConnectionError(
      `cannot open a channel to ${this.target.host}:${this.target.port}: ${err.message}`,
      { cause: err },
    );
  }

  /** Kills a remote process group (a timed-out command), on its own channel, ignoring failures. */
  private killGroup(pid: number): void {
    if (this.lost !== undefined) return;
    const kill = this.exec({ command: `kill -KILL -${pid} 2>/dev/null` }).catch(() => undefined);
    this.kills.add(kill);
    void kill.finally(() => this.kills.delete(kill));
  }

  /**
   * One exec channel: stdin in, stdout/stderr apart, exit code. The remote shell first prints its
   * PID (sshd makes it a process group leader), so a timeout can kill the whole group: rc 124.
   */
  private async exec(request: ExecRequest): Promise<ExecResult> {
    if (request.signal?.aborted)
      return { rc: 130, stdout: Buffer.alloc(0), stderr: Buffer.from("interrupted\n") };
    const channel = await this.openChannel((c, cb) =>
      c.exec(`echo $$; exec sh -c ${quote([request.command])}`, cb),
    );
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const sudo = request.sudo;
      let pid: number | undefined;
      let settled = false;
      let authenticated = !sudo;
      let promptsAnswered = 0;
      let head = Buffer.alloc(0);
      const sendStdin = () =>
        request.keepStdinOpen
          ? channel.write(request.stdin ?? Buffer.alloc(0))
          : channel.end(request.stdin ?? Buffer.alloc(0));
      const output = (chunk: Buffer) => {
        out.push(chunk);
        if (chunk.length > 0) request.onStdout?.(chunk);
      };
      const finish = (result: ExecResult | Error) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        request.signal?.removeEventListener("abort", onAbort);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      /** A timeout (rc 124) or an abort (rc 130) kills the remote process group and closes the channel. */
      const stop = (rc: number, note: string) => {
        if (pid) this.killGroup(pid);
        channel.close();
        finish({ rc, stdout: Buffer.concat(out), stderr: Buffer.concat([...err, Buffer.from(note)]) });
      };
      const onAbort = () => stop(130, "interrupted\n");
      request.signal?.addEventListener("abort", onAbort, { once: true });
      const timer =
        request.timeoutMs === undefined
          ? undefined
          : setTimeout(() => stop(124, `timed out after ${request.timeoutMs} ms\n`), request.timeoutMs);
      /** Consumes the PID line, then (with a sudo password) the line saying sudo let us in. */
      const readHeader = () => {
        while (pid === undefined || !authenticated) {
          const nl = head.indexOf(10);
          if (nl < 0) return;
          const line = head.subarray(0, nl).toString();
          head = head.subarray(nl + 1);
          if (pid === undefined) pid = Number(line) || 0;
          else if (line === sudo!.marker) {
            authenticated = true;
            sendStdin();
          } else output(Buffer.from(`${line}\n`));
        }
        output(head);
        head = Buffer.alloc(0);
      };
      channel.on("data", (chunk: Buffer) => {
        if (pid !== undefined && authenticated) output(chunk);
        else {
          head = Buffer.concat([head, chunk]);
          readHeader();
        }
      });
      channel.stderr.on("data", (chunk: Buffer) => {
        if (!sudo || authenticated) {
          err.push(chunk);
          return;
        }
        const text = chunk.toString();
        if (text.includes(sudo.prompt)) {
          promptsAnswered++;
          if (promptsAnswered === 1) channel.write(`${sudo.password}\n`);
          else channel.end();
        }
        const rest = text.split(sudo.prompt).join("");
        if (rest) err.push(Buffer.from(rest));
      });
      // The exit status comes from 'close', not 'exit': ssh2 passes it to both, but 'exit' may fire
      // before these listeners exist (when the status arrives with the exec reply); 'close' cannot.
      // undefined: no status at all; null: killed by a signal.
      channel.on("close", (code: number | null | undefined) => {
        out.push(head);
        if (code === undefined && (this.lost !== undefined || !this.ssh.isConnected())) {
          finish(this.lostError("while running a command"));
        } else finish({ rc: code ?? 255, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
      });
      if (authenticated) sendStdin();
    });
  }
}
