/** `meta:` actions, which steer the engine rather than a host. */
import { formatError, TicklessError } from "../errors.js";
import type { Task } from "../playbook/types.js";
import { evaluateCondition } from "../template/index.js";
import type { PlayContext, Scope } from "./context.js";
import { flushHandlers } from "./handlers.js";
import { isActive } from "./host-state.js";
import { hostVars } from "./vars.js";

/** The action a meta task names, whichever key the loader put the free-form value in. */
export function metaAction(task: Task): string {
  const a = task.args;
  const v = a.free_form ?? a._raw_params ?? a.action ?? Object.values(a)[0];
  return String(v ?? "").trim();
}

export async function runMeta(pc: PlayContext, task: Task, hosts: string[], scope: Scope): Promise<void> {
  const action = metaAction(task);
  const states = pc.run.hosts;
  const conditions = [...scope.when, ...task.when];
  const holds = async (host: string) => {
    const vars = hostVars(pc, states.get(host)!, scope, task.vars);
    for (const c of conditions)
      if (!(await evaluateCondition(c, vars, task.locs.when ?? task.loc))) return false;
    return true;
  };
  const active = hosts.filter((h) => isActive(states.get(h)!));
  switch (action) {
    case "flush_handlers":
      return flushHandlers(pc, hosts, scope);
    case "end_play":
      if (active.length > 0 && (await holds(active[0]))) pc.aborted = true;
      return;
    case "end_batch":
      if (active.length > 0 && (await holds(active[0]))) pc.batchEnded = true;
      return;
    case "end_host":
      for (const h of active) if (await holds(h)) states.get(h)!.ended = true;
      return;
    case "clear_host_errors":
      for (const h of pc.batch) {
        const s = states.get(h)!;
        if (s.failed && !s.unreachable) s.failed = false;
      }
      return;
    case "noop":
    case "refresh_inventory":
    case "reset_connection":
    case "clear_facts":
      if (action === "clear_facts") for (const h of active) states.get(h)!.facts = {};
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
