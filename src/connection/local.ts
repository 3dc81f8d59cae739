/** The local transport: child processes and node's fs, for localhost and tests. */
import { spawn } from "node:child_process";
import type { Stats } from "node:fs";
import { lstat, readFile, readlink, rm, stat } from "node:fs/promises";
import { constants } from "node:os";
import { quote } from "shell-quote";
import { TicklessError } from "../errors.js";
import { writeFileAtomic } from "./atomic.js";
import type {
  Connection,
  ConnectionSettings,
  FileRead,
  FileStat,
  FileType,
  RunOptions,
  RunResult,
  WriteOptions,
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
  private passwd?: Promise<IdTable>;
  private group?: Promise<IdTable>;

  constructor(
    readonly name = "localhost",
    private readonly options: LocalConnectionOptions = {},
  ) {}

  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const timeoutMs =
      options.timeoutMs ?? (options.keepStdinOpen ? undefined : this.options.commandTimeoutMs);
    const becomeUser = options.becomeUser ?? this.options.becomeUser;
    const become = (options.become ?? this.options.become ?? false) && this.needsSudo(becomeUser);
    const env = options.env ?? {};
    const argv = become
      ? ["sudo", "-n", "-u", becomeUser ?? "root", "--", "/bin/sh", "-c", withExports(env, command)]
      : ["/bin/sh", "-c", command];
    if (options.signal?.aborted) return { rc: 130, stdout: "", stderr: "interrupted\n" };
    return new Promise((resolve) => {
      const child = spawn(argv[0], argv.slice(1), {
        cwd: options.cwd,
        env: become ? process.env : { ...process.env, ...env },
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
        resolve({ rc: 127, stdout: "", stderr: e.message });
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        const exited = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
        const rc = aborted ? 130 : timedOut ? 124 : exited;
        resolve({ rc, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
      });
      // A holder's stdin stays open: it sees EOF when tickless (or this process) goes away.
      if (options.keepStdinOpen) child.stdin.write(options.stdin ?? "");
      else child.stdin.end(options.stdin ?? "");
    });
  }

  async readFile(path: string): Promise<FileRead> {
    this.refuseBecome(path);
    const info = await this.stat(path);
    if (!info.exists) return info;
    const target = info.type === "link" ? await stat(path).catch(() => undefined) : undefined;
    if (info.type === "file" || target?.isFile()) return { ...info, content: await readFile(path) };
    return info;
  }

  async stat(path: string, options: { follow?: boolean } = {}): Promise<FileStat> {
    this.refuseBecome(path);
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
    this.refuseBecome(path);
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

  async remove(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    this.refuseBecome(path);
    try {
      await rm(path, { recursive: options.recursive ?? false, force: true });
    } catch (err) {
      throw fileError("remove", path, err);
    }
  }

  async close(): Promise<void> {}

  /** sudo is needed unless we already are the user asked for. */
  private needsSudo(becomeUser: string | undefined): boolean {
    const asRoot = becomeUser === undefined || becomeUser === "root";
    return !(asRoot && process.getuid?.() === 0);
  }

  /** File operations use node's fs, which cannot change user: say so instead of acting as the wrong one. */
  private refuseBecome(path: string): void {
    if (this.options.become && this.needsSudo(this.options.becomeUser)) {
      throw new TicklessError("CONNECTION", `cannot access ${path} as ${this.options.becomeUser ?? "root"}`, {
        hint: "file operations over the local transport run as the current user; run tickless as that user or use ssh",
      });
    }
  }

  private users(): Promise<IdTable> {
    this.passwd ??= loadIdTable("/etc/passwd");
    return this.passwd;
  }

  private groups(): Promise<IdTable> {
    this.group ??= loadIdTable("/etc/group");
    return this.group;
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

/** `export K='v'; command` — sudo resets the environment, so variables go inside the command. */
function withExports(env: Record<string, string>, command: string): string {
  const exports = Object.entries(env).map(([k, v]) => `export ${k}=${quote([v])}; `);
  return exports.join("") + command;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group has already exited
  }
}
