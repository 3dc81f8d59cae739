/**
 * delegate_to, as ansible-core: the task runs over the delegate's own connection (the address,
 * user and become its inventory vars give), with the host's variables for everything else; the
 * result is the host's (registered, counted and reported on it). Facts it sets stay on the host,
 * or go to the delegate with `delegate_facts: true`. A delegate is an inventory host or the
 * implicit localhost (`localhost`, `127.0.0.1`, `::1`, reached without SSH).
 */
import type { Connection } from "../connection/types.js";
import { ParseError } from "../errors.js";
import { LOCALHOST_NAMES } from "../inventory/index.js";
import type { Task } from "../playbook/types.js";
import { OMIT_TOKEN, renderString } from "../template/index.js";
import type { RunContext } from "./context.js";
import { newHostState } from "./host-state.js";
import { loginUser } from "./remote-user.js";

/** The connection an item runs over when its task delegates. */
export interface Delegation {
  name: string;
  connect(): Promise<Connection>;
  reconnect(): Promise<Connection>;
}

/** The delegate of `task` for one host (or loop item): its name rendered with `vars`; undefined when not delegated. */
export async function delegation(
  run: RunContext,
  task: Task,
  vars: Record<string, unknown>,
  remoteUser?: string,
): Promise<Delegation | undefined> {
  if (task.delegateTo === undefined) return undefined;
  const loc = task.locs.delegate_to ?? task.loc;
  const name = String(await renderString(task.delegateTo, vars, loc)).trim();
  // as Ansible's keywords: one that renders to `omit` is as if not written
  if (name === OMIT_TOKEN) return undefined;
  if (!run.inventory.hosts.has(name) && !LOCALHOST_NAMES.includes(name)) {
    throw new ParseError("INVENTORY", `delegate_to: host \`${name}\` is not in the inventory`, {
      location: loc,
      hint: "delegate to a host of the inventory, or to localhost",
    });
  }
  const user = await loginUser(remoteUser, vars, task.locs.remote_user ?? task.loc);
  return { name, connect: () => run.connect(name, user), reconnect: () => run.reconnect(name, user) };
}

/** Where the facts a task sets go: the delegate with delegate_facts, else the host itself. */
export function factsHost(run: RunContext, task: Task, host: string, delegate: string | undefined): string {
  if (!task.delegateFacts || delegate === undefined) return host;
  if (!run.hosts.has(delegate)) run.hosts.set(delegate, newHostState(delegate));
  return delegate;
}
