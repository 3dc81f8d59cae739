/**
 * Temp files an earlier run left behind: an atomic write cut off by a lost connection (or a
 * killed tickless) leaves `.NAME.tickless.XXXXXX` beside its target. The first time a connection
 * writes in a directory, such files there that are older than the connection are removed: only
 * tickless's own pattern, only regular files, only what this run cannot be writing, and only in a
 * directory being written anyway (one directory listing, sent alongside the write).
 */
import { quote } from "shell-quote";

/** `.NAME.tickless.XXXXXX` (mktemp, 6) or `.NAME.tickless.<8 base64url>` (SFTP). */
const TEMP_NAME = /^\..+\.tickless\.[A-Za-z0-9_-]{6,8}$/;

export class StaleTemps {
  /** Seconds since the epoch when the connection opened: older temp files are an earlier run's. */
  readonly since = Math.floor(Date.now() / 1000);
  private readonly seen = new Set<string>();

  /** True the first time `dir` is written through this connection (then it is swept). */
  firstWriteIn(dir: string): boolean {
    if (this.seen.has(dir)) return false;
    this.seen.add(dir);
    return true;
  }

  /** Whether a directory entry is a leftover to remove. */
  isStale(name: string, mtime: number, regularFile: boolean): boolean {
    return regularFile && mtime < this.since && TEMP_NAME.test(name);
  }

  /** The same sweep as a shell line, for the write script (GNU find). */
  shellLine(dir: string): string {
    const names = "\\( -name '.*.tickless.??????' -o -name '.*.tickless.????????' \\)";
    return `find ${quote([dir])} -maxdepth 1 -type f ${names} ! -newermt @${this.since} -delete 2>/dev/null || true`;
  }
}
