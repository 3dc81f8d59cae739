/**
 * One task on one host — with converge.ts, the only place check mode and verification live.
 * vars → when → loop → per item: render args → validate → module (state: converge.ts, probe → plan →
 * [check: stop] → apply → probe → plan must be []; command: skipped in check mode) →
 * changed_when / failed_when / until → task verify → register.
 */
import type { Connection, HostWriter } from "../connection/types.js";
import { TicklessError } from "../errors.js";
import type { Inventory } from "../inventory/types.js";
import { outputFields } from "../modules/core/command.js";
import type { ModuleRegistry } from "../modules/registry.js";
import type { Module, ModuleContext, ModuleResult } from "../modules/types.js";
import { withLastError } from "../modules/util/last-error.js";
import { taskTimeArgFailure, validateModuleArgs } from "../playbook/index.js";
import { loopKey } from "../playbook/loop-fields.js";
import type { Task } from "../playbook/types.js";
import { evaluateCondition, renderString, renderValue } from "../template/index.js";
import { recordPlan, withoutEffects } from "./check-plan.js";
import { converge } from "./converge.js";
import type { TaskResult } from "./events.js";
import { loopItems } from "./loop-items.js";
import { moduleContext } from "./module-context.js";
import { applyOutcomeConditions } from "./outcome-conditions.js";
import { prefetchProbes, renderArgs } from "./prefetch.js";
import { ReadBacks } from "./read-back.js";
import { registeredValue } from "./registered.js";
import { taskHost } from "./task-host.js";
import type { ResolvedTask } from "./task-keywords.js";
import { errorResult, fromModuleResult } from "./task-result.js";
import { loopItemVars } from "./with-loops.js";

export interface TaskInput {
  task: Task;
  host: string;
  /** The task's resolved variables on this host (precedence applied), without loop items. */
  vars: Record<string, unknown>;
  /** `when:` conditions inherited from the blocks around the task. */
  when: string[];
  /** become, environment, check, diff, no_log, ignore_errors: resolved once (task-keywords.ts). */
  keywords: ResolvedTask;
  registry: ModuleRegistry;
  playbookDir: string;
  /** The run's inventory, which group_by and add_host change (ModuleContext.inventory). */
  inventory?: Inventory;
  connect(): Promise<Connection>;
  /** Drops the host's connection and opens a new one (ModuleContext.reconnect). */
  reconnect?(): Promise<Connection>;
  /** delegate_to: the connection one item runs over, from its vars (delegate.ts); undefined: the host's. */
  delegate?(vars: Record<string, unknown>): Promise<Pick<TaskInput, "connect" | "reconnect"> | undefined>;
  /** Called with each loop item's result (real data; the caller censors). */
  onItem?(label: string, result: TaskResult): void;
  /** Waited for between loop items (RunPlaybookOptions.pace). */
  pace?: () => Promise<void> | undefined;
  signal?: AbortSignal;
  /** Set by the loop for its items: reads kept from one item to the next (read-back.ts). */
  keptReads?: ReadBacks;
}

/** Runs the task (all loop items) and returns the result to register; never throws. */
export async function runTask(input: TaskInput): Promise<TaskResult> {
  let result: TaskResult;
  try {
    result = await runLoopOrOnce(input);
  } catch (err) {
    result = errorResult(err, input.task.loc);
  }
  try {
    return await applyIgnoreErrors(input, result);
  } catch (err) {
    return errorResult(err, input.task.loc);
  }
}

async function runLoopOrOnce(input: TaskInput): Promise<TaskResult> {
  const { task, vars } = input;
  const conditions = [...input.when, ...task.when];
  if (task.loop === undefined) {
    const falseCondition = await firstFalse(conditions, vars, task);
    if (falseCondition !== undefined) return skippedResult(falseCondition);
    return runItem(input, vars);
  }
  const items = loopItems(
    task,
    await renderValue(task.loop, vars, task.locs[loopKey(task)] ?? task.loc),
    input.playbookDir,
    vars,
  );
  const results: TaskResult[] = [];
  const itemInput = keepsReads(task) ? { ...input, keptReads: new ReadBacks(true) } : input;
  if (itemInput.keptReads)
    await prefetchProbes(
      itemInput,
      items.map((_, i) => loopItemVars(task, items, i)),
    );
  for (const [index, item] of items.entries()) {
    if (index > 0 && task.loopPause) await sleep(task.loopPause * 1000, input.signal);
    const loopVars = loopItemVars(task, items, index);
    const itemVars = { ...vars, ...loopVars };
    const falseCondition = await firstFalse(conditions, itemVars, task);
    const r =
      falseCondition !== undefined
        ? skippedResult(falseCondition)
        : await runItem(itemInput, itemVars).catch((err: unknown) => errorResult(err, task.loc));
    if (r.failed) itemInput.keptReads?.clear();
    const kept = itemResult(r, loopVars);
    results.push(kept);
    input.onItem?.(await itemLabel(task, itemVars, item), kept);
    if (r.unreachable || input.signal?.aborted) break;
    await betweenItems(input, index);
  }
  return loopResult(results);
}

