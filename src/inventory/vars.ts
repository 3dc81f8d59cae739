/** Variable precedence: the one place that decides which value of a variable a task sees. */
import { dirname } from "node:path";
import { ParseError } from "../errors.js";
import { OMIT_TOKEN } from "../template/omit.js";
import { ensureImplicitLocalhost, LOCALHOST_NAMES } from "./group-tree.js";
import { hostsOfGroup } from "./patterns.js";
import type { Inventory, InventoryGroup, InventoryHost } from "./types.js";

/** The variable sources of one host at one task; each layer is a plain `name → value` mapping. */
export interface VarLayers {
  /** Role defaults: every role of the play's, then the task's own role's (defaults/main.yml). */
  roleDefaults?: Record<string, unknown>;
  /** inventoryVars(inv, host): all < parent groups < child groups < host. */
  inventory?: Record<string, unknown>;
  /** Gathered facts (and cached facts). */
  facts?: Record<string, unknown>;
  /** The play's `vars:`. */
  play?: Record<string, unknown>;
  /** The play's `vars_files:`, in file order. */
  playVarsFiles?: Record<string, unknown>;
  /** Role vars: every role of the play's, then the task's own role's (vars/main.yml, a role's `vars:`). */
  roleVars?: Record<string, unknown>;
  /** `vars:` of enclosing blocks, outermost first. */
  blocks?: Record<string, unknown>[];
  /** Variables include_vars loaded on this host so far. */
  includedVars?: Record<string, unknown>;
  /** `register:` results and `set_fact` values of this host so far. */
  registered?: Record<string, unknown>;
  /** The task's role's params (`- { role: x, port: 1 }`). */
  roleParams?: Record<string, unknown>;
  /** The task's `vars:`. */
  task?: Record<string, unknown>;
  /** Vars loaded by include_vars / include parameters. */
  include?: Record<string, unknown>;
  /** `-e` extra vars. */
  extra?: Record<string, unknown>;
  /** magicVars(...): inventory_hostname, groups, group_names, … */
  magic?: Record<string, unknown>;
}

/**
 * THE variable precedence. Each later layer replaces whole values of the same name (Ansible's
 * default `hash_behaviour: replace`; dictionaries are not merged). Lowest to highest:
 *  1. `roleDefaults` — role defaults/main.yml: those of every role of the play (roles:,
 *     import_role), then the task's own role's (Ansible's "role defaults", its lowest)
 *  2. `inventory` — inventory `all` < parent groups < child groups < host, where within each level
 *     group_vars/ and host_vars/ files override the vars written in the inventory file
 *     (see inventoryVars)
 *  3. `facts` — gathered facts
 *  4. `play` — play `vars:`
 *  5. `playVarsFiles` — play `vars_files:`
 *  5b. `roleVars` — role vars/main.yml and a role entry's `vars:`: every role of the play's, then
 *     the task's own role's (Ansible shares role vars play-wide unless private_role_vars)
 *  6. `blocks` — block `vars:`, outer to inner
 *  7. `task` — task `vars:`
 *  8. `includedVars` — what include_vars loaded (above task vars, below set_fact, as in Ansible)
 *  9. `registered` — `register:` results and `set_fact` (above task vars, as in Ansible: a fact
 *     set earlier wins over a task's own `vars:` of the same name)
 *  9b. `roleParams` — the task's role's params (`- { role: x, port: 1 }`), above set_fact
 * 10. `include` — include_tasks parameters (its `vars:` and loop item)
 * 11. `extra` — extra vars (`-e`)
 * 12. `magic` — inventory_hostname, groups, group_names, playbook_dir, omit, … : set last, as Ansible
 *     does, so not even `-e` can fake which host a task runs on.
 */
