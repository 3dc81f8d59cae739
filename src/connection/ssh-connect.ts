/**
 * Reaching a host over SSH: ssh config, ProxyJump hops, authentication, host keys checked against
 * known_hosts, keepalives; then SshLink, the live connection every command and file operation
 * opens its channels on, and which knows when (and why) the connection was lost.
 */
import { readFile } from "node:fs/promises";
import { type Socket, connect as tcpConnect } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import type { NodeSSH } from "node-ssh";
import { ConnectionError } from "../errors.js";
import { keepalive, keepaliveLost } from "./keepalive.js";
import {
  defaultKnownHostsFiles,
  type HostKeyCheck,
  type HostKeyChecking,
  knownKeyTypes,
  verifyHostKey,
} from "./known-hosts.js";
import type { SftpClient } from "./sftp-files.js";
import type { ClientChannel } from "./shell-session.js";
import { loadSshConfig, resolveSshTarget, type SshTarget } from "./ssh-config.js";
import type { ConnectionSettings } from "./types.js";

export interface ConnectOptions {
  /** More known_hosts files, after settings.knownHostsFile and before ~/.ssh/known_hosts. */
  knownHostsFiles?: string[];
  /** Instead of ~/.ssh/config. */
  sshConfigFile?: string;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The part of the ssh2 client used here (ssh2 ships no types). */
interface Client {
  on(event: string, listener: (...args: any[]) => void): unknown;
  exec(command: string, callback: (err: Error | undefined, channel: ClientChannel) => void): unknown;
  sftp(callback: (err: Error | undefined, sftp: SftpClient) => void): unknown;
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

/** Connects to a host (through its ProxyJump hops), checked against known_hosts. */
export async function connectSsh(
  settings: ConnectionSettings,
  options: ConnectOptions = {},
): Promise<SshLink> {
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
    return new SshLink(settings, target, ssh, jumps);
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

/**
 * ssh2's authentication methods in its own order, but "none" last instead of first: asking it first
 * costs a round trip (and sshd's delay for a failed attempt) that only a server without
 * authentication answers with success. ssh2 skips the methods it has nothing for.
 */
const AUTH_ORDER = ["password", "publickey", "agent", "none"];

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
  // Through a jump host, the tunnel's stream; else the TCP connection, opened first.
  const tcp = sock ? undefined : openSocket(target);
  let ssh: NodeSSH | undefined;
  let hostKeyError: unknown;
  try {
    // node-ssh (and ssh2) load while sshd starts the session's process and sends its version line.
    const [{ NodeSSH }, privateKey, serverHostKey] = await Promise.all([
      import("node-ssh"),
      loadPrivateKey(target.identityFiles),
      hostKeyAlgorithms(check),
    ]);
    if (tcp?.failed) throw tcp.failed;
    ssh = new NodeSSH();
    await ssh.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      sock: (sock ?? tcp?.socket) as never,
      readyTimeout: timeoutMs,
      ...keepalive(settings),
      privateKey,
      passphrase: process.env.TICKLESS_SSH_PASSPHRASE,
      password: settings.password,
      agent: process.env.SSH_AUTH_SOCK,
      authHandler: AUTH_ORDER,
      algorithms: { serverHostKey } as never,
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
    return ssh;
  } catch (err) {
    ssh?.dispose();
    tcp?.socket.destroy();
    if (hostKeyError) throw hostKeyError;
    if (err instanceof ConnectionError) throw err;
    throw connectError(err, target, timeoutMs);
  }
}

/**
 * The TCP connection to a target, with Nagle's algorithm off from the first byte (with it on, each
 * step of the key exchange and of authentication waited for the server's delayed ACK: about 40 ms
 * each, 150–200 ms in all on loopback). An error before ssh2 takes the socket over is kept in `failed`.
 */
function openSocket(target: SshTarget): { socket: Socket; failed?: Error } {
  const socket = tcpConnect({ host: target.host, port: target.port, noDelay: true });
  const opened: { socket: Socket; failed?: Error } = { socket };
  socket.on("error", (err) => {
    opened.failed ??= err;
  });
  return opened;
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

/** A connected host: channels on it, and why it is gone once it is. */
export class SshLink {
  readonly name: string;
  /** Why the connection is gone (undefined while it is up). */
  private lost?: string;

  constructor(
    readonly settings: ConnectionSettings,
    readonly target: SshTarget,
    private readonly ssh: NodeSSH,
    private readonly jumps: NodeSSH[],
  ) {
    this.name = settings.host;
    const client = this.client();
    client.on("close", () => this.gone("the connection closed"));
    client.on("end", () => this.gone("the server ended the connection"));
    client.on("error", (err: Error) => this.gone(keepaliveLost(err, settings) ?? err.message));
  }

  get up(): boolean {
    return this.lost === undefined && this.ssh.isConnected();
  }

  /** Records why the connection is gone (the first reason stays). */
  gone(reason: string): void {
    this.lost ??= reason;
  }

  assertUp(): void {
    if (!this.up) throw this.lostError();
  }

  lostError(when = "", cause?: unknown): ConnectionError {
    const where = `${this.target.user}@${this.target.host}:${this.target.port}`;
    const why = this.lost ?? "disconnected";
    return new ConnectionError(`lost the connection to ${where}${when ? ` ${when}` : ""} (${why})`, {
      cause,
    });
  }

  /** An exec channel running `command`. */
  exec(command: string): Promise<ClientChannel> {
    return this.openChannel((c, cb) => c.exec(command, cb));
  }

  /** The SFTP subsystem. */
  sftp(): Promise<SftpClient> {
    return this.openChannel((c, cb) => c.sftp(cb as never)) as unknown as Promise<SftpClient>;
  }

  /** Ends the connection and its jump hosts. */
  dispose(): void {
    this.ssh.dispose();
    for (const jump of this.jumps.reverse()) jump.dispose();
  }

  private client(): Client {
    return this.ssh.connection as Client;
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
    if (err.message === "No response from server") this.gone("the server stopped responding");
    if (this.lost !== undefined) return this.lostError("", err);
    return new ConnectionError(
      `cannot open a channel to ${this.target.host}:${this.target.port}: ${err.message}`,
      { cause: err },
    );
  }
}
