/** A task's changed_when and failed_when over its result (run-task.ts asks them per item and attempt). */
import { formatError } from "../errors.js";
import type { Task } from "../playbook/types.js";
import { evaluateCondition } from "../template/index.js";
import type { TaskResult } from "./events.js";

/**
 * changed_when, then failed_when. As ansible-core's TaskExecutor: a condition that cannot be
 * evaluated fails the task and keeps the module's result, the error in `changed_when_result` (or
 * `failed_when_result`).
 */
export async function applyOutcomeConditions(task: Task, result: TaskResult, vars: Record<string, unknown>) {
  let field: "changed_when_result" | "failed_when_result" = "changed_when_result";
  try {
    if (task.changedWhen) {
      result.changed = await allHold(task.changedWhen, vars, task, "changedWhen");
    }
    field = "failed_when_result";
    if (task.failedWhen) {
      const failed = await allHold(task.failedWhen, vars, task, "failedWhen");
      result.failed = failed;
      result.failed_when_result = failed;
    }
  } catch (err) {
    result.failed = true;
    result[field] = formatError(err);
  }
}

/** Whether every condition holds (Ansible's list of conditions: all of them). */
export async function allHold(conds: string[], vars: Record<string, unknown>, task: Task, field: string) {
  for (const c of conds) if (!(await evaluateCondition(c, vars, task.locs[field] ?? task.loc))) return false;
  return true;
}
