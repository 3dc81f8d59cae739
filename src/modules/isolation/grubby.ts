/**
 * kernel_cmdline's `grubby` method (RHEL family, BLS entries carry the arguments):
 * - present: each entry's original arguments go to the state file (`grubby`, by kernel path, only
 *   the first time) before `grubby --update-kernel=ALL --args=…`; GRUB_CMDLINE_LINUX in
 *   /etc/default/grub gets the params too (its original bytes saved), so that a later
 *   `grub2-mkconfig` (or a new kernel's entry) does not drop them;
 * - restored: each saved entry gets its original arguments back exactly (every current word
 *   removed, the original words added in their order: grubby appends), an entry without a saved
 *   original loses the params' exact words (`isolcpus=4`, not an operator's `isolcpus=2`),
 *   /etc/default/grub its original bytes; the save goes last.
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { HostWriter } from "../../connection/types.js";
import type { Change, ModuleResult } from "../types.js";
import { ensureDir } from "../util/created-dir.js";
import type { SaveData } from "./grub-apply.js";
import { formatParam, hasKey, type KernelParam, linesMatchPresent, parseParams } from "./grub-cmdline.js";

/** One boot entry of `grubby --info=ALL`: its kernel path and arguments (root=, initrd, title, id apart). */
export interface GrubbyEntry {
  kernel: string;
  args: KernelParam[];
  root?: string;
  initrd?: string;
  title?: string;
  /** The BLS entry's id (its file name without .conf): what grub2-reboot and saved_entry name. */
  id?: string;
}

/** `grubby --info=ALL` → its entries (`index=N` starts each; `kernel="…"`, `args="…"` … inside). */
export function grubbyEntries(info: string): GrubbyEntry[] {
  const entries: GrubbyEntry[] = [];
  for (const block of info.split(/^index=\d+$/m).slice(1)) {
    const field = (name: string) => new RegExp(`^${name}="([^"]*)"$`, "m").exec(block)?.[1];
    const [kernel, args] = [field("kernel"), field("args")];
    if (kernel === undefined || args === undefined) continue;
    const entry: GrubbyEntry = { kernel, args: parseParams(args) };
    for (const key of ["root", "initrd", "title", "id"] as const) {
      const value = field(key);
      if (value !== undefined) entry[key] = value;
    }
    entries.push(entry);
  }
  return entries;
}

const words = (params: KernelParam[]) => params.map(formatParam).join(" ");

/** Pure: the grubby commands (one change each) for present, absent or restored. */
export function grubbyChanges(
  command: string,
  entries: GrubbyEntry[],
  params: KernelParam[],
  want: "present" | "absent" | "restored",
  save: SaveData,
): Change[] {
  const keys = params.map((p) => p.key);
  const lines = entries.map((e) => e.args);
  if (want === "present") {
    if (linesMatchPresent(lines, params)) return [];
    return [
      { target: "grubby:ALL", summary: `${command} --update-kernel=ALL --args=${quote([words(params)])}` },
    ];
  }
  if (want === "absent") {
    if (lines.every((l) => !keys.some((k) => hasKey(l, k)))) return [];
    return [
      {
        target: "grubby:ALL",
        summary: `${command} --update-kernel=ALL --remove-args=${quote([keys.join(" ")])}`,
      },
    ];
  }
  const changes: Change[] = [];
  for (const e of entries) {
    const original = save.grubby?.[e.kernel];
    const now = words(e.args);
    if (original === undefined) {
      // an entry installed since (or a save from before originals were kept): tickless's own words go,
      // an operator's other value of the key stays
      const ours = params.filter((p) => e.args.some((w) => formatParam(w) === formatParam(p)));
      if (ours.length === 0) continue;
      changes.push({
        target: `grubby:${e.kernel}`,
        summary: `${command} --update-kernel=${quote([e.kernel])} --remove-args=${quote([words(ours)])}`,
      });
    } else if (now !== original) {
      const remove = now ? ` --remove-args=${quote([now])}` : "";
      const add = original ? ` --args=${quote([original])}` : "";
      changes.push({
        target: `grubby:${e.kernel}`,
        summary: `${command} --update-kernel=${quote([e.kernel])}${remove}${add}`,
        before: now,
        after: original,
      });
    }
  }
  return changes;
}

/** Pure: the save with each entry's original arguments (the ones saved earlier kept). */
export function withGrubbyOriginals(data: SaveData, entries: GrubbyEntry[]): SaveData {
  const grubby = { ...data.grubby };
  for (const e of entries) grubby[e.kernel] ??= words(e.args);
  return { ...data, grubby };
}

/** The running kernel's entry (BOOT_IMAGE's file name), else the first (the default). */
export function runningEntry(entries: GrubbyEntry[], cmdline: string): GrubbyEntry | undefined {
  const image = parseParams(cmdline).find((w) => w.key === "BOOT_IMAGE")?.value ?? "";
  const base = posix.basename(image.replace(/^\([^)]*\)/, ""));
  return entries.find((e) => posix.basename(e.kernel) === base) ?? entries[0];
}

/**
 * Runs the grubby changes after the save is on disk (the originals first, always); then `files`
 * writes /etc/default/grub (after grubby, whose RHEL 9 version edits GRUB_CMDLINE_LINUX itself).
 */
export async function applyGrubby(
  host: HostWriter,
  changes: Change[],
  save: { path: string; change?: Change },
  files: () => Promise<ModuleResult>,
): Promise<ModuleResult> {
  if (save.change?.after !== undefined) {
    await ensureDir(host, posix.dirname(save.path));
    await host.writeFile(save.path, save.change.after, { mode: "0600" });
  }
  for (const c of changes.filter((x) => x.target.startsWith("grubby:"))) {
    const res = await host.run(c.summary);
    if (res.rc !== 0) return { failed: true, rc: res.rc, msg: `${c.summary} failed: ${res.stderr.trim()}` };
  }
  return files();
}
