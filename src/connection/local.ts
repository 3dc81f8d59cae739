/** The local transport: child processes and node's fs, for localhost and tests. */
import { spawn } from "node:child_process";
import type { Stats } from "node:fs";
import { lstat, readFile, readlink, rm, stat } from "node:fs/promises";
import { constants, userInfo } from "node:os";
import { TicklessError } from "../errors.js";
import { writeFileAtomic } from "./atomic.js";
import { checkedEnv, envStdinLine, READ_ENV_LINE } from "./command-env.js";
import { ScriptFiles, type ScriptResult } from "./file-scripts.js";
import { refuseRecursiveRemoval } from "./system-paths.js";
import {
  becomeUserOf,
  type Connection,
  type ConnectionSettings,
  type FileRead,
  type FileStat,
  type FileType,
  type Privilege,
  type RunOptions,
  type RunResult,
  type WriteOptions,
} from "./types.js";

export interface LocalConnectionOptions {
  become?: boolean;
  becomeUser?: string;
  commandTimeoutMs?: number;
}

/** name ⇄ id tables of /etc/passwd or /etc/group. */
interface IdTable {
  byId: Map<number, string>;
  byName: Map<string, number>;
}

export class LocalConnection implements Connection {
  readonly transport = "local" as const;
  private passwd?: { stamp: string; table: Promise<IdTable> };
  private group?: { stamp: string; table: Promise<IdTable> };
  /** The file operations as shell scripts through sudo, when become asks for another user. */
  private readonly scripts: ScriptFiles;

  constructor(
    readonly name = "localhost",
    private readonly options: LocalConnectionOptions = {},
  ) {
    this.scripts = new ScriptFiles(name, (script, o) => this.runBuffer(script, o));
  }

  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const r = await this.runBuffer(command, options);
    return { rc: r.rc, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }

