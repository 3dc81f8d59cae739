/**
 * A result as `register` keeps it and conditions read it: Ansible's keys only. A task that ran has no
 * `skipped` key in Ansible (`'skipped' not in result` holds); a loop's result keeps its `skipped`.
 */
import type { TaskResult } from "./events.js";

export function registeredValue(result: TaskResult): TaskResult {
  if (result.skipped !== false || Array.isArray(result.results)) return result;
  const { skipped: _skipped, ...rest } = result;
  return rest as TaskResult;
}
