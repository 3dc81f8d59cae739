/** A task result as one line of JSON, spaced like Python's json.dumps (as Ansible prints it). */
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

function dump(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(dump).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${dump(v)}`).join(", ")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** `{"changed": false, "msg": "…"}` without the fields printed in other ways. */
export function formatResult(result: TaskResult): string {
  const shown = Object.fromEntries(
    Object.entries(result).filter(([k]) => !SHOWN_ELSEWHERE.has(k) && !k.startsWith("_ansible_")),
  );
  return dump(shown);
}

/** Whether a result is shown even without -v (Ansible's `_ansible_verbose_always`, set by debug). */
export function alwaysShown(result: TaskResult): boolean {
  return result._ansible_verbose_always === true;
}