/**
 * Whether the loop's items may read what the previous item read (read-back.ts): not when time is
 * meant to pass between reads (until, loop_control.pause), when items run on other hosts
 * (delegate_to), or when a verify command of the task's own runs between them.
 */
function keepsReads(task: Task): boolean {
  return !task.until && !task.loopPause && task.delegateTo === undefined && !task.verify?.command;
}

/** Items that run without I/O (debug, set_fact) would never let the event loop turn: it does every so often. */
const ITEMS_BETWEEN_TURNS = 64;

/** Between two items: the caller's pace (output draining), and a turn of the event loop now and then. */
async function betweenItems(input: TaskInput, index: number): Promise<void> {
  await input.pace?.();
  if (index % ITEMS_BETWEEN_TURNS === ITEMS_BETWEEN_TURNS - 1) await new Promise(setImmediate);
}

/** One item: the module with its retries, then changed_when/failed_when/until, then task verify. */
async function runItem(taskInput: TaskInput, vars: Record<string, unknown>): Promise<TaskResult> {
  const { task } = taskInput;
  const delegated = await taskInput.delegate?.(vars);
  const input = delegated ? { ...taskInput, ...delegated } : taskInput;
  const attempts = task.until ? Math.max(task.retries ?? 3, 0) + 1 : 1;
  let result: TaskResult = { changed: false, failed: false, skipped: false };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    result = await runModule(input, vars);
    if (task.until) result.attempts = attempt;
    const withResult = task.register ? { ...vars, [task.register]: registeredValue(result) } : vars;
    if (!result.skipped && !result.unreachable) await applyOutcomeConditions(task, result, withResult);
    // retries: 0 runs once and does not test until at all, as ansible-core
    if (!task.until || attempts === 1 || result.unreachable) break;
    if (await evaluateCondition(task.until, withResult, task.locs.until ?? task.loc)) break;
    if (attempt === attempts) {
      // with failed_when, ansible-core's task outcome is failed_when's alone, even here
      if (!task.failedWhen) {
        result.failed = true;
        result.msg = withLastError(`until condition never held after ${attempts} attempts`, result);
      }
      // ansible-core reports the retries, not the runs, when they run out (retries: 2 → 3 runs, attempts 2)
      result.attempts = attempts - 1;
      break;
    }
    await sleep((task.delay ?? 5) * 1000, input.signal);
    if (input.signal?.aborted) break;
  }
  if (!result.failed && !result.skipped && !result.unreachable && !input.keywords.check) {
    await runTaskVerify(input, vars, result);
  }
  return result;
}

/**
 * Executes the module once, by kind; check mode stops after plan. What the module throws is its
 * failed result; only rendering its arguments fails the task before failed_when is asked.
 */
async function runModule(input: TaskInput, vars: Record<string, unknown>): Promise<TaskResult> {
  const { task } = input;
  const module = input.registry.get(task.module);
  if (!module) {
    throw new TicklessError("UNKNOWN_MODULE", `unknown module "${task.module}"`, { location: task.loc });
  }
  const rendered = await renderArgs(module, task, vars);
  try {
    return await runRendered(module, rendered, input, vars);
  } catch (err) {
    // as ansible-core: the module's failure is a result (failed, msg) that failed_when may overrule;
    // a lost connection stays unreachable (errorResult), where failed_when never applies
    return errorResult(err, task.loc);
  }
}

/** The module on its rendered arguments: validate, normalize, then run by kind. */
async function runRendered(
  module: Module,
  rendered: Record<string, unknown>,
  input: TaskInput,
  vars: Record<string, unknown>,
): Promise<TaskResult> {
  const { task } = input;
  const failure = taskTimeArgFailure(module, rendered);
  if (failure !== undefined) return fromModuleResult({ changed: false, failed: true, msg: failure }, false);
  validateModuleArgs(module, rendered, task.locs.args ?? task.loc, task.locs);
  const args = module.normalize ? module.normalize(rendered) : rendered;
  const { check, diff } = input.keywords;
  const ctx = moduleContext({
    host: input.host,
    vars,
    diff,
    task,
    playbookDir: input.playbookDir,
    reconnect: input.reconnect && (async () => withTask(input, await input.reconnect!())),
    signal: input.signal,
    inventory: input.inventory,
  });
  if (module.kind === "action") {
    const r = await module.run(args, ctx, await hostFor(input));
    return fromModuleResult(r, Boolean(r.changed));
  }
  if (module.kind === "command") return runCommand(module, args, ctx, await hostFor(input), check);
  if (module.kind === "remote") {
    const r = await module.run(await hostFor(input), args, ctx, { check, noLog: input.keywords.noLog });
    return fromModuleResult(r, false);
  }
  return runState(module, args, ctx, input, check);
}

