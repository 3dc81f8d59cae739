import { randomBytes } from "node:crypto";
import { basename, dirname, posix } from "node:path";
import type { StaleTemps } from "./stale-temps.js";
import type { FileRead, FileStat, FileType, WriteOptions } from "./types.js";

/** Attributes as ssh2's SFTP client returns them (SFTP v3: numeric ids only). */
interface Attrs {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
}

/** The part of ssh2's SFTP client used here (ssh2 ships no types). */
export interface SftpClient {
  lstat(path: string, cb: (err: SftpError | undefined, attrs: Attrs) => void): void;
  stat(path: string, cb: (err: SftpError | undefined, attrs: Attrs) => void): void;
  readlink(path: string, cb: (err: SftpError | undefined, target: string) => void): void;
  open(path: string, flags: string, cb: (err: SftpError | undefined, handle: Buffer) => void): void;
  open(
    path: string,
    flags: string,
    attrs: Partial<Attrs>,
    cb: (err: SftpError | undefined, handle: Buffer) => void,
  ): void;
  read(
    handle: Buffer,
    buf: Buffer,
    off: number,
    len: number,
    position: number,
    cb: (err: SftpError | undefined, bytesRead: number) => void,
  ): void;
  close(handle: Buffer, cb: (err?: SftpError) => void): void;
  write(
    handle: Buffer,
    buf: Buffer,
    off: number,
    len: number,
    position: number,
    cb: (err: SftpError | undefined) => void,
  ): void;
  fsetstat(handle: Buffer, attrs: Partial<Attrs>, cb: (err: SftpError | undefined) => void): void;
  unlink(path: string, cb: (err: SftpError | undefined) => void): void;
  readdir(
    path: string,
    cb: (err: SftpError | undefined, list: { filename: string; attrs: Attrs }[]) => void,
  ): void;
  ext_openssh_rename(from: string, to: string, cb: (err: SftpError | undefined) => void): void;
  end(): void;
  on(event: "close", listener: () => void): void;
}

/** A write SFTP did: with the file as read back after the rename, when asked and plain. */
export interface WriteDone {
  readBack?: FileRead;
}

interface SftpError extends Error {
  code?: number;
}

/** SSH_FX_NO_SUCH_FILE: sftp-server's answer for ENOENT, ENOTDIR and ELOOP alike. */
const NO_SUCH_FILE = 2;
const READ_CHUNK = 64 * 1024;
const ACCOUNT_FILES = ["/etc/passwd", "/etc/group"];
/** Below any server's write limit, so ssh2 never splits a write (its rest would go after the close). */
const WRITE_CHUNK = 16 * 1024;
/** The temp file's mode until the content is written and its owner set. */
const TEMP_MODE = 0o600;

/**
 * readFile and stat over one SFTP channel: sftp-server answers from its own process, so no
 * command is forked on the host per call. Only the plain cases are answered here: `undefined`
 * means "ask the shell" (any SFTP error other than "no such file", an id without a name in the
 * host's /etc/passwd or /etc/group), so results stay those of the shell scripts in every case.
 */
export class SftpFiles {
  /** The host's /etc/passwd and /etc/group, read on demand. */
  private names?: Promise<Accounts | undefined>;
  /** Set after a command ran: the names are checked against the files' stamps before their next use. */
  private unchecked = false;

  /** Set when the channel ends: requests sent after that would never be answered. */
  private ended = false;

  constructor(
    private readonly sftp: SftpClient,
    private readonly staleTemps?: StaleTemps,
  ) {
    sftp.on("close", () => {
      this.ended = true;
    });
  }

  /** Whether this reader can still answer (else the shell scripts do). */
  get usable(): boolean {
    return !this.ended;
  }

  /** Forgets the account names (after /etc/passwd or /etc/group was written or removed). */
  forgetNames(): void {
    this.names = undefined;
  }

  /**
   * After a command ran on the host: it may have changed the accounts (useradd, a package's
   * postinst, an edited /etc/passwd), so before the names are used again, a stat of both files
   * (sent with the request that needs them, so no extra wait) checks that they are unchanged.
   */
  recheckNames(): void {
    this.unchecked = true;
  }

  /** After writing or removing `path`: forgets the names if that may have changed /etc/passwd or /etc/group. */
  changed(path: string): void {
    const p = posix.normalize(path).replace(/(.)\/+$/, "$1");
    const under = (file: string) => file === p || file.startsWith(p === "/" ? "/" : `${p}/`);
    if (!p.startsWith("/") || ACCOUNT_FILES.some(under)) this.forgetNames();
  }

  close(): void {
    this.ended = true;
    this.sftp.end();
  }

