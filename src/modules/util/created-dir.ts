/**
 * Directories a module creates (`/etc/systemd/system/X.d`, `/etc/default/grub.d`) carry a hidden
 * marker, so that `state: absent` removes the directory only when tickless made it and it is
 * empty again — a rollback then leaves the tree exactly as it was. systemd reads only `*.conf`
 * in drop-in directories and grub-mkconfig only `*.cfg`, so the marker is inert.
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { HostWriter } from "../../connection/types.js";
import { runChecked } from "./shell.js";

export const MARKER = ".tickless-created";

export function createdDirMarker(dir: string): string {
  return posix.join(dir, MARKER);
}

/** Creates `dir` (and its marker) when missing, in one round trip. */
export async function ensureDir(host: HostWriter, dir: string): Promise<void> {
  const q = quote([dir]);
  const marker = quote([createdDirMarker(dir)]);
  await runChecked(host, [`{ test -d ${q} || { mkdir -p ${q} && : > ${marker}; }; }`], `creating ${dir}`);
}

/** A shell test that holds when `dir` holds nothing but the marker (false when `dir` is missing). */
export function onlyMarkerTest(dir: string): string {
  return `test "$(ls -A -- ${quote([dir])} 2>/dev/null)" = ${quote([MARKER])}`;
}

/** Removes `dir` when tickless created it and nothing but the marker is left. */
export async function removeDirIfCreated(host: HostWriter, dir: string): Promise<void> {
  const q = quote([dir]);
  const marker = quote([createdDirMarker(dir)]);
  const script = `if test -f ${marker} && ${onlyMarkerTest(dir)}; then rm -f ${marker} && rmdir ${q}; fi`;
  await runChecked(host, [script], `removing ${dir}`);
}
