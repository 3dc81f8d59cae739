/**
 * The file operations of an SSH connection: SFTP (sftp-files.ts) when it can answer as the login
 * user, else the shell scripts of file-scripts.ts on the command path, so through sudo when the
 * operation becomes another user.
 */
import { dirname } from "node:path";
import { type RunScript, ScriptFiles } from "./file-scripts.js";
import { SftpFiles } from "./sftp-files.js";
import type { SshLink } from "./ssh-connect.js";
import { StaleTemps } from "./stale-temps.js";
import { refuseRecursiveRemoval } from "./system-paths.js";
import { becomeUserOf, type FileRead, type FileStat, type Privilege, type WriteOptions } from "./types.js";

export class SshFiles {
  /** readFile and stat without a remote process; opened on first use, undefined if the server refuses. */
  private sftp?: Promise<SftpFiles | undefined>;
  private sftpOpen?: SftpFiles;
  /** The file operations as shell scripts: when SFTP is off or refuses, and whenever sudo is needed. */
  private readonly scripts: ScriptFiles;
  /** Earlier runs' temp files, removed on the first write in their directory. */
  private readonly staleTemps = new StaleTemps();

  constructor(
    private readonly link: SshLink,
    private readonly useSftp: boolean,
    run: RunScript,
  ) {
    this.scripts = new ScriptFiles(link.name, run);
  }

  async readFile(path: string, options: Privilege = {}): Promise<FileRead> {
    this.link.assertUp();
    const plain = await (await this.sftpFiles(options))?.readFile(path);
    return plain ?? this.scripts.readFile(path, options);
  }

  async stat(path: string, options: Privilege & { follow?: boolean } = {}): Promise<FileStat> {
    this.link.assertUp();
    const plain = await (await this.sftpFiles(options))?.stat(path, options.follow);
    return plain ?? this.scripts.stat(path, options);
  }

  async writeFile(
    path: string,
    content: string | Buffer,
    options: WriteOptions = {},
  ): Promise<FileRead | undefined> {
    this.link.assertUp();
    // validate runs in the write's shell script (validate.ts)
    const sftp = options.validate === undefined ? await this.sftpFiles(options) : undefined;
    if (sftp) {
      const done = await sftp
        .writeFile(path, Buffer.from(content), options)
        .finally(() => this.changed(path));
      if (done) return done.readBack;
    }
    const dir = dirname(path);
    const prelude = this.staleTemps.firstWriteIn(dir) ? [this.staleTemps.shellLine(dir)] : [];
    await this.scripts.writeFile(path, content, { ...options, prelude }).finally(() => this.changed(path));
    return undefined;
  }

  async remove(path: string, options: Privilege & { recursive?: boolean } = {}): Promise<void> {
    if (options.recursive) refuseRecursiveRemoval(path);
    await this.scripts.remove(path, options).finally(() => this.changed(path));
  }

  /** Opens SFTP ahead of the first file operation, when the connection's own privilege uses it. */
  prepare(): void {
    void this.sftpFiles({});
  }

  /** After a command, which may have changed accounts on the host (after, so a concurrent read cannot keep old names). */
  recheckNames(): void {
    this.sftpOpen?.recheckNames();
  }

  close(): void {
    this.sftpOpen?.close();
  }

  /**
   * The SFTP reader, unless the operation becomes another user than the login user (sftp-server
   * runs as the login user, so the shell scripts, which go through sudo, answer instead).
   */
  private sftpFiles(privilege: Privilege): Promise<SftpFiles | undefined> {
    const user = becomeUserOf(privilege, this.link.settings);
    if (!this.useSftp || (user !== undefined && user !== this.link.target.user))
      return Promise.resolve(undefined);
    this.sftp ??= this.link.sftp().then(
      (sftp) => {
        this.sftpOpen = new SftpFiles(sftp, this.staleTemps);
        return this.sftpOpen;
      },
      () => undefined,
    );
    return this.sftp.then((files) => (files?.usable ? files : undefined));
  }

  private changed(path: string): void {
    this.sftpOpen?.changed(path);
  }
}
