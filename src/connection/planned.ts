/**
 * Check mode's overlay of planned state: what the tasks before this one would have made of a
 * host's paths. A state module's plan says what each change does to a path (Change.effect); in a
 * check run the engine records it here (run-task.ts), and the run's connection to the host reads
 * through it: readFile and stat answer from the overlay where a planned change touched the path,
 * else from the host; a probe that reads a path with a command asks plannedAt first (the checksums of
 * stat, a sysfs attribute, the record's hashes). Commands still run on the host (the probes' own read-only commands, and the
 * `check_mode: false` tasks); a write or removal that really happens drops what was planned there.
 */
import { posix } from "node:path";
import type {
  Connection,
  FileRead,
  FileStat,
  FileType,
  Privilege,
  RunOptions,
  WriteOptions,
} from "./types.js";

/** What a planned change leaves at one path; `attributes` keeps the path and sets mode/owner/group. */
export type PathEffect =
  | { path: string; type: "file"; content: string | Buffer; mode?: string; owner?: string; group?: string }
  | {
      path: string;
      type: "directory";
      mode?: string;
      owner?: string;
      group?: string;
      /** The missing directories above it are made with the same mode, owner and group (the file module's). */
      parentsAlike?: boolean;
    }
  | { path: string; type: "link"; target: string }
  | { path: string; type: "absent" }
  | { path: string; type: "attributes"; mode?: string; owner?: string; group?: string };

/** A planned path: the stat (and bytes) a task would find there after the earlier tasks. */
type Planned = FileRead;

/** What a new regular file or directory gets when the plan names no mode (a umask of 022). */
const DEFAULT_MODE: Record<FileType, string> = {
  file: "0644",
  directory: "0755",
  link: "0777",
  other: "0644",
};

/** One host's overlay. */
export class PlannedState {
  private readonly paths = new Map<string, Planned>();
  /** The host's answers to reads since it last changed (a command, a real write or removal), by kind, privilege and path. */
  private readonly recent = new Map<string, Promise<FileStat>>();

  constructor(private readonly host: Connection) {}

  /** Records what a planned change leaves at its path (and the directories above a created path). */
  async record(effect: PathEffect, privilege: Privilege = {}): Promise<void> {
    const path = posix.normalize(effect.path);
    if (effect.type === "absent") {
      for (const p of [...this.paths.keys()]) if (p === path || isUnder(p, path)) this.paths.delete(p);
      this.paths.set(path, { path, exists: false });
      return;
    }
    if (effect.type === "attributes") {
      const current = await this.readFile(path, privilege);
      if (!current.exists) return;
      this.paths.set(path, { ...current, ...attributes(effect) });
      return;
    }
    if (effect.type === "link") {
      await this.planParents(path, privilege);
      this.paths.set(path, { path, exists: true, type: "link", linkTarget: effect.target, mode: "0777" });
      return;
    }
    const content = effect.type === "file" ? Buffer.from(effect.content) : undefined;
    const alike = effect.type === "directory" && effect.parentsAlike ? attributes(effect) : {};
    const old = await this.readBeforePlanning(path, privilege, alike);
    const kept = old.exists && old.type === effect.type ? old : undefined;
    this.paths.set(path, {
      path,
      exists: true,
      type: effect.type,
      mode: effect.mode ?? kept?.mode ?? DEFAULT_MODE[effect.type],
      uid: kept?.uid,
      gid: kept?.gid,
      owner: effect.owner ?? kept?.owner,
      group: effect.group ?? kept?.group,
      ...(content ? { content, size: content.length } : {}),
    });
  }

  /** The path as the plan leaves it, else as the host has it. */
  async readFile(path: string, privilege: Privilege = {}): Promise<FileRead> {
    const planned = this.lookup(path);
    if (planned) return planned;
    return this.remember(`read ${readKey(path, privilege)}`, this.host.readFile(path, privilege));
  }

  async stat(path: string, options: Privilege & { follow?: boolean } = {}): Promise<FileStat> {
    const planned = this.lookup(path);
    if (!planned) {
      const kind = options.follow ? "stat" : "lstat";
      return this.remember(`${kind} ${readKey(path, options)}`, this.host.stat(path, options));
    }
    if (options.follow && planned.type === "link" && planned.linkTarget !== undefined) {
      const target = posix.resolve(posix.dirname(planned.path), planned.linkTarget);
      return { ...(await this.stat(target, options)), path };
    }
    const { content: _content, ...stat } = planned;
    return stat;
  }

  /** A real write or removal (a `check_mode: false` task): the host's state wins again there. */
  forget(path: string): void {
    this.hostChanged();
    const p = posix.normalize(path);
    for (const key of [...this.paths.keys()]) if (key === p || isUnder(key, p)) this.paths.delete(key);
  }

  /** A command ran on the host (it may have changed any path): what was read from it before is not reused. */
  hostChanged(): void {
    this.recent.clear();
  }

