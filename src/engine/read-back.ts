/**
 * Reads the host already answered, not asked again.
 *
 * The verify probe after apply is spared the reads apply's writes already made: apply's host asks
 * each write for its read-back (the file as it is right after the rename, read in the same
 * exchange, connection/sftp-files.ts), and the verify probe's reads of those paths are answered by
 * it. A command or a removal in between may have changed anything: what was kept before it is
 * dropped.
 *
 * Across the items of a loop (`keepReads`), the reads of one item (its verify probe's, or its
 * probe's when it changed nothing) and the read-backs of its writes also answer the next item's
 * probe: lineinfile over the same file reads it once, not once per item. A write drops every read
 * kept (a link or a directory listing may show it) except the read-backs; a command or a removal
 * drops everything. Nothing else of the run acts on the host between two items of one task.
 */
import type { FileRead, FileStat, HostWriter, Privilege } from "../connection/types.js";

interface Kept {
  value: FileRead;
  /** A write's read-back (a regular file tickless just wrote), not a read of the probe. */
  written: boolean;
}

export class ReadBacks {
  private readonly files = new Map<string, Kept>();
  private readonly stats = new Map<string, FileStat>();
  /** Reads asked and not answered yet (a loop's probes sent together, prefetch.ts): asked once. */
  private readonly inflight = new Map<string, Promise<FileRead | FileStat>>();
  /** Bumped by whatever drops kept reads: a read asked before that is not kept when it answers. */
  private generation = 0;

  /** `keepReads`: what the probes read is kept too, for the next item of a loop. */
  constructor(private readonly keepReads = false) {}

  /** Forgets everything kept (the host may have changed in a way this object did not see). */
  clear(): void {
    this.files.clear();
    this.stats.clear();
    this.forgetInflight();
  }

  private forgetInflight(): void {
    this.generation++;
    this.inflight.clear();
  }

  /** `fetch` once for concurrent asks of `key`; `keep` its answer unless kept reads were dropped meanwhile. */
  private shared<T extends FileRead | FileStat>(
    key: string,
    fetch: () => Promise<T>,
    keep: (v: T) => void,
  ): Promise<T> {
    const flying = this.inflight.get(key);
    if (flying) return flying as Promise<T>;
    const generation = this.generation;
    const asked = fetch().then((v) => {
      if (this.generation === generation) keep(v);
      return v;
    });
    const tracked = asked.finally(() => {
      if (this.inflight.get(key) === tracked) this.inflight.delete(key);
    });
    this.inflight.set(key, tracked);
    return tracked;
  }

  /** apply's host: writes ask for their read-back and keep it; commands and removals drop what was kept. */
  writing(host: HostWriter): HostWriter {
    return {
      name: host.name,
      run: (command, o) => {
        this.clear();
        return host.run(command, o);
      },
      readFile: (path, o) => host.readFile(path, o),
      stat: (path, o) => host.stat(path, o),
      writeFile: async (path, content, o) => {
        this.forgetFor(keyOf(path, o));
        const back = await host.writeFile(path, content, { ...o, readBack: true });
        if (back) this.files.set(keyOf(path, o), { value: back, written: true });
        return back;
      },
      remove: (path, o) => {
        this.clear();
        return host.remove(path, o);
      },
      ...planned(host),
    };
  }

  /**
   * The probes' host: a read of a path written by apply (or, with `keepReads`, read before and
   * not touched since) is answered by what was kept; with `keepReads`, what the host answers is kept.
   */
  reading(host: HostWriter): HostWriter {
    if (!this.keepReads && this.files.size === 0) return host;
    return {
      ...this.writing(host),
      readFile: async (path, o) => {
        const key = keyOf(path, o);
        const kept = this.files.get(key);
        if (kept) return kept.value;
        if (!this.keepReads) return host.readFile(path, o);
        return this.shared(
          `file ${key}`,
          () => host.readFile(path, o),
          (read) => {
            this.files.set(key, { value: read, written: false });
          },
        );
      },
      stat: async (path, o) => {
        const key = keyOf(path, o);
        const back = this.files.get(key);
        // a read-back is a regular file: its lstat and its stat are the same
        if (back?.written) return withoutContent(back.value);
        const statKey = `${o?.follow ? "follow" : "lstat"} ${key}`;
        const kept = this.stats.get(statKey);
        if (kept) return kept;
        if (!this.keepReads) return host.stat(path, o);
        return this.shared(
          `stat ${statKey}`,
          () => host.stat(path, o),
          (stat) => {
            this.stats.set(statKey, stat);
          },
        );
      },
      writeFile: (path, content, o) => {
        this.clear();
        return host.writeFile(path, content, o);
      },
    };
  }

  /** Before a write to `key`: every read kept may show it (links, directories); other read-backs stay. */
  private forgetFor(key: string): void {
    this.forgetInflight();
    this.stats.clear();
    for (const [k, kept] of this.files) if (k === key || !kept.written) this.files.delete(k);
  }
}

function withoutContent(read: FileRead): FileStat {
  const { content: _content, ...stat } = read;
  return stat;
}

/** Check mode's overlay lookups (connection/planned.ts) pass through. */
function planned(host: HostWriter): Pick<HostWriter, "plannedAt" | "plannedIn"> {
  return {
    ...(host.plannedAt ? { plannedAt: (path: string) => host.plannedAt!(path) } : {}),
    ...(host.plannedIn ? { plannedIn: (dir: string) => host.plannedIn!(dir) } : {}),
  };
}

function keyOf(path: string, o: Privilege = {}): string {
  return `${o.become ?? ""}:${o.becomeUser ?? ""} ${path}`;
}
