/** `meta:` actions, which steer the engine rather than a host; shown as a task, not counted in the recap (as Ansible). */
import { formatError, formatLocation, TicklessError } from "../errors.js";
import type { Task } from "../playbook/types.js";
import { evaluateCondition } from "../template/index.js";
import type { PlayContext, Scope } from "./context.js";
import type { TaskResult } from "./events.js";
import { flushHandlers } from "./handlers.js";
import { isActive } from "./host-state.js";
import { hostVars } from "./vars.js";

/** The action a meta task names, whichever key the loader put the free-form value in. */
export function metaAction(task: Task): string {
  const a = task.args;
  const v = a.free_form ?? a._raw_params ?? a.action ?? Object.values(a)[0];
  return String(v ?? "").trim();
}

/** Actions that run once for the batch (on its first active host), as Ansible runs them. */
const ONCE = new Set(["end_play", "end_batch", "clear_host_errors", "refresh_inventory"]);

export async function runMeta(pc: PlayContext, task: Task, hosts: string[], scope: Scope): Promise<void> {
  const action = metaAction(task);
  const states = pc.run.hosts;
  const active = hosts.filter((h) => isActive(states.get(h)!));
  if (active.length === 0) return;
  const name = task.name ?? `meta: ${action}`;
  const targets = ONCE.has(action) ? active.slice(0, 1) : active;
  pc.run.emit({
    type: "task_start",
    play: pc.play.name,
    task: name,
    path: formatLocation(task.loc),
    hosts: targets,
    meta: true,
  });
  const applies: string[] = [];
  for (const host of targets) {
    const holds = await conditionsHold(pc, task, host, scope);
    if (holds) applies.push(host);
    const result: TaskResult = holds
      ? { changed: false, failed: false, skipped: false, msg: action }
      : { changed: false, failed: false, skipped: true, skip_reason: "Conditional result was False" };
    pc.run.emit({
      type: "host_result",
      play: pc.play.name,
      task: name,
      host,
      status: holds ? "ok" : "skipped",
      result,
      diff: false,
    });
  }
  pc.run.emit({ type: "task_end", play: pc.play.name, task: name });
  // flush_handlers takes no condition in Ansible: it always flushes
  if (applies.length > 0 || action === "flush_handlers") await act(pc, task, action, hosts, applies, scope);
}

async function conditionsHold(pc: PlayContext, task: Task, host: string, scope: Scope): Promise<boolean> {
  const vars = hostVars(pc, pc.run.hosts.get(host)!, scope, task.vars);
  for (const c of [...scope.when, ...task.when]) {
    if (!(await evaluateCondition(c, vars, task.locs.when ?? task.loc))) return false;
  }
  return true;
}

/** Does what the action says; `applies` are the hosts whose conditions held. */
async function act(
  pc: PlayContext,
  task: Task,
  action: string,
  hosts: string[],
  applies: string[],
  scope: Scope,
): Promise<void> {
  const states = pc.run.hosts;
  switch (action) {
    case "flush_handlers":
      return flushHandlers(pc, hosts, scope);
    case "end_play":
      pc.aborted = true;
      return;
    case "end_batch":
      pc.batchEnded = true;
      return;
    case "end_host":
      for (const h of applies) states.get(h)!.ended = true;
      return;
    case "clear_host_errors":
      for (const h of pc.batch) {
        const s = states.get(h)!;
        if (s.failed && !s.unreachable) s.failed = false;
      }
      return;
    case "clear_facts":
      for (const h of applies) states.get(h)!.facts = {};
      return;
    case "noop":
    case "refresh_inventory":
    case "reset_connection":
      return;
    default:
      pc.run.emit({
        type: "warning",
        message: formatError(
          new TicklessError("MODULE_ARGS", `unknown meta action "${action}", ignored`, {
            location: task.loc,
            hint: "use flush_handlers, end_play, end_batch, end_host, clear_host_errors or noop",
          }),
        ),
      });
  }
}
