/**
 * A loop's probes sent together. Before a state module's loop runs its items one after another,
 * every item's probe is sent at once through the loop's kept reads (read-back.ts): SFTP answers
 * them all in one round trip instead of one per item. The items then run as before, and their
 * probes find the reads kept. What makes this safe is read-back.ts's own rule: an item that writes
 * drops every kept read but its read-backs, and one that runs a command or removes a path (or
 * fails, or plans a change in check mode) drops them all, so an item after a change reads the host
 * again. A re-run, where no item changes anything, reads the host once for the whole loop. Only
 * reads are sent ahead: a probe's command waits for its item (readsOnly).
 */

import type { HostWriter } from "../connection/types.js";
import type { Module } from "../modules/types.js";
import { coerceRenderedArgs, validateModuleArgs } from "../playbook/index.js";
import type { Task } from "../playbook/types.js";
import { warnTemplatedCondition } from "../template/condition-warning.js";
import { removeOmit, renderValue } from "../template/index.js";
import { moduleContext } from "./module-context.js";
import type { TaskInput } from "./run-task.js";
import { taskHost } from "./task-host.js";

/** Beyond this many items a loop's probes are not sent ahead (memory, and the host's patience). */
export const PREFETCH_MAX_ITEMS = 64;

/** The module's arguments on `vars`: rendered, `omit` left out, scalars coerced as the schema says. */
export async function renderArgs(
  module: Module,
  task: Task,
  vars: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const conditions = module.conditionListArg === undefined ? undefined : task.args[module.conditionListArg];
  if (Array.isArray(conditions)) for (const c of conditions) warnTemplatedCondition(c, vars, task.loc);
  const rendered = await renderValue(task.args, vars, task.locs.args ?? task.loc, {
    keepUnsafe: module.keepsUnsafe,
  });
  return coerceRenderedArgs(module, removeOmit(rendered as Record<string, unknown>), task.args);
}

/**
 * Sends the probes of a state module's loop items together, their reads kept in
 * `input.keptReads`. `itemVars`: each item's loop variables. An item whose arguments do not render
 * or validate, or whose probe fails, is left to run as it would have: its own probe then asks the
 * host and fails the item the usual way. Never throws.
 */
export async function prefetchProbes(input: TaskInput, itemVars: Record<string, unknown>[]): Promise<void> {
  const { task, keptReads } = input;
  const module = input.registry.get(task.module);
  if (!keptReads || module?.kind !== "state" || itemVars.length < 2 || itemVars.length > PREFETCH_MAX_ITEMS) {
    return;
  }
  let host: HostWriter;
  try {
    host = readsOnly(keptReads.reading(taskHost(await input.connect(), input.keywords, input.signal)));
  } catch {
    return; // the first item connects and reports it
  }
  const probe = async (loopVars: Record<string, unknown>) => {
    const vars = { ...input.vars, ...loopVars };
    const rendered = await renderArgs(module, task, vars);
    validateModuleArgs(module, rendered, task.locs.args ?? task.loc, task.locs);
    const args = module.normalize ? module.normalize(rendered) : rendered;
    const ctx = moduleContext({
      host: input.host,
      vars,
      diff: input.keywords.diff,
      task,
      playbookDir: input.playbookDir,
      signal: input.signal,
      inventory: input.inventory,
    });
    await module.probe(host, args, ctx);
  };
  await Promise.allSettled(itemVars.map(probe));
}

/**
 * The probes' host while they are sent ahead: reads only. A command is not sent (its answer is not
 * kept, so the item would run it again; and it would drop what the other probes read): such a
 * probe stops there, and its item probes as before.
 */
function readsOnly(host: HostWriter): HostWriter {
  const refuse = async (): Promise<never> => {
    throw new Error("not sent ahead: a probe's command runs with its item");
  };
  return { ...host, run: refuse, writeFile: refuse, remove: refuse };
}