  private call<T>(request: (cb: (err: SftpError | undefined, result: T) => void) => void) {
    return this.ended ? Promise.resolve(undefined) : call(request);
  }

  private succeeds(request: (cb: (err?: SftpError) => void) => void) {
    return this.ended ? Promise.resolve(false) : succeeds(request);
  }

  /** lstat, as the shell's `stat`; with `follow`, stat, plus the link target when the path is a link. */
  async stat(path: string, follow = false): Promise<FileStat | undefined> {
    const names = this.loadNames();
    const [attrs, lstat] = await Promise.all([
      this.call<Attrs>((cb) => (follow ? this.sftp.stat(path, cb) : this.sftp.lstat(path, cb))),
      follow ? this.call<Attrs>((cb) => this.sftp.lstat(path, cb)) : null,
    ]);
    if (attrs === undefined || lstat === undefined) return undefined;
    if (attrs === null) return { path, exists: false };
    const isLink = fileType((follow ? lstat : attrs)?.mode ?? 0) === "link";
    const linkTarget = isLink ? await this.call<string>((cb) => this.sftp.readlink(path, cb)) : null;
    if (linkTarget === undefined) return undefined;
    return this.toStat(path, attrs, linkTarget, await names);
  }

  /**
   * The shell script's atomic write, as SFTP requests: a temp file beside the target, created
   * exclusively with mode 0600 (never more open than the final mode while the content arrives),
   * the content, chown then chmod (chown clears setuid/setgid; the mode and owner asked for, else
   * the target's, followed through links; a failed chown to the target's owner is ignored, as
   * there), rename. false (and no temp file left) when the shell script must do it: it then gives
   * the same result or the same error — among those a new file with no mode asked for, whose mode
   * comes from the shell's umask.
   */
  async writeFile(path: string, content: Buffer, options: WriteOptions): Promise<WriteDone | false> {
    if (options.mode !== undefined && !/^[0-7]{3,4}$/.test(options.mode)) return false;
    const owned = options.owner || options.group;
    const accounts = owned ? await this.loadNames() : undefined;
    const owner = accounts && ownership(accounts, options.owner, options.group);
    if (owned && !owner) return false;
    const temp = `${dirname(path)}/.${basename(path)}.tickless.${randomBytes(6).toString("base64url")}`;
    const [target, handle] = await Promise.all([
      options.mode !== undefined && owner ? null : this.call<Attrs>((cb) => this.sftp.stat(path, cb)),
      this.call<Buffer>((cb) => this.sftp.open(temp, "wx", { mode: TEMP_MODE }, cb)),
      this.sweepStaleTemps(dirname(path)),
    ]);
    if (!handle) return false;
    const mode =
      options.mode !== undefined
        ? Number.parseInt(options.mode, 8)
        : target
          ? target.mode & 0o7777
          : undefined;
    const chown = owner ?? (target ? { uid: target.uid, gid: target.gid } : undefined);
    // Sent back to back; sftp-server answers them in order. No mode known: only the close.
    const steps = [];
    for (let at = 0; mode !== undefined && at < content.length; at += WRITE_CHUNK) {
      const len = Math.min(WRITE_CHUNK, content.length - at);
      steps.push(this.succeeds((cb) => this.sftp.write(handle, content, at, len, at, cb)));
    }
    if (mode !== undefined) {
      if (chown !== undefined)
        steps.push(this.succeeds((cb) => this.sftp.fsetstat(handle, chown, cb)).then((ok) => ok || !owner));
      steps.push(this.succeeds((cb) => this.sftp.fsetstat(handle, { mode }, cb)));
    }
    steps.push(this.succeeds((cb) => this.sftp.close(handle, cb)));
    const written = mode !== undefined && target !== undefined && (await Promise.all(steps)).every(Boolean);
    const renamed = written && this.succeeds((cb) => this.sftp.ext_openssh_rename(temp, path, cb));
    // sent behind the rename, not after its answer: sftp-server answers in order
    const readBack = renamed && options.readBack ? this.readBack(path, content.length) : undefined;
    if (!(await renamed)) {
      await readBack;
      await this.succeeds((cb) => this.sftp.unlink(temp, cb));
      return false;
    }
    return { readBack: await readBack };
  }

