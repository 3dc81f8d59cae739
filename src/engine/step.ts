/** One task on a set of hosts at once (bounded by forks): events, stats, register, notify, fail rules. */
import { formatLocation } from "../errors.js";
import type { Task } from "../playbook/types.js";
import { renderString } from "../template/index.js";
import type { PlayContext, Scope } from "./context.js";
import { delegation, factsHost } from "./delegate.js";
import type { TaskResult } from "./events.js";
import { mapLimit } from "./fork-pool.js";
import { type HostState, isActive } from "./host-state.js";
import { statusOf } from "./recap-counts.js";
import { registeredValue } from "./registered.js";
import { loginUser } from "./remote-user.js";
import { runTask } from "./run-task.js";
import { censor } from "./secrets.js";
import { type ResolvedTask, resolveTask } from "./task-keywords.js";
import { noteRegistered, unknownDependency, unpredictableResult } from "./unknown-values.js";
import { hostVars } from "./vars.js";

/** Runs a task on the active hosts among `hosts`; run_once runs it on the first and registers it on all. */
export async function runTaskStep(pc: PlayContext, task: Task, hosts: string[], scope: Scope): Promise<void> {
  const run = pc.run;
  const active = hosts.filter((h) => isActive(run.hosts.get(h)!));
  if (active.length === 0) return;
  const name = await displayName(pc, task, active[0], scope);
  run.emit({
    type: "task_start",
    play: pc.play.name,
    task: name,
    path: formatLocation(task.loc),
    hosts: active,
    ...(scope.handler ? { handler: true } : {}),
  });
  const runOnce = task.runOnce || scope.runOnce;
  // Ansible's BYPASS_HOST_LOOP (pause): the first host only, its result not shared
  const bypass = run.registry.get(task.module)?.bypassHostLoop === true;
  const targets = runOnce || bypass ? active.slice(0, 1) : active;
  const keywords = resolveTask(scope.keywords, task, run);
  const outcomes = await mapLimit(targets, run.forks, async (host) => {
    const unknown = run.check ? unknownDependency(run.hosts.get(host)!, task, scope.when) : undefined;
    const { result, delegate } = unknown
      ? { result: unpredictableResult(unknown), delegate: undefined }
      : await runOnHost(pc, task, host, scope, keywords, name);
    recordOutcome(pc, task, host, scope, keywords, name, result, delegate);
    return result;
  });
  if (runOnce) shareRunOnce(pc, task, active, outcomes[0]);
  run.emit({ type: "task_end", play: pc.play.name, task: name });
  applyFailureRules(pc, task, outcomes, scope, keywords);
}

async function runOnHost(
  pc: PlayContext,
  task: Task,
  host: string,
  scope: Scope,
  keywords: ResolvedTask,
  name: string,
): Promise<{ result: TaskResult; delegate?: string }> {
  const run = pc.run;
  const state = run.hosts.get(host)!;
  let vars: Record<string, unknown>;
  try {
    vars = await hostVars(pc, state, scope, task.vars);
  } catch (err) {
    return { result: { changed: false, failed: true, skipped: false, msg: String((err as Error).message) } };
  }
  const { noLog, diff } = keywords;
  const userLoc = task.locs.remote_user ?? task.loc;
  let delegate: string | undefined;
  const result = await runTask({
    task,
    host,
    vars,
    when: scope.when,
    keywords,
    registry: run.registry,
    playbookDir: run.playbook.dir,
    inventory: run.inventory,
    connect: async () => run.connect(host, await loginUser(keywords.remoteUser, vars, userLoc)),
    reconnect: async () => run.reconnect(host, await loginUser(keywords.remoteUser, vars, userLoc)),
    delegate: async (itemVars) => {
      const d = await delegation(run, task, itemVars, keywords.remoteUser);
      delegate = d?.name;
      return d;
    },
    signal: run.signal,
    pace: run.pace,
    onItem: (label, result) =>
      run.emit({
        type: "host_result",
        play: pc.play.name,
        task: name,
        host,
        status: statusOf(result),
        item: noLog ? "(censored)" : label,
        module: task.module,
        ...shownDelegate(host, delegate),
        ...(result.ignored ? { ignored: true } : {}),
        result: eventResult(result, noLog, diff),
        diff,
      }),
  });
  return { result, delegate };
}

/** Stats, the host_result event, register, set_fact, notify and the host's failed/unreachable state. */
export function recordOutcome(
  pc: PlayContext,
  task: Task,
  host: string,
  scope: Scope,
  keywords: ResolvedTask,
  name: string,
  result: TaskResult,
  /** delegate_to: the host the task ran on (shown; the facts go there with delegate_facts). */
  delegate?: string,
): void {
  const run = pc.run;
  const state = run.hosts.get(host)!;
  const status = statusOf(result);
  run.stats.record(host, status, result, scope.rescuing, name);
  if (run.check && status === "changed" && !keywords.check) run.stats.recordChangedForReal();
  const { noLog, diff } = keywords;
  run.emit({
    type: "host_result",
    play: pc.play.name,
    task: name,
    host,
    status,
    module: task.module,
    ...shownDelegate(host, delegate),
    ...(result.ignored ? { ignored: true } : {}),
    result: eventResult(result, noLog, diff),
    diff,
  });
  if (!noLog && status !== "skipped") showWarnings(run, result);
  applyResult(pc, task, host, result, factsHost(run, task, host, delegate));
  if (run.check) noteRegistered(state, task, name, result);
  trackReboot(state, task, result);
  if (result.unreachable) state.unreachable = true;
  else if (result.failed && !result.ignored) {
    state.failed = true;
    if (scope.rescuing) {
      state.rescueVars = {
        ansible_failed_task: { name, module: task.module, path: formatLocation(task.loc) },
        ansible_failed_result: result,
      };
    }
  }
}

