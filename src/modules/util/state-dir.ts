/**
 * The directories tickless keeps its state in (/var/lib/tickless by default: saved originals,
 * reports, results): every level it creates is 0700, whatever the session's umask.
 */
import { quote } from "shell-quote";
import type { HostWriter } from "../../connection/types.js";
import { runChecked } from "./shell.js";

export async function ensureStateDir(host: HostWriter, dir: string): Promise<void> {
  await runChecked(host, [`(umask 077 && mkdir -p -- ${quote([dir])})`], `creating ${dir}`);
}