/** A state module: in check mode its check-mode warnings first (on any outcome), then converge. */
async function runState(
  module: Extract<Module, { kind: "state" }>,
  args: unknown,
  ctx: ModuleContext,
  input: TaskInput,
  check: boolean,
): Promise<TaskResult> {
  const warned = check ? ((await module.checkModeWarnings?.(await hostFor(input), args)) ?? []) : [];
  if (warned.length === 0) return convergeState(module, args, ctx, input, check);
  const r = await convergeState(module, args, ctx, input, check).catch((e) => errorResult(e, input.task.loc));
  return { ...r, warnings: [...warned, ...((r.warnings as string[] | undefined) ?? [])] };
}

/** The engine's convergence loop (converge.ts), its outcome as the task's result. */
async function convergeState(
  module: Extract<Module, { kind: "state" }>,
  args: unknown,
  ctx: ModuleContext,
  input: TaskInput,
  check: boolean,
): Promise<TaskResult> {
  const c = await converge(module, args, ctx, () => hostFor(input), check, input.keptReads);
  if (check || c.changes.length === 0) {
    const changes = check
      ? await recordPlan(await input.connect(), c.changes, privilegeOf(input))
      : c.changes;
    // the next item reads the host through the overlay of what this one planned
    if (check && changes.length > 0) input.keptReads?.clear();
    return { ...c.report, changed: changes.length > 0, failed: false, skipped: false, changes };
  }
  c.changes = withoutEffects(c.changes);
  if (c.applied?.failed) return { ...fromModuleResult(c.applied, false), changes: c.changes };
  // what apply says of its own change (its msg) is not replaced by the report of the state after it
  const ownMsg = c.applied?.msg === undefined ? {} : { msg: c.applied.msg };
  const result = fromModuleResult({ ...c.applied, ...c.report, ...ownMsg }, true);
  result.changes = c.changes;
  if (c.problems.length > 0) {
    result.failed = true;
    result.msg = convergeMessage(c.problems, c.applied);
    result.remaining_changes = c.remaining;
  }
  return result;
}

/** "did not converge: <what still differs>", with apply's own error when it left one (stderr, rc). */
function convergeMessage(problems: string[], applied: ModuleResult | undefined): string {
  const message = `did not converge: ${problems.join("; ")}`;
  const left = applied?.stderr?.trim() || (applied?.rc !== undefined && applied.rc !== 0);
  return left ? withLastError(message, applied) : message;
}

async function runCommand(
  module: Extract<Module, { kind: "command" }>,
  args: unknown,
  ctx: ModuleContext,
  host: HostWriter,
  check: boolean,
): Promise<TaskResult> {
  if (check && module.checkMode === "unsupported") {
    const msg = `remote module (${module.name}) does not support check mode`;
    return { changed: false, failed: false, skipped: true, msg };
  }
  const refused = module.refuse?.(args);
  if (refused) return fromModuleResult(refused, false);
  const current = await module.probe(host, args, ctx, check);
  const changes = module.plan(args, current);
  if (changes.length === 0) {
    const report = module.report?.(args, current);
    return {
      msg: "nothing to do",
      ...report,
      changed: false,
      failed: false,
      skipped: report?.skipped === true,
    };
  }
  if (check && module.checkReport)
    return { ...fromModuleResult(module.checkReport(args, current), false), changes };
  if (check) {
    // ansible-core: a command its creates/removes guard counts as changed, any other as skipped
    const { creates, removes } = args as { creates?: unknown; removes?: unknown };
    const guarded = creates !== undefined || removes !== undefined;
    return {
      ...module.report?.(args, current),
      changed: guarded,
      failed: false,
      skipped: !guarded,
      changes,
      rc: 0,
      msg: "Command would have run if not in check mode",
      ...outputFields("", ""),
      start: null,
      end: null,
      delta: null,
    };
  }
  const r = await module.apply(host, args, ctx);
  return fromModuleResult(r, true);
}

