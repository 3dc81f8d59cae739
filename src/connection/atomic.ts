/** Atomic file replacement on the local filesystem: temp file beside the target, then rename. */
import { randomBytes } from "node:crypto";
import { open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface AtomicWriteOptions {
  /** Permission bits to set on the new file; default: the old file's (through a link: its target's), else 0666 & ~umask. */
  mode?: number;
  /** Owner and group ids; default: the old file's (links followed, as for the mode). Resolved lazily, after the write. */
  ids?: () => Promise<{ uid?: number; gid?: number }>;
}

/** The temp name used beside `path`: `.<name>.tickless-<random>`. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tickless-${randomBytes(6).toString("hex")}`);
}

/**
 * Writes `content` to a temp file (0600) in the target's directory, fsyncs it, sets ownership then
 * mode (chown clears setuid/setgid), then renames it over `path` (a link there is replaced). On any failure the temp file is removed and the target is untouched.
 */
export async function writeFileAtomic(
  path: string,
  content: Buffer,
  options: AtomicWriteOptions = {},
): Promise<void> {
  // Through a link, the file it points to gives the defaults, as over SFTP, the shell and Ansible.
  const old = await stat(path).catch(() => undefined);
  const temp = tempPathFor(path);
  const handle = await open(temp, "wx", 0o600);
  try {
    try {
      await handle.writeFile(content);
      await handle.sync();
      const mode = options.mode ?? (old?.isFile() ? old.mode & 0o7777 : 0o666 & ~process.umask());
      const ids = (await options.ids?.()) ?? {};
      const uid = ids.uid ?? (old?.isFile() ? old.uid : undefined);
      const gid = ids.gid ?? (old?.isFile() ? old.gid : undefined);
      if (uid !== undefined || gid !== undefined) await handle.chown(uid ?? -1, gid ?? -1);
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
