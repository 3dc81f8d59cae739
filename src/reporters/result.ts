/** A task result as JSON, laid out like Python's json.dumps (as Ansible prints it). */
import type { TaskResult } from "../engine/events.js";

/** Fields shown elsewhere (diffs, per-item lines, the status word) and left out of the one-line dump. */
const SHOWN_ELSEWHERE = new Set([
  "changes",
  "results",
  "stdout_lines",
  "stderr_lines",
  "failed",
  "skipped",
  "unreachable",
  "ignored",
  "rescued",
]);

/**
 * Python's json.dumps(sort_keys=True), as Ansible's default callback prints a result: on one line
 * (", " and ": "), or with `indent` spaces per level (Python's layout: "," at line ends).
 */
function dump(value: unknown, indent = 0, depth = 0): string {
  const open = indent === 0 ? "" : `\n${" ".repeat(indent * (depth + 1))}`;
  const close = indent === 0 ? "" : `\n${" ".repeat(indent * depth)}`;
  const sep = indent === 0 ? ", " : `,${open}`;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[${open}${value.map((v) => dump(v, indent, depth + 1)).join(sep)}${close}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) return "{}";
    const body = entries.map(([k, v]) => `${JSON.stringify(k)}: ${dump(v, indent, depth + 1)}`).join(sep);
    return `{${open}${body}${close}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A result's `msg` as text (a debug's or a user's module's may be a list or a mapping). */
export function messageOf(result: TaskResult): string | undefined {
  const msg: unknown = result.msg;
  return msg === undefined || msg === null ? undefined : typeof msg === "string" ? msg : dump(msg);
}

/** What Ansible's callback keeps of a debug result holding `msg` (CallbackBase._clean_results). */
const DEBUG_ALLOWED = new Set(["msg", "exception", "warnings", "deprecations"]);
/** What it hides of one showing a variable. */
const HIDE_IN_DEBUG = new Set(["changed", "failed", "skipped", "invocation", "skip_reason"]);

/** A debug task's result as Ansible's default callback shows it: `msg` alone, or the variable alone. */
export function cleanDebugResult(result: TaskResult): TaskResult {
  const keep =
    "msg" in result
      ? (k: string) => DEBUG_ALLOWED.has(k) || k.startsWith("_")
      : (k: string) => !HIDE_IN_DEBUG.has(k);
  return Object.fromEntries(Object.entries(result).filter(([k]) => keep(k))) as TaskResult;
}

/**
 * `{"changed": false, "msg": "…"}` without the fields printed in other ways; with `indent` (Ansible's
 * 4 for a result shown without -v, or at -vvv) over several lines.
 */
export function formatResult(result: TaskResult, indent = 0): string {
  const shown = Object.fromEntries(
    Object.entries(result).filter(([k]) => !SHOWN_ELSEWHERE.has(k) && !k.startsWith("_ansible_")),
  );
  return dump(shown, indent);
}

/** Whether a result is shown even without -v (Ansible's `_ansible_verbose_always`, set by debug). */
export function alwaysShown(result: TaskResult): boolean {
  return result._ansible_verbose_always === true;
}
