/**
 * A state module's convergence loop, in one place: probe → plan → [check mode: stop, the plan is
 * the report] → apply → probe again → plan again must be [] (and `verify` must find nothing), else
 * the task did not converge (except a change Ansible redoes on every run, see Change.redoneEveryRun).
 * run-task.ts runs it for every state task; the module tests run it too.
 * The probe after apply reads the files apply wrote from their read-backs (read-back.ts); in a
 * loop, the next item's probe reads what this item read or wrote last (`kept`).
 */
import type { HostWriter } from "../connection/types.js";
import type { Change, ModuleContext, ModuleResult, StateModule } from "../modules/types.js";
import { ReadBacks } from "./read-back.js";

export interface Convergence {
  /** The plan: what apply was asked to change ([] = the host was already converged). */
  changes: Change[];
  /** What apply returned; undefined when it did not run (converged, or check mode) or returned nothing. */
  applied?: ModuleResult;
  /** The plan after apply: [] for a module that converged. */
  remaining: Change[];
  /** `remaining` as lines, then what `verify` found: non-empty = did not converge. */
  problems: string[];
  /** The module's report of the last state it probed. */
  report?: ModuleResult;
}

/**
 * Runs the loop for normalized `args`. `host` gives the host to probe and apply on; it is asked again
 * after apply, so a module that reconnected (reboot) is probed over the new connection. `kept`: the
 * reads kept from the loop's previous items (a ReadBacks that keeps reads), which this item's
 * probes read through and add to.
 */
export async function converge<A, S>(
  module: StateModule<A, S>,
  args: A,
  ctx: ModuleContext,
  host: () => Promise<HostWriter>,
  check: boolean,
  kept?: ReadBacks,
): Promise<Convergence> {
  const before = await host();
  const current = await module.probe(kept ? kept.reading(before) : before, args, ctx);
  const changes = module.plan(args, current);
  if (check || changes.length === 0) {
    return { changes, remaining: [], problems: [], report: module.report?.(args, current, false) };
  }
  const readBacks = kept ?? new ReadBacks();
  const applied = await module.apply(readBacks.writing(before), args, changes, current, ctx);
  if (applied?.failed) return { changes, applied, remaining: [], problems: [] };
  const after = await module.probe(readBacks.reading(await host()), args, ctx);
  const remaining = module.plan(args, after).filter((c) => !redoneFromWhatWasWritten(c, changes));
  const problems = [
    ...remaining.map((c) => `${c.target}: ${c.summary}`),
    ...(module.verify?.(args, after) ?? []),
  ];
  return { changes, applied, remaining, problems, report: module.report?.(args, after, true) };
}

/**
 * A change Ansible redoes on every run, planned again after apply: the host holds exactly what the
 * first one wrote (the new plan starts from it), so the task did what it said.
 */
function redoneFromWhatWasWritten(again: Change, planned: Change[]): boolean {
  if (again.redoneEveryRun === undefined) return false;
  return planned.some(
    (c) =>
      c.redoneEveryRun !== undefined &&
      c.target === again.target &&
      c.after !== undefined &&
      c.after === again.before,
  );
}
