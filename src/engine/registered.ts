/**
 * A result as `register` keeps it and conditions read it: Ansible's (2.14) keys only. A task that
 * ran has no `skipped` key in Ansible (`'skipped' not in result` holds); a loop's result keeps its
 * `skipped`, and has `failed` only when an item failed. A skipped result has no `failed` (nor the
 * condition that skipped it; a module's own skip keeps `failed: false`), an ignored failure does not say it was ignored, and internal
 * `_ansible_*` keys are dropped: tickless's events carry those, the registered value not.
 */
import type { TaskResult } from "./events.js";

export function registeredValue(result: TaskResult): TaskResult {
  const out = ansibleKeys(result) as TaskResult;
  if (Array.isArray(out.results)) {
    out.results = out.results.map(ansibleKeys) as TaskResult[];
    if (out.failed === false) return without(out, "failed") as TaskResult;
    return out;
  }
  if (out.skipped === true) return out;
  if (out.skipped !== false) return out;
  return without(out, "skipped") as TaskResult;
}

/** A result (or loop item) without tickless's own keys; a skipped one without `failed`. */
function ansibleKeys(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const kept = Object.fromEntries(
    Object.entries(value).filter(
      ([k]) => k !== "false_condition" && k !== "ignored" && !k.startsWith("_ansible_"),
    ),
  );
  return skippedByCondition(kept) ? without(kept, "failed") : kept;
}

/**
 * Skipped by `when` (it says why: `skip_reason`), where Ansible ran nothing and keeps no `failed`;
 * a module that skips itself (script's `creates`, a command in check mode) keeps `failed: false`.
 */
function skippedByCondition(result: Record<string, unknown>): boolean {
  return result.skipped === true && "skip_reason" in result;
}

function without(record: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = record;
  return rest;
}
