/** A module's result as the task's (fromModuleResult), and a thrown error as a failed or unreachable result. */
import {
  ConnectionError,
  formatError,
  formatLocation,
  type SourceLocation,
  TicklessError,
} from "../errors.js";
import type { ModuleResult } from "../modules/types.js";
import type { TaskResult } from "./events.js";

/** The module's fields, with `changed`, `failed` and `skipped` as booleans and Ansible's `*_lines`. */
export function fromModuleResult(r: ModuleResult | undefined, changed: boolean): TaskResult {
  const { facts, ...rest } = r ?? {};
  const result: TaskResult = {
    ...rest,
    changed: Boolean(rest.changed ?? changed),
    failed: Boolean(rest.failed),
    skipped: Boolean(rest.skipped),
  };
  if (typeof result.stdout === "string") result.stdout_lines = splitLines(result.stdout);
  if (typeof result.stderr === "string") result.stderr_lines = splitLines(result.stderr);
  if (facts) result.ansible_facts = facts;
  return result;
}

/**
 * A thrown error becomes a result: a lost connection is unreachable, anything else fails the task.
 * A bad value (MODULE_ARGS and the like) that names no place in a file is located at the task; a
 * TASK error is the module's own outcome and keeps its words (Ansible's, where users match on them).
 */
export function errorResult(err: unknown, taskLoc: SourceLocation): TaskResult {
  if (err instanceof ConnectionError) {
    return { changed: false, failed: true, skipped: false, unreachable: true, msg: formatError(err) };
  }
  const located = err instanceof TicklessError && !err.location && err.code !== "TASK";
  const where = located ? `${formatLocation(taskLoc)}: ` : "";
  const msg = err instanceof TicklessError ? where + formatError(err) : `module error: ${formatError(err)}`;
  const fields = err instanceof TicklessError ? err.fields : undefined;
  const result: TaskResult = { ...fields, changed: false, failed: true, skipped: false, msg };
  const output = err instanceof TicklessError ? err.output : undefined;
  return output ? { ...result, ...fromModuleResult({ ...output }, false), failed: true } : result;
}

function splitLines(s: string): string[] {
  return s === "" ? [] : s.replace(/\n$/, "").split("\n");
}