export function resolveVars(layers: VarLayers): Record<string, unknown> {
  return Object.assign(
    {},
    layers.roleDefaults,
    layers.inventory,
    layers.facts,
    layers.play,
    layers.playVarsFiles,
    layers.roleVars,
    ...(layers.blocks ?? []),
    layers.task,
    layers.includedVars,
    layers.registered,
    layers.roleParams,
    layers.include,
    layers.extra,
    layers.magic,
  );
}

/**
 * A host's inventory variables: `all`, then its other groups by depth (parents before children;
 * at the same depth by `ansible_group_priority`, default 1, then by name), then the host's own.
 * As in Ansible, `ansible_group_priority` orders groups and is not itself a variable.
 */
export function inventoryVars(inv: Inventory, host: string): Record<string, unknown> {
  const h = findHost(inv, host);
  const depth = depthsOf(inv);
  const groups = [...ancestorGroups(inv, h)]
    .map((name) => inv.groups.get(name))
    .filter((g): g is InventoryGroup => g !== undefined)
    .sort(
      (a, b) =>
        (depth.get(a.name) ?? 0) - (depth.get(b.name) ?? 0) ||
        priority(a) - priority(b) ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
  const vars: Record<string, unknown> = {};
  for (const g of groups) Object.assign(vars, g.vars);
  Object.assign(vars, h.vars);
  delete vars.ansible_group_priority;
  return vars;
}

/** Variables Ansible sets for every host and that playbooks read but never set. */
export function magicVars(
  inv: Inventory,
  host: string,
  ctx: { playbookDir?: string; check?: boolean; playHosts?: string[] },
): Record<string, unknown> {
  const h = findHost(inv, host);
  const groups: Record<string, string[]> = {};
  for (const name of inv.groups.keys()) groups[name] = hostsOfGroup(inv, name);
  const magic: Record<string, unknown> = {
    inventory_hostname: host,
    inventory_hostname_short: host.split(".")[0],
    group_names: [...ancestorGroups(inv, h)].filter((g) => g !== "all").sort(),
    groups,
    ansible_check_mode: ctx.check ?? false,
    ansible_play_hosts: ctx.playHosts ?? [],
    ansible_play_hosts_all: ctx.playHosts ?? [],
    omit: OMIT_TOKEN,
  };
  if (ctx.playbookDir !== undefined) magic.playbook_dir = ctx.playbookDir;
  if (inv.file !== undefined) {
    magic.inventory_file = inv.file;
    magic.inventory_dir = dirname(inv.file);
  }
  return magic;
}

function findHost(inv: Inventory, host: string): InventoryHost {
  const h = inv.hosts.get(host);
  if (h) return h;
  if (LOCALHOST_NAMES.includes(host)) return ensureImplicitLocalhost(inv, host);
  throw new ParseError("INVENTORY", `host \`${host}\` is not in the inventory`, {
    location: inv.file === undefined ? undefined : { file: inv.file },
    hint: "add it under a group's `hosts:`, or check the spelling",
  });
}

/** The host's groups and all their ancestors, always including `all`. */
function ancestorGroups(inv: Inventory, host: InventoryHost): Set<string> {
  const found = new Set<string>();
  const stack = ["all", ...host.groups];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (found.has(name)) continue;
    found.add(name);
    stack.push(...(inv.groups.get(name)?.parents ?? []));
  }
  return found;
}

/** Each group's depth: the longest path from `all` (0) down to it. */
function depthsOf(inv: Inventory): Map<string, number> {
  const depth = new Map<string, number>();
  const visit = (name: string, trail: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    const parents = (inv.groups.get(name)?.parents ?? []).filter((p) => !trail.has(p));
    const d =
      name === "all" || parents.length === 0
        ? 0
        : 1 + Math.max(...parents.map((p) => visit(p, new Set([...trail, name]))));
    depth.set(name, d);
    return d;
  };
  for (const name of inv.groups.keys()) visit(name, new Set());
  return depth;
}

function priority(group: InventoryGroup): number {
  const p = Number(group.vars.ansible_group_priority ?? 1);
  return Number.isFinite(p) ? p : 1;
}
