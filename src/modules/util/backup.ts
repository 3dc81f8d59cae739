/** Backups of files before a module rewrites them, named as Ansible names them. */
import { quote } from "shell-quote";
import type { HostWriter } from "../../connection/types.js";
import { runChecked } from "./shell.js";

/** `path.YYYY-MM-DD@HH:MM:SS~` (Ansible adds the pid; tickless has none on the host). */
export function backupName(path: string, now: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const day = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  return `${path}.${day}@${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}~`;
}

/** Copies `path` to its backup name, keeping mode, owner and times; returns the backup's path. */
export async function backupFile(host: HostWriter, path: string): Promise<string> {
  const dest = backupName(path, new Date());
  await runChecked(host, [quote(["cp", "-p", "--", path, dest])], `backup of ${path}`);
  return dest;
}
