/** Unified diffs of a plan's changes, for --diff. */
import { createTwoFilesPatch } from "diff";
import type { Change } from "../modules/types.js";

/** Ensures the last line ends with a newline so the patch has no "\ No newline" noise for empty sides. */
function asText(value: string | undefined): string {
  if (value === undefined || value === "") return "";
  return value.endsWith("\n") ? value : `${value}\n`;
}

/** One change as text: a unified diff when it has before/after, else its one-line summary (the target once). */
export function formatChange(change: Change): string {
  if (change.before === undefined && change.after === undefined) {
    return change.summary.includes(change.target)
      ? `${change.summary}\n`
      : `${change.target}: ${change.summary}\n`;
  }
  const patch = createTwoFilesPatch(
    `before: ${change.target}`,
    `after: ${change.target}`,
    asText(change.before),
    asText(change.after),
  );
  const start = patch.indexOf("--- ");
  return start >= 0 ? patch.slice(start) : patch;
}

/** Every change of a result, joined. */
export function formatChanges(changes: Change[] | undefined): string {
  return (changes ?? []).map(formatChange).join("");
}
