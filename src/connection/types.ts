/** The transport contract. Two implementations: local.ts (child processes) and ssh.ts (node-ssh; ssh-connect, ssh-exec, ssh-files). */

/**
 * Whose rights an operation uses. Every operation takes one (the engine passes the task's
 * resolved `become` / `become_user`); a field left undefined falls back to the connection's own
 * (the host's `ansible_become` / `ansible_become_user`). Becoming a user other than the one
 * tickless is (the SSH login user, or the local process's user) goes through sudo: commands are
 * wrapped, and file operations run the shell scripts of file-scripts.ts through the same sudo
 * (SFTP and node's fs act only as the user tickless already is).
 */
export interface Privilege {
  become?: boolean;
  becomeUser?: string;
}

export interface RunOptions extends Privilege {
  /** Bytes fed to the command's stdin. */
  stdin?: string | Buffer;
  /** Working directory on the host. */
  cwd?: string;
  /** Extra environment variables for the command. */
  env?: Record<string, string>;
  /** Kill the command after this many milliseconds (rc 124, like timeout(1)). */
  timeoutMs?: number;
  /** Aborting kills the command's process group (rc 130, as after SIGINT); an already aborted signal runs nothing. */
  signal?: AbortSignal;
  /**
   * A long-lived holder (the host lock's): its stdin stays open after `stdin` until the command
   * ends or `signal` fires, so it ends on its own when the connection or the controller goes away.
   * Over ssh it gets an exec channel of its own; the connection's default command timeout does not apply.
   */
  keepStdinOpen?: boolean;
  /** Called with each chunk of stdout as it arrives (the whole stdout is still in the result). */
  onStdout?: (chunk: Buffer) => void;
}

export interface RunResult {
  rc: number;
  stdout: string;
  stderr: string;
}

export type FileType = "file" | "directory" | "link" | "other";

export interface FileStat {
  path: string;
  exists: boolean;
  type?: FileType;
  /** Permission bits as four octal digits, e.g. "0644". */
  mode?: string;
  uid?: number;
  gid?: number;
  owner?: string;
  group?: string;
  size?: number;
  /** Modification time, seconds since the epoch. */
  mtime?: number;
  /** Target of a symbolic link (lstat semantics: links are not followed). */
  linkTarget?: string;
}

export interface FileRead extends FileStat {
  /** The bytes, when the path is a regular file (or a link to one, when followed). */
  content?: Buffer;
}

export interface WriteOptions extends Privilege {
  /** "0644" style; applied to the temp file (after its owner) before the rename; default: the target's (links followed). */
  mode?: string;
  owner?: string;
  group?: string;
  /**
   * A command with `%s`, run on the temp file (its owner and mode set) before the rename; when it
   * fails the target is left as it was and a ValidateError (validate.ts) is thrown.
   */
  validate?: string;
  /**
   * Ask for the file as it is after the rename, read in the same exchange (requests sent behind the
   * rename, answered in order). The transport returns it when it can, else nothing.
   */
  readBack?: boolean;
}

/** What a probe may use: reads only (run is there for read-only commands). */
export interface HostReader {
  readonly name: string;
  run(command: string, options?: RunOptions): Promise<RunResult>;
  /** Content and stat of a file in one round trip; `exists: false` when absent. */
  readFile(path: string, options?: Privilege): Promise<FileRead>;
  /** lstat of a path (links not followed unless `follow`). */
  stat(path: string, options?: Privilege & { follow?: boolean }): Promise<FileStat>;
  /**
   * Check mode only: what the run's earlier tasks planned at a path (connection/planned.ts), or
   * undefined where nothing was planned (the host's state stands). A probe that reads a path with a
   * command (a checksum, a sysfs attribute) asks here first, as readFile and stat already do.
   */
  plannedAt?(path: string): FileRead | undefined;
  /**
   * Check mode only: what the run's earlier tasks planned directly inside a directory (files,
   * directories, links and removals), for a probe that lists the directory with a command (a glob).
   */
  plannedIn?(dir: string): FileRead[];
}

/** What apply may use on top of the reader. */
export interface HostWriter extends HostReader {
  /**
   * Atomic: write a temp file in the same directory, set mode/owner, rename over the target.
   * With `readBack`, may resolve to the file as read back right after the rename.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a transport that reads nothing back resolves to void
  writeFile(path: string, content: string | Buffer, options?: WriteOptions): Promise<FileRead | void>;
  /** Remove a path; `recursive` for directories. Absent paths are not an error. */
  remove(path: string, options?: Privilege & { recursive?: boolean }): Promise<void>;
}

/** An open connection to one host. */
export interface Connection extends HostWriter {
  readonly transport: "local" | "ssh";
  /**
   * Starts opening what the first operations use (over SSH: a shell and the SFTP subsystem), so
   * that they do not wait for it; the engine calls it while it takes the host lock. Changes nothing
   * on the host; a failure is left for the operation that needs what failed to open.
   */
  prepare?(): void;
  close(): Promise<void>;
}

/** The resolved connection settings of one host (after inventory vars and aliases). */
export interface ConnectionSettings {
  host: string;
  transport: "local" | "ssh";
  address?: string;
  port?: number;
  user?: string;
  privateKeyFile?: string;
  password?: string;
  become?: boolean;
  becomeUser?: string;
  becomePassword?: string;
  knownHostsFile?: string;
  hostKeyChecking?: "strict" | "accept-new" | "off";
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** A connected host that answers no SSH keepalive for this long is given up (unreachable). */
  unreachableTimeoutMs?: number;
  /** The host lock's file (the engine's host-locks.ts; not used by the transports). */
  lockFile?: string;
}

/** The user an operation runs as through become, or undefined when it does not become: its own privilege, else the connection's. */
export function becomeUserOf(call: Privilege, connection: Privilege): string | undefined {
  if (!(call.become ?? connection.become ?? false)) return undefined;
  return call.becomeUser ?? connection.becomeUser ?? "root";
}

export type ConnectionFactory = (settings: ConnectionSettings) => Promise<Connection>;