  private runBuffer(command: string, options: RunOptions): Promise<ScriptResult> {
    // A holder (keepStdinOpen) lives as long as the run: the command timeout is not for it.
    const timeoutMs =
      options.timeoutMs ?? (options.keepStdinOpen ? undefined : this.options.commandTimeoutMs);
    const sudoUser = this.sudoUser(options);
    // sudo resets the environment: its shell reads the values from a first line of stdin (not argv)
    const envLine = sudoUser === undefined ? undefined : envStdinLine(options.env);
    const script = envLine === undefined ? command : `${READ_ENV_LINE}${command}`;
    const argv =
      sudoUser !== undefined
        ? ["sudo", "-n", "-u", sudoUser, "--", "/bin/sh", "-c", script]
        : ["/bin/sh", "-c", command];
    const stdin =
      envLine === undefined
        ? (options.stdin ?? "")
        : Buffer.concat([Buffer.from(`${envLine}\n`), toBuffer(options.stdin)]);
    if (options.signal?.aborted)
      return Promise.resolve({ rc: 130, stdout: Buffer.alloc(0), stderr: Buffer.from("interrupted\n") });
    return new Promise((resolve) => {
      const child = spawn(argv[0], argv.slice(1), {
        cwd: options.cwd,
        env: sudoUser !== undefined ? process.env : { ...process.env, ...checkedEnv(options.env) },
        detached: true,
        stdio: ["pipe", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      let aborted = false;
      const onAbort = () => {
        aborted = true;
        killGroup(child.pid);
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              killGroup(child.pid);
            }, timeoutMs);
      child.stdout.on("data", (b: Buffer) => {
        out.push(b);
        options.onStdout?.(b);
      });
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.stdin.on("error", () => undefined);
      child.on("error", (e) => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        resolve({ rc: 127, stdout: Buffer.alloc(0), stderr: Buffer.from(e.message) });
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        const exited = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
        const rc = aborted ? 130 : timedOut ? 124 : exited;
        resolve({ rc, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
      });
      // A holder's stdin stays open: it sees EOF when tickless (or this process) goes away.
      if (options.keepStdinOpen) child.stdin.write(stdin);
      else child.stdin.end(stdin);
    });
  }

  async readFile(path: string, options: Privilege = {}): Promise<FileRead> {
    if (this.sudoUser(options) !== undefined) return this.scripts.readFile(path, options);
    const info = await this.stat(path, options);
    if (!info.exists) return info;
    const target = info.type === "link" ? await stat(path).catch(() => undefined) : undefined;
    if (info.type === "file" || target?.isFile()) return { ...info, content: await readFile(path) };
    return info;
  }

  async stat(path: string, options: Privilege & { follow?: boolean } = {}): Promise<FileStat> {
    if (this.sudoUser(options) !== undefined) return this.scripts.stat(path, options);
    let st: Stats;
    try {
      st = options.follow ? await stat(path) : await lstat(path);
    } catch (err) {
      if (isMissing(err)) return { path, exists: false };
      throw fileError("stat", path, err);
    }
    const [users, groups] = await Promise.all([this.users(), this.groups()]);
    const type = fileType(st);
    return {
      path,
      exists: true,
      type,
      mode: (st.mode & 0o7777).toString(8).padStart(4, "0"),
      uid: st.uid,
      gid: st.gid,
      owner: users.byId.get(st.uid),
      group: groups.byId.get(st.gid),
      size: st.size,
      mtime: Math.floor(st.mtimeMs / 1000),
      ...(type === "link" ? { linkTarget: await readlink(path) } : {}),
    };
  }

  async writeFile(path: string, content: string | Buffer, options: WriteOptions = {}): Promise<void> {
    // validate runs in the write's shell script (validate.ts)
    if (this.sudoUser(options) !== undefined || options.validate !== undefined)
      return this.scripts.writeFile(path, content, options);
    const mode = options.mode === undefined ? undefined : Number.parseInt(options.mode, 8);
    try {
      await writeFileAtomic(path, typeof content === "string" ? Buffer.from(content) : content, {
        mode,
        ids: async () => ({
          uid: await this.resolveId(options.owner, this.users(), "user"),
          gid: await this.resolveId(options.group, this.groups(), "group"),
        }),
      });
    } catch (err) {
      if (err instanceof TicklessError) throw err;
      throw fileError("write", path, err);
    }
  }

  async remove(path: string, options: Privilege & { recursive?: boolean } = {}): Promise<void> {
    if (options.recursive) refuseRecursiveRemoval(path);
    if (this.sudoUser(options) !== undefined) return this.scripts.remove(path, options);
    try {
      await rm(path, { recursive: options.recursive ?? false, force: true });
    } catch (err) {
      throw fileError("remove", path, err);
    }
  }

  async close(): Promise<void> {}

  /** The user to sudo to: the one become asks for, unless tickless already runs as that user. */
  private sudoUser(privilege: Privilege): string | undefined {
    const user = becomeUserOf(privilege, this.options);
    return user === undefined || user === currentUser() ? undefined : user;
  }

  /** The names of /etc/passwd, read again once the file changed (useradd, userdel). */
  private async users(): Promise<IdTable> {
    this.passwd = await freshIdTable("/etc/passwd", this.passwd);
    return this.passwd.table;
  }

  private async groups(): Promise<IdTable> {
    this.group = await freshIdTable("/etc/group", this.group);
    return this.group.table;
  }

  /** A user/group name or numeric id → id; unknown names are an error. */
  private async resolveId(
    name: string | undefined,
    table: Promise<IdTable>,
    what: string,
  ): Promise<number | undefined> {
    if (name === undefined) return undefined;
    if (/^\d+$/.test(name)) return Number(name);
    const id = (await table).byName.get(name);
    if (id === undefined) {
      throw new TicklessError("TASK", `unknown ${what} "${name}" on ${this.name}`, {
        hint: `create the ${what} first, or use a numeric id`,
      });
    }
    return id;
  }
}

/** The connection factory for `transport: local`. */
export async function openLocal(settings: ConnectionSettings): Promise<Connection> {
  return new LocalConnection(settings.host, {
    become: settings.become,
    becomeUser: settings.becomeUser,
    commandTimeoutMs: settings.commandTimeoutMs,
  });
}

/** The table read before, or a new one when the file's mtime or size differs from then. */
async function freshIdTable(
  file: string,
  cached: { stamp: string; table: Promise<IdTable> } | undefined,
): Promise<{ stamp: string; table: Promise<IdTable> }> {
  const st = await stat(file).catch(() => undefined);
  const stamp = st === undefined ? "" : `${st.mtimeMs}:${st.size}:${st.ino}`;
  return cached?.stamp === stamp ? cached : { stamp, table: loadIdTable(file) };
}

async function loadIdTable(file: string): Promise<IdTable> {
  const table: IdTable = { byId: new Map(), byName: new Map() };
  const text = await readFile(file, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    const [name, , id] = line.split(":");
    if (!name || id === undefined || !/^\d+$/.test(id)) continue;
    if (!table.byId.has(Number(id))) table.byId.set(Number(id), name);
    table.byName.set(name, Number(id));
  }
  return table;
}

function fileType(st: Stats): FileType {
  if (st.isSymbolicLink()) return "link";
  if (st.isDirectory()) return "directory";
  if (st.isFile()) return "file";
  return "other";
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

function fileError(action: string, path: string, err: unknown): TicklessError {
  const code = (err as NodeJS.ErrnoException).code ?? "error";
  return new TicklessError("TASK", `cannot ${action} ${path}: ${code}`, {
    cause: err,
    hint: code === "EACCES" || code === "EPERM" ? "use become: true" : undefined,
  });
}

/** The current process's user name (root when uid 0), read once. */
let current: string | undefined;
function currentUser(): string {
  current ??= process.getuid?.() === 0 ? "root" : userInfo().username;
  return current;
}

function toBuffer(data: string | Buffer | undefined): Buffer {
  return typeof data === "string" ? Buffer.from(data) : (data ?? Buffer.alloc(0));
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group has already exited
  }
}