function privilegeOf(input: TaskInput) {
  return { become: input.keywords.become, becomeUser: input.keywords.becomeUser };
}

async function hostFor(input: TaskInput): Promise<HostWriter> {
  return withTask(input, await input.connect());
}

/** The connection bound to the task's resolved become, environment and abort signal. */
function withTask(input: TaskInput, conn: Connection): HostWriter {
  return taskHost(conn, input.keywords, input.signal);
}

/** tickless's `verify:` — expressions over the result, and a command that must exit 0. */
async function runTaskVerify(input: TaskInput, vars: Record<string, unknown>, result: TaskResult) {
  const { task } = input;
  if (!task.verify) return;
  const withResult = { ...vars, result, ...(task.register ? { [task.register]: result } : {}) };
  for (const expr of task.verify.that) {
    if (!(await evaluateCondition(expr, withResult, task.locs.verify ?? task.loc))) {
      result.failed = true;
      result.msg = `verify failed: ${expr}`;
      return;
    }
  }
  if (task.verify.command) {
    const command = await renderString(task.verify.command, withResult, task.locs.verify ?? task.loc);
    const r = await (await hostFor(input)).run(command);
    if (r.rc !== 0) {
      result.failed = true;
      const detail = (r.stderr || r.stdout).trim().split("\n").slice(-3).join(" ");
      result.msg = `verify failed: \`${command}\` exited ${r.rc}${detail ? `: ${detail}` : ""}`;
    }
  }
}

/** ignore_errors: a boolean, or a template rendered with the task's vars (`"{{ ansible_check_mode }}"`). */
async function applyIgnoreErrors(input: TaskInput, result: TaskResult): Promise<TaskResult> {
  const ignore = input.keywords.ignoreErrors;
  if (!result.failed || result.unreachable || ignore === undefined || ignore === false) return result;
  const { task } = input;
  const value =
    typeof ignore === "string"
      ? renderValue(ignore, input.vars, task.locs.ignore_errors ?? task.locs.ignoreErrors ?? task.loc)
      : ignore;
  if (value === true || /^(true|yes|on|1)$/i.test(String(value).trim())) result.ignored = true;
  return result;
}

async function firstFalse(conditions: string[], vars: Record<string, unknown>, task: Task) {
  for (const c of conditions) {
    if (!(await evaluateCondition(c, vars, task.locs.when ?? task.loc))) return c;
  }
  return undefined;
}

async function itemLabel(task: Task, vars: Record<string, unknown>, item: unknown): Promise<string> {
  if (task.loopLabel !== undefined) return String(await renderValue(task.loopLabel, vars, task.loc));
  return typeof item === "string" ? item : JSON.stringify(item);
}

/**
 * The result an item keeps in `results`: the same fields, plus `item` and `ansible_loop_var`, in an
 * object built key by key from `{}`. A spread result extended afterwards gets a hidden class of its
 * own in V8 (about 250 bytes an item, kept as long as the registered list lives); built this way every
 * item of one module shares one.
 */
function itemResult(r: TaskResult, loopVars: Record<string, unknown>): TaskResult {
  const out: Record<string, unknown> = {};
  // an item that ran has no `skipped` key, as Ansible's (registeredValue)
  for (const key of Object.keys(r)) if (key !== "skipped" || r.skipped !== false) out[key] = r[key];
  for (const key of Object.keys(loopVars)) out[key] = loopVars[key];
  return out as TaskResult;
}

function skippedResult(falseCondition: string): TaskResult {
  return {
    changed: false,
    failed: false,
    skipped: true,
    false_condition: falseCondition,
    skip_reason: "Conditional result was False",
  };
}

/** A loop's registered value: changed/failed if any item was, skipped if every item was (or there was none). */
function loopResult(results: TaskResult[]): TaskResult {
  const failed = results.some((r) => r.failed && !r.ignored);
  const unreachable = results.some((r) => r.unreachable);
  const changes = results.flatMap((r) => r.changes ?? []);
  const skipped = results.length === 0 || results.every((r) => r.skipped);
  // no items at all: ansible-core's result has no msg, and says why it skipped
  if (results.length === 0)
    return { changed: false, failed: false, skipped: true, skipped_reason: "No items in the list", results };
  const result: TaskResult = {
    changed: results.some((r) => r.changed),
    failed: failed || unreachable,
    skipped,
    msg: failed ? "One or more items failed" : skipped ? "All items skipped" : "All items completed",
    results,
  };
  if (unreachable) result.unreachable = true;
  if (changes.length > 0) result.changes = changes;
  return result;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}