  /**
   * The file just renamed into place, read back: lstat and open sent at once behind the rename (the
   * path is the regular file this connection just put there), then one read for the size written.
   * undefined when any answer is not the plain case (then the caller reads it as usual).
   */
  private async readBack(path: string, size: number): Promise<FileRead | undefined> {
    const names = this.loadNames();
    const [attrs, handle] = await Promise.all([
      this.call<Attrs>((cb) => this.sftp.lstat(path, cb)),
      this.call<Buffer>((cb) => this.sftp.open(path, "r", cb)),
    ]);
    if (!handle) return undefined;
    const want = Math.max(size + 1, 4096);
    const buf = Buffer.alloc(want);
    const n = await this.call<number>((cb) => this.sftp.read(handle, buf, 0, want, 0, cb));
    this.sftp.close(handle, () => undefined);
    if (!attrs || fileType(attrs.mode) !== "file" || n === undefined || n === null) return undefined;
    // a short read is the whole file; a full one means it grew since: read it as usual
    if (n >= want || attrs.size !== n) return undefined;
    const stat = this.toStat(path, attrs, null, await names);
    return stat && { ...stat, content: buf.subarray(0, n) };
  }

  /** An earlier run's temp files in `dir` (stale-temps.ts), on the first write there; failures are ignored. */
  private async sweepStaleTemps(dir: string): Promise<void> {
    const stale = this.staleTemps;
    if (!stale?.firstWriteIn(dir)) return;
    const list = await this.call<{ filename: string; attrs: Attrs }[]>((cb) => this.sftp.readdir(dir, cb));
    const old = (list ?? []).filter((e) =>
      stale.isStale(e.filename, e.attrs.mtime, fileType(e.attrs.mode) === "file"),
    );
    await Promise.all(old.map((e) => this.succeeds((cb) => this.sftp.unlink(`${dir}/${e.filename}`, cb))));
  }

  /**
   * lstat and, for a regular file or a link to one, the content: lstat, open, read, close (a link
   * adds its readlink and stat, sent together). A path is opened only once lstat (or stat, through
   * a link) says it is a regular file: sftp-server would block opening a FIFO, and opening a device
   * may act on it.
   */
  async readFile(path: string): Promise<FileRead | undefined> {
    const names = this.loadNames();
    const attrs = await this.call<Attrs>((cb) => this.sftp.lstat(path, cb));
    if (attrs === undefined) return undefined;
    if (attrs === null) return { path, exists: false };
    const isLink = fileType(attrs.mode) === "link";
    const [linkTarget, target] = isLink
      ? await Promise.all([
          this.call<string>((cb) => this.sftp.readlink(path, cb)),
          this.call<Attrs>((cb) => this.sftp.stat(path, cb)),
        ])
      : [null, attrs];
    if (linkTarget === undefined || target === undefined) return undefined;
    const isFile = target !== null && fileType(target.mode) === "file";
    const [accounts, content] = await Promise.all([names, isFile ? this.read(path, target.size) : null]);
    const stat = this.toStat(path, attrs, linkTarget, accounts);
    if (stat === undefined || content === undefined) return undefined;
    return content === null ? stat : { ...stat, content };
  }

  /** Reads until a short read (EOF); the first read asks for more than the size lstat gave. */
  private async read(path: string, size: number): Promise<Buffer | undefined> {
    const handle = await this.call<Buffer>((cb) => this.sftp.open(path, "r", cb));
    if (!handle) return undefined;
    try {
      const chunks: Buffer[] = [];
      let position = 0;
      for (let want = Math.max(size + 1, 4096); ; want = READ_CHUNK) {
        const buf = Buffer.alloc(want);
        const n = await this.call<number>((cb) => this.sftp.read(handle, buf, 0, want, position, cb));
        if (!n) return n === 0 ? Buffer.concat(chunks) : undefined;
        chunks.push(buf.subarray(0, n));
        position += n;
        if (n < want) return Buffer.concat(chunks);
      }
    } finally {
      this.sftp.close(handle, () => undefined);
    }
  }

  private toStat(
    path: string,
    attrs: Attrs,
    linkTarget: string | null,
    names: Accounts | undefined,
  ): FileStat | undefined {
    const owner = names?.users.get(attrs.uid);
    const group = names?.groups.get(attrs.gid);
    if (owner === undefined || group === undefined) return undefined;
    const stat: FileStat = {
      path,
      exists: true,
      type: fileType(attrs.mode),
      mode: (attrs.mode & 0o7777).toString(8).padStart(4, "0"),
      uid: attrs.uid,
      gid: attrs.gid,
      owner,
      group,
      size: attrs.size,
      mtime: attrs.mtime,
    };
    if (linkTarget !== null) stat.linkTarget = linkTarget;
    return stat;
  }

  /** The account names: read once, then after each command checked (and re-read if changed). */
  private loadNames(): NonNullable<SftpFiles["names"]> {
    const cached = this.names;
    if (cached === undefined || !this.unchecked) {
      this.names ??= this.readNames();
      return this.names;
    }
    this.unchecked = false;
    this.names = Promise.all([cached, this.stamp()]).then(([accounts, stamp]) =>
      accounts?.stamp !== undefined && accounts.stamp === stamp ? accounts : this.readNames(),
    );
    return this.names;
  }

