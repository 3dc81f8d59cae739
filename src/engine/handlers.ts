/** Handlers: run once per flush, in definition order, on the hosts that notified them. */
import type { Handler } from "../playbook/types.js";
import type { PlayContext, Scope } from "./context.js";
import { isActive } from "./host-state.js";
import { runTaskStep } from "./step.js";
import { walk } from "./walk.js";

/** A handler answers to its name and to each of its `listen` topics. */
function answers(handler: Handler, notified: Set<string>): boolean {
  if (handler.name !== undefined && notified.has(handler.name)) return true;
  // a role's handler also answers to "role : name", as Ansible's
  if (handler.name !== undefined && handler.role && notified.has(`${handler.role.name} : ${handler.name}`))
    return true;
  return (handler.listen ?? []).some((topic) => notified.has(topic));
}

/** Runs every notified handler for `hosts`; handlers notified by handlers run in a further pass. */
export async function flushHandlers(pc: PlayContext, hosts: string[], scope: Scope): Promise<void> {
  const handlerScope: Scope = { ...scope, handler: true, rescuing: false };
  for (let pass = 0; pass < 10; pass++) {
    const pending = new Map<string, Set<string>>();
    for (const h of hosts) {
      const state = pc.run.hosts.get(h)!;
      if (state.notified.size > 0 && isActive(state)) pending.set(h, new Set(state.notified));
      state.notified.clear();
    }
    if (pending.size === 0) return;
    for (const handler of pc.play.handlers) {
      if (pc.aborted || pc.run.signal?.aborted) return;
      const targets = [...pending].filter(([, names]) => answers(handler, names)).map(([h]) => h);
      if (targets.length === 0) continue;
      // an include handler: its file's tasks, as handlers, on the hosts that notified it
      if (handler.kind === "include")
        await walk(pc, [handler], targets, { ...handlerScope, role: handler.role });
      else await runTaskStep(pc, handler, targets, { ...handlerScope, role: handler.role });
    }
  }
}