  /**
   * What the path holds before a planned file or directory: the probe's own read when there was one
   * since the host last changed (no round trip), else a read sent with the parents' stats. Parents
   * are planned only under a path that does not exist yet.
   */
  private async readBeforePlanning(
    path: string,
    privilege: Privilege,
    parents: Partial<FileStat>,
  ): Promise<FileRead> {
    const key = readKey(path, privilege);
    const read = this.recent.get(`read ${key}`) as Promise<FileRead> | undefined;
    const lstat = this.recent.get(`lstat ${key}`);
    if (read === undefined && lstat === undefined) {
      const [old] = await Promise.all([
        this.readFile(path, privilege),
        this.planParents(path, privilege, parents),
      ]);
      return old;
    }
    const old = (await read) ?? (await lstat);
    if (old?.exists) return read ? old : this.readFile(path, privilege); // an lstat: the bytes are still to read
    await this.planParents(path, privilege, parents);
    return { path, exists: false };
  }

  private remember<T extends FileStat>(key: string, read: Promise<T>): Promise<T> {
    this.recent.set(key, read);
    read.catch(() => this.recent.delete(key));
    return read;
  }

  /** The planned entry for `path`, an absence below a planned removal or file, or undefined (ask the host). */
  lookup(path: string): Planned | undefined {
    const p = posix.normalize(path);
    const own = this.paths.get(p);
    if (own) return own;
    for (let dir = posix.dirname(p); dir !== "/" && dir !== "."; dir = posix.dirname(dir)) {
      const above = this.paths.get(dir);
      if (above && (!above.exists || above.type === "file")) return { path: p, exists: false };
      if (above) return undefined;
    }
    return undefined;
  }

  /** The planned entries directly inside `dir` (a removal among them: `exists: false`). */
  entriesIn(dir: string): Planned[] {
    const d = posix.normalize(dir).replace(/(.)\/+$/, "$1");
    return [...this.paths.values()].filter((p) => p.path !== d && posix.dirname(p.path) === d);
  }

  /**
   * The missing directories above a path a change creates (lineinfile's `create`, `mkdir -p`: mode
   * 0755; the file module's: `parents`, its own mode, owner and group).
   */
  private async planParents(
    path: string,
    privilege: Privilege,
    parents: Partial<FileStat> = {},
  ): Promise<void> {
    const above: string[] = [];
    for (let dir = posix.dirname(path); dir !== "/" && dir !== "."; dir = posix.dirname(dir)) above.push(dir);
    // every parent stat'ed at once (one round trip), nearest first; the missing ones are those below the first that exists
    const exists = await Promise.all(
      above.map(async (dir) => (await this.stat(dir, { ...privilege, follow: true })).exists),
    );
    const found = exists.indexOf(true);
    for (const dir of found === -1 ? above : above.slice(0, found))
      this.paths.set(dir, { path: dir, exists: true, type: "directory", mode: "0755", ...parents });
  }
}

function readKey(path: string, privilege: Privilege): string {
  return `${privilege.become ?? ""}:${privilege.becomeUser ?? ""} ${posix.normalize(path)}`;
}

function isUnder(path: string, dir: string): boolean {
  return path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

function attributes(effect: { mode?: string; owner?: string; group?: string }): Partial<FileStat> {
  return {
    ...(effect.mode === undefined ? {} : { mode: effect.mode }),
    ...(effect.owner === undefined
      ? {}
      : { owner: effect.owner, uid: /^\d+$/.test(effect.owner) ? Number(effect.owner) : undefined }),
    ...(effect.group === undefined
      ? {}
      : { group: effect.group, gid: /^\d+$/.test(effect.group) ? Number(effect.group) : undefined }),
  };
}

/** A check run's connection to a host: reads through the host's overlay, writes for real (and forget the plan there). */
export interface PlannedConnection extends Connection {
  readonly planned: PlannedState;
}

export function plannedConnection(conn: Connection): PlannedConnection {
  const planned = new PlannedState(conn);
  return {
    name: conn.name,
    transport: conn.transport,
    planned,
    run: (command: string, options?: RunOptions) => {
      planned.hostChanged();
      return conn.run(command, options).finally(() => planned.hostChanged());
    },
    readFile: (path, options) => planned.readFile(path, options),
    stat: (path, options) => planned.stat(path, options),
    plannedAt: (path) => planned.lookup(path),
    plannedIn: (dir) => planned.entriesIn(dir),
    writeFile: async (path: string, content: string | Buffer, options?: WriteOptions) => {
      await conn.writeFile(path, content, options);
      planned.forget(path);
    },
    remove: async (path, options) => {
      await conn.remove(path, options);
      planned.forget(path);
    },
    close: () => conn.close(),
  };
}

/** The overlay behind a check run's connection, if it is one. */
export function plannedStateOf(conn: Connection): PlannedState | undefined {
  return (conn as Partial<PlannedConnection>).planned;
}