  private readNames(): Promise<Accounts | undefined> {
    this.unchecked = false;
    // Sent before the reads, and sftp-server answers in order: the stamp is never newer than the content.
    const stamp = this.stamp();
    return Promise.all([stamp, this.read("/etc/passwd", 0), this.read("/etc/group", 0)]).then(
      ([stamp, passwd, group]) => (passwd && group ? { ...readAccounts(passwd, group), stamp } : undefined),
    );
  }

  /**
   * Which versions of /etc/passwd and /etc/group the host has (mtime and size of each, links
   * followed as when they are read), or undefined when that cannot tell a change: a file changed
   * in the last two seconds may change again within the same second (SFTP gives whole seconds),
   * so its stamp is not trusted yet. This assumes the host's clock is not behind this machine's by
   * more than a second.
   */
  private async stamp(): Promise<string | undefined> {
    const attrs = await Promise.all(
      ACCOUNT_FILES.map((f) => this.call<Attrs>((cb) => this.sftp.stat(f, cb))),
    );
    const settled = Math.floor(Date.now() / 1000) - 2;
    if (attrs.some((a) => !a || a.mtime > settled)) return undefined;
    return attrs.map((a) => `${a!.mtime}:${a!.size}`).join(" ");
  }
}

interface Accounts {
  /** What the files were when read (see SftpFiles.stamp); undefined: re-read after the next command. */
  stamp?: string;
  users: Map<number, string>;
  groups: Map<number, string>;
  /** user name → [uid, primary gid] */
  uidOf: Map<string, [number, number]>;
  gidOf: Map<string, number>;
}

/** Both ways, the first entry winning, as getpwuid/getpwnam and getgr* find them in files. */
function readAccounts(passwd: Buffer, group: Buffer): Accounts {
  const accounts: Accounts = { users: new Map(), groups: new Map(), uidOf: new Map(), gidOf: new Map() };
  for (const [name, id, gid] of entries(passwd)) {
    if (!accounts.users.has(id)) accounts.users.set(id, name);
    if (!accounts.uidOf.has(name) && gid !== undefined) accounts.uidOf.set(name, [id, gid]);
  }
  for (const [name, id] of entries(group)) {
    if (!accounts.groups.has(id)) accounts.groups.set(id, name);
    if (!accounts.gidOf.has(name)) accounts.gidOf.set(name, id);
  }
  return accounts;
}

/** `name:x:id:gid:…` lines → [name, id, gid]. */
function entries(file: Buffer): [string, number, number | undefined][] {
  const out: [string, number, number | undefined][] = [];
  for (const line of file.toString().split("\n")) {
    const [name, , id, gid] = line.split(":");
    if (!name || !id || !/^\d+$/.test(id)) continue;
    out.push([name, Number(id), gid && /^\d+$/.test(gid) ? Number(gid) : undefined]);
  }
  return out;
}

/**
 * uid and gid for `chown owner:group` as the shell script gives it (`owner:` takes the owner's
 * login group); undefined when only the shell knows (a group alone, an id not in the files).
 */
function ownership(
  accounts: Accounts,
  owner?: string,
  group?: string,
): { uid: number; gid: number } | undefined {
  if (owner === undefined || owner === "") return undefined;
  const user = accounts.uidOf.get(owner);
  if (!user) return undefined;
  if (group === undefined || group === "") return { uid: user[0], gid: user[1] };
  const gid = accounts.gidOf.get(group) ?? (/^\d+$/.test(group) ? Number(group) : undefined);
  return gid === undefined ? undefined : { uid: user[0], gid };
}

/** One SFTP request: its result, null for "no such file", undefined for any other error. */
function call<T>(
  request: (cb: (err: SftpError | undefined, result: T) => void) => void,
): Promise<T | null | undefined> {
  return new Promise((resolve) => {
    try {
      request((err, result) => {
        if (!err) resolve(result);
        else resolve(err.code === NO_SUCH_FILE ? null : undefined);
      });
    } catch {
      resolve(undefined);
    }
  });
}

/** One SFTP request without a result: whether it succeeded. */
function succeeds(request: (cb: (err?: SftpError) => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      request((err) => resolve(!err));
    } catch {
      resolve(false);
    }
  });
}

export function fileType(mode: number): FileType {
  switch (mode & 0o170000) {
    case 0o100000:
      return "file";
    case 0o040000:
      return "directory";
    case 0o120000:
      return "link";
    default:
      return "other";
  }
}
