/**
 * The SSH connection: `openSsh` connects (ssh-connect.ts), then commands go through ssh-exec.ts
 * and file operations through ssh-files.ts (SFTP, or shell scripts on the command path).
 */
import { type ConnectOptions, connectSsh, type SshLink } from "./ssh-connect.js";
import { SshExec } from "./ssh-exec.js";
import { SshFiles } from "./ssh-files.js";
import type {
  Connection,
  ConnectionSettings,
  FileRead,
  FileStat,
  Privilege,
  RunOptions,
  RunResult,
  WriteOptions,
} from "./types.js";

export interface OpenSshOptions extends ConnectOptions {
  /**
   * "shell" (default, measured faster): commands framed over a few long-lived remote shells;
   * "exec": one exec channel per command. Either way commands are interpreted by /bin/sh.
   */
  runMode?: "exec" | "shell";
  /** false: readFile and stat always run shell scripts instead of SFTP requests (default true). */
  sftp?: boolean;
}

/** Opens one SSH connection to a host (through its ProxyJump hops), checked against known_hosts. */
export async function openSsh(
  settings: ConnectionSettings,
  options: OpenSshOptions = {},
): Promise<Connection> {
  const link = await connectSsh(settings, options);
  const commands = new SshExec(link);
  if ((options.runMode ?? "shell") === "shell") commands.useShells();
  return new SshConnection(link, commands, options.sftp ?? true);
}

class SshConnection implements Connection {
  readonly transport = "ssh";
  readonly name: string;
  private readonly files: SshFiles;

  constructor(
    private readonly link: SshLink,
    private readonly commands: SshExec,
    useSftp: boolean,
  ) {
    this.name = link.name;
    this.files = new SshFiles(link, useSftp, (script, o) => this.commands.run(script, o));
  }

  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const r = await this.commands.run(command, options).finally(() => this.files.recheckNames());
    return { rc: r.rc, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }

  readFile(path: string, options?: Privilege): Promise<FileRead> {
    return this.files.readFile(path, options);
  }

  stat(path: string, options?: Privilege & { follow?: boolean }): Promise<FileStat> {
    return this.files.stat(path, options);
  }

  writeFile(path: string, content: string | Buffer, options?: WriteOptions): Promise<FileRead | undefined> {
    return this.files.writeFile(path, content, options);
  }

  remove(path: string, options?: Privilege & { recursive?: boolean }): Promise<void> {
    return this.files.remove(path, options);
  }

  prepare(): void {
    this.commands.prepare();
    this.files.prepare();
  }

  async close(): Promise<void> {
    // A kill still on its way would be lost with the connection, leaving the command running.
    await this.commands.settle();
    this.link.gone("the connection was closed by tickless");
    this.commands.close();
    this.files.close();
    this.link.dispose();
  }
}
