/**
 * Check mode's unknown values. A command check mode does not run (or a reboot it does not make)
 * registers a result whose real value nobody can know before the run; a later task whose `when`,
 * arguments, loop, vars or outcome conditions name that variable is not run on a guess: it is
 * reported as unpredictable, naming the task it depends on, and what it registers is unknown in turn.
 */
import type { Task } from "../playbook/types.js";
import type { TaskResult } from "./events.js";
import type { HostState } from "./host-state.js";

const WOULD_HAVE_RUN = "Command would have run if not in check mode";

/** Whether a check run's result stands for an effect check mode cannot know. */
function isUnknown(task: Task, result: TaskResult): boolean {
  if (result.unpredictable === true) return true;
  if (task.module === "reboot" && result.changed && !result.failed) return true;
  const items = Array.isArray(result.results) ? (result.results as TaskResult[]) : [result];
  return items.some((r) => r.skipped && r.msg === WOULD_HAVE_RUN);
}

/**
 * After a task in a check run: the variables it sets (register; set_fact's keys) are unknown, from
 * the task named, when its result is; else known again.
 */
export function noteRegistered(state: HostState, task: Task, taskName: string, result: TaskResult): void {
  const set = [
    ...(task.register ? [task.register] : []),
    ...(/(^|\.)set_fact$/.test(task.module) ? Object.keys(task.args).filter((k) => k !== "cacheable") : []),
  ];
  const unknown = isUnknown(task, result);
  const from = typeof result.depends_on === "string" ? result.depends_on : taskName;
  for (const name of set) {
    if (unknown) state.unknown.set(name, from);
    else state.unknown.delete(name);
  }
}

/** The first unknown variable the task names (with the task it comes from), or undefined. */
export function unknownDependency(
  state: HostState,
  task: Task,
  inherited: string[],
): { variable: string; task: string } | undefined {
  if (state.unknown.size === 0) return undefined;
  const text = JSON.stringify([
    inherited,
    task.when,
    task.args,
    task.loop ?? null,
    task.vars,
    task.changedWhen ?? null,
    task.failedWhen ?? null,
    task.until ?? null,
  ]);
  for (const [variable, from] of state.unknown) {
    if (new RegExp(`(^|[^\\w.$])${variable.replace(/[$]/g, "\\$")}\\b`).test(text))
      return { variable, task: from };
  }
  return undefined;
}

/** The result of a task check mode cannot predict: not run, its status `unpredictable` (recap-counts.ts). */
export function unpredictableResult(dependency: { variable: string; task: string }): TaskResult {
  return {
    changed: false,
    failed: false,
    skipped: true,
    unpredictable: true,
    depends_on: dependency.task,
    msg: `unpredictable in check mode: depends on ${dependency.variable}, registered by "${dependency.task}", whose effect check mode cannot know`,
  };
}
