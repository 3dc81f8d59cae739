/** Backups of files before a module rewrites them, named as Ansible names them. */
import { randomInt } from "node:crypto";
import { quote } from "shell-quote";
import type { FileRead, HostWriter } from "../../connection/types.js";
import { runChecked } from "../util/shell.js";

/**
 * Ansible's `path.<pid>.YYYY-MM-DD@HH:MM:SS~`; tickless has no process on the host, so the pid's
 * place holds a random number: the name cannot be guessed ahead (a link planted there), nor
 * clash with another run in the same second.
 */
export function backupName(path: string, now: Date, id = randomInt(1_000_000, 100_000_000)): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const day = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  return `${path}.${id}.${day}@${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}~`;
}

/**
 * Writes the probed bytes of `path` to a fresh backup name with the connection's atomic write (a
 * temp file created exclusively, then renamed: a link at the name is replaced, never followed),
 * keeping mode, owner, group and modification time; returns the backup's path.
 */
export async function backupFile(host: HostWriter, path: string, file: FileRead): Promise<string> {
  let dest = backupName(path, new Date());
  while ((await host.stat(dest)).exists) dest = backupName(path, new Date());
  await host.writeFile(dest, file.content ?? Buffer.alloc(0), {
    mode: file.mode,
    owner: file.owner ?? (file.uid === undefined ? undefined : String(file.uid)),
    group: file.group ?? (file.gid === undefined ? undefined : String(file.gid)),
  });
  if (file.mtime !== undefined) {
    await runChecked(
      host,
      [quote(["touch", "-h", "-m", "-d", `@${file.mtime}`, "--", dest])],
      `backup of ${path}`,
    );
  }
  return dest;
}