/**
 * Reboot pending: a task that reports `reboot_required: true` (kernel_cmdline, or any module with
 * Ansible's return value) sets it; a reboot task that rebooted the host clears it.
 */
function trackReboot(state: HostState, task: Task, result: TaskResult): void {
  if (result.failed || result.skipped || result.unreachable) return;
  if (task.module === "reboot" && result.changed) state.rebootPending = false;
  else if (result.reboot_required === true) state.rebootPending = true;
}

/**
 * Register, set_fact and notify on one host; the facts on `factsTo` instead (delegate_facts), or
 * nowhere when it is null.
 */
function applyResult(
  pc: PlayContext,
  task: Task,
  host: string,
  result: TaskResult,
  factsTo: string | null = host,
): void {
  const state = pc.run.hosts.get(host)!;
  if (task.register) state.registered[task.register] = registeredValue(result);
  // a loop's facts are its items' (set_fact or include_vars in a loop), in item order, as Ansible;
  // on the delegate instead with delegate_facts, nowhere when factsTo is null
  if (factsTo !== null) {
    const target = pc.run.hosts.get(factsTo)!;
    const layer =
      pc.run.registry.get(task.module)?.factsLayer === "include_vars" ? "includedVars" : "registered";
    const items = Array.isArray(result.results) ? (result.results as TaskResult[]) : [result];
    for (const item of items) {
      if (!item.failed && item.ansible_facts && typeof item.ansible_facts === "object") {
        Object.assign(target[layer], item.ansible_facts);
      }
    }
  }
  if (result.changed && !result.failed) for (const n of task.notify) state.notified.add(n);
}

/** run_once: every other active host gets the first host's registered result, facts and notifications. */
function shareRunOnce(pc: PlayContext, task: Task, active: string[], result: TaskResult | undefined): void {
  if (!result) return;
  for (const host of active.slice(1)) {
    // delegated facts went to the delegate once; the others share only the registered result
    applyResult(pc, task, host, result, task.delegateFacts && task.delegateTo ? null : host);
    if (result.failed && !result.ignored && !result.unreachable) pc.run.hosts.get(host)!.failed = true;
  }
}

/** any_errors_fatal and max_fail_percentage end the play for the whole batch, as Ansible. */
function applyFailureRules(
  pc: PlayContext,
  task: Task,
  outcomes: TaskResult[],
  scope: Scope,
  keywords: ResolvedTask,
): void {
  // a failed host that goes on to a rescue or always section is not failed yet (Ansible's is_failed)
  if (scope.rescuing || scope.recovering) return;
  const hardFailure = outcomes.some((r) => (r.failed && !r.ignored) || r.unreachable);
  if (!hardFailure) return;
  const batchStates = pc.batch.map((h) => pc.run.hosts.get(h)!);
  const fatal = Boolean(keywords.anyErrorsFatal);
  let stop = fatal;
  const max = pc.play.maxFailPercentage;
  if (max !== undefined) {
    const failed = batchStates.filter((s) => s.failed).length;
    if ((failed / pc.batch.length) * 100 > max) stop = true;
  }
  if (!stop) return;
  pc.aborted = true;
  pc.run.brokeOff = true;
  for (const s of batchStates) if (!s.unreachable) s.failed = true;
  pc.run.emit({
    type: "warning",
    message: fatal
      ? `any_errors_fatal: task "${task.name ?? task.module}" failed, ending the play`
      : `max_fail_percentage ${max}% exceeded, ending the play`,
  });
}

/** The delegate a result names, when it is another host (Ansible's `[host -> delegate]`). */
function shownDelegate(host: string, delegate: string | undefined): { delegatedTo?: string } {
  return delegate === undefined || delegate === host ? {} : { delegatedTo: delegate };
}

/**
 * A module's `warnings` (its items' too), as ansible-playbook's default callback shows them after an
 * ok, changed or failed result: `[WARNING]: text`, each text once per run. no_log shows none.
 */
function showWarnings(run: PlayContext["run"], result: TaskResult): void {
  const texts = [result, ...(result.results ?? [])].flatMap((r) =>
    Array.isArray(r.warnings) ? r.warnings.filter((w): w is string => typeof w === "string") : [],
  );
  if (texts.length === 0) return;
  run.shownWarnings ??= new Set();
  for (const message of texts) {
    if (run.shownWarnings.has(message)) continue;
    run.shownWarnings.add(message);
    run.emit({ type: "warning", message });
  }
}

/** What reporters see: no_log censors everything; without --diff, changes carry no file contents. */
function eventResult(result: TaskResult, noLog: boolean, diff: boolean): TaskResult {
  if (noLog) return censor(result);
  if (diff) return result;
  const out: TaskResult = { ...result };
  if (result.changes) out.changes = result.changes.map(({ target, summary }) => ({ target, summary }));
  // items without changes are shown as they are (a copy of each would double a long loop's memory)
  if (result.results?.some((r) => r.changes))
    out.results = result.results.map((r) => (r.changes ? eventResult(r, false, false) : r));
  return out;
}

/** The task's name as shown: templates rendered with the first host's vars when they can be. */
async function displayName(pc: PlayContext, task: Task, host: string, scope: Scope): Promise<string> {
  const raw = task.name ?? task.module;
  // a role's tasks show as "role : name", as ansible-playbook shows them
  const role = task.role ? `${task.role.name} : ` : "";
  if (!raw.includes("{{")) return role + raw;
  try {
    const vars = await hostVars(pc, pc.run.hosts.get(host)!, scope, task.vars);
    return role + String(await renderString(raw, vars, task.loc));
  } catch {
    return role + raw;
  }
}
