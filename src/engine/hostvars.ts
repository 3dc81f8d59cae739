/**
 * `hostvars`: every inventory host's variables as Ansible's HostVars has them — inventory, facts,
 * registered results and set_fact values, extra vars and the magic vars — without the play's,
 * blocks' or task's own `vars:` (ansible-core leaves them out too). Each host's mapping is built
 * when a template reads it, from the host's state at that moment, so one object serves a play.
 */
import { factVars } from "../facts/index.js";
import { inventoryVars, magicVars, resolveVars } from "../inventory/index.js";
import type { PlayContext } from "./context.js";

const perPlay = new WeakMap<PlayContext, { made: Record<string, unknown>; hosts: number }>();

/**
 * The play's `hostvars` mapping: host name → that host's variables, read lazily; a host add_host
 * brings in is added when the mapping is next asked for.
 */
export function hostvarsOf(pc: PlayContext): Record<string, unknown> {
  const known = perPlay.get(pc);
  if (known && known.hosts === pc.run.inventory.hosts.size) return known.made;
  const made = known?.made ?? {};
  const names = new Set([...pc.run.inventory.hosts.keys(), ...pc.run.hosts.keys()]);
  for (const name of names) {
    if (Object.hasOwn(made, name)) continue;
    Object.defineProperty(made, name, {
      enumerable: true,
      get: () => varsOfHost(pc, name),
    });
  }
  perPlay.set(pc, { made, hosts: pc.run.inventory.hosts.size });
  return made;
}

function varsOfHost(pc: PlayContext, name: string): Record<string, unknown> {
  const run = pc.run;
  const state = run.hosts.get(name);
  const facts = state?.facts ?? {};
  return resolveVars({
    inventory: inventoryVars(run.inventory, name),
    facts: factVars(facts),
    registered: state?.registered ?? {},
    extra: run.extraVars,
    magic: magicVars(run.inventory, name, {
      playbookDir: run.playbook.dir,
      check: run.check,
      playHosts: pc.playHosts,
    }),
  });
}
