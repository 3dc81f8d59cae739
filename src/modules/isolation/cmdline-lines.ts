/**
 * Pure helpers of kernel_cmdline over parsed command lines: whether lines carry the params, the
 * line the GRUB defaults give, a key's words, and the keys an edit dropped.
 */
import { formatParam, hasKey, type KernelParam, linesMatchPresent, parseParams } from "./grub-cmdline.js";
import { evaluate, type GrubSource, LINUX, LINUX_DEFAULT, parseSources } from "./grub-defaults.js";

/**
 * Whether every command line carries each param exactly once (present) or none carries any of the
 * params' keys, whatever its value (absent: `isolcpus=2,6-7` left by another run is still ours to remove).
 */
export function linesMatch(
  lines: KernelParam[][],
  params: KernelParam[],
  want: "present" | "absent",
): boolean {
  if (want === "present") return linesMatchPresent(lines, params);
  return lines.every((l) => !params.some((p) => hasKey(l, p.key)));
}

/** The normal entry's line that the sources give: GRUB_CMDLINE_LINUX then GRUB_CMDLINE_LINUX_DEFAULT. */
export function defaultsLine(sources: readonly GrubSource[]): KernelParam[] {
  const v = evaluate(parseSources(sources));
  return parseParams(`${v[LINUX]} ${v[LINUX_DEFAULT]}`);
}

/** The keys whose `key=` words an edit of an operator's file dropped (for the change's summary). */
export function droppedKeys(params: KernelParam[], before: string, after: string): string {
  const count = (text: string, key: string) =>
    text.match(new RegExp(`(^|[\\s"'])${key.replace(/[.]/g, "\\.")}=`, "g"))?.length ?? 0;
  const keys = params.filter((p) => count(before, p.key) !== count(after, p.key)).map((p) => `${p.key}=`);
  return keys.length ? keys.join(" ") : params.map((p) => `${p.key}=`).join(" ");
}

/** A key's words on a line, as written. */
export function of(line: KernelParam[], key: string): string {
  return line
    .filter((w) => w.key === key)
    .map(formatParam)
    .join(" ");
}
