/**
 * The verify probe after apply, spared the reads apply's writes already made: apply's host asks each
 * write for its read-back (the file as it is right after the rename, read in the same exchange,
 * connection/sftp-files.ts), and the verify probe's reads of those paths are answered by it. A
 * command or a removal in between may have changed anything: the read-backs before it are dropped.
 */
import type { FileRead, FileStat, HostWriter, Privilege } from "../connection/types.js";

export class ReadBacks {
  private readonly files = new Map<string, FileRead>();

  /** apply's host: writes ask for their read-back and keep it. */
  writing(host: HostWriter): HostWriter {
    return {
      name: host.name,
      run: (command, o) => {
        this.files.clear();
        return host.run(command, o);
      },
      readFile: (path, o) => host.readFile(path, o),
      stat: (path, o) => host.stat(path, o),
      writeFile: async (path, content, o) => {
        this.files.delete(keyOf(path, o));
        const back = await host.writeFile(path, content, { ...o, readBack: true });
        if (back) this.files.set(keyOf(path, o), back);
        return back;
      },
      remove: (path, o) => {
        this.files.clear();
        return host.remove(path, o);
      },
    };
  }

  /** The verify probe's host: a read of a path written by apply is answered by its read-back, until a command runs. */
  reading(host: HostWriter): HostWriter {
    if (this.files.size === 0) return host;
    return {
      ...this.writing(host),
      readFile: async (path, o) => this.files.get(keyOf(path, o)) ?? host.readFile(path, o),
      stat: async (path, o) => {
        const back = this.files.get(keyOf(path, o));
        if (!back) return host.stat(path, o);
        const { content: _content, ...stat }: FileStat & { content?: Buffer } = back;
        return stat;
      },
      writeFile: (path, content, o) => {
        this.files.clear();
        return host.writeFile(path, content, o);
      },
    };
  }
}

function keyOf(path: string, o: Privilege = {}): string {
  return `${o.become ?? ""}:${o.becomeUser ?? ""} ${path}`;
}
