/**
 * The run's in-memory inventory changed by a task, as ansible-core's InventoryManager does it for
 * `group_by` (add_dynamic_group) and `add_host` (add_dynamic_host): each returns whether anything
 * changed, which is the task's `changed`.
 */
import { isDeepStrictEqual } from "node:util";
import { TicklessError } from "../errors.js";
import { ensureGroup, isDescendant, pushOnce } from "./group-tree.js";
import { hostsOfGroup } from "./patterns.js";
import type { Inventory } from "./types.js";

/**
 * `host` into `group` (created if missing), `group` a child of each of `parents` (created if
 * missing). As ansible-core: creating the group alone is no change; a new parent, a new parent
 * link or the host joining the group (not already in it through a child group) is.
 */
export function addDynamicGroup(inv: Inventory, host: string, group: string, parents: string[]): boolean {
  let changed = false;
  for (const p of parents) {
    if (!inv.groups.has(p)) {
      ensureGroup(inv, p);
      changed = true;
    }
  }
  const g = ensureGroup(inv, group);
  for (const p of parents) {
    if (g.parents.includes(p)) continue;
    if (p === group || isDescendant(inv, group, p)) {
      throw new TicklessError(
        "TASK",
        `Adding group '${group}' as child to '${p}' creates a recursive dependency loop.`,
      );
    }
    g.parents.push(p);
    pushOnce(ensureGroup(inv, p).children, group);
    changed = true;
  }
  if (!hostsOfGroup(inv, group).includes(host)) {
    const h = inv.hosts.get(host);
    if (h) pushOnce(h.groups, group);
    pushOnce(g.hosts, host);
    changed = true;
  }
  if (changed) settle(inv, host);
  return changed;
}

/**
 * A host added (or found) by name, its variables merged over its own (a later value of a name
 * wins), and put into `groups` (created if missing). Changed when the host, a group or a group
 * membership is new, or its variables differ afterwards.
 */
export function addDynamicHost(
  inv: Inventory,
  name: string,
  groups: string[],
  vars: Record<string, unknown>,
): boolean {
  let changed = false;
  let host = inv.hosts.get(name);
  // the implicit localhost (in no group) is not in ansible-core's inventory: adding it is new
  if (!host || host.groups.length === 0) {
    host = { name, vars: { ...host?.vars }, groups: [] };
    inv.hosts.set(name, host);
    changed = true;
  }
  const merged = { ...host.vars, ...vars };
  if (!isDeepStrictEqual(merged, host.vars)) {
    host.vars = merged;
    changed = true;
  }
  for (const group of groups) {
    if (!inv.groups.has(group)) changed = true;
    const g = ensureGroup(inv, group);
    if (!g.hosts.includes(name)) {
      g.hosts.push(name);
      pushOnce(host.groups, group);
      changed = true;
    }
  }
  if (changed) settle(inv, name);
  return changed;
}

/**
 * ansible-core's reconcile_inventory for what a task changed: every group under `all`; the host in
 * `ungrouped` while in no other group, out of it once it is. Other hosts are left as they are (the
 * implicit localhost stays in no group, as ansible-core skips implicit hosts).
 */
function settle(inv: Inventory, name: string): void {
  const all = ensureGroup(inv, "all");
  for (const group of inv.groups.values()) {
    if (group.name !== "all" && group.parents.length === 0) {
      group.parents.push("all");
      pushOnce(all.children, group.name);
    }
  }
  const host = inv.hosts.get(name);
  if (!host) return;
  const ungrouped = ensureGroup(inv, "ungrouped");
  const others = host.groups.filter((g) => g !== "all" && g !== "ungrouped");
  if (others.length > 0) {
    host.groups = host.groups.filter((g) => g !== "ungrouped");
    ungrouped.hosts = ungrouped.hosts.filter((h) => h !== name);
  } else {
    pushOnce(host.groups, "ungrouped");
    pushOnce(ungrouped.hosts, name);
  }
}

/**
 * A copy a run may change (group_by, add_host) without touching the caller's: new maps, hosts and
 * groups; variable mappings are shared, never changed in place.
 */
export function copyInventory(inv: Inventory): Inventory {
  return {
    ...(inv.file === undefined ? {} : { file: inv.file }),
    hosts: new Map([...inv.hosts].map(([k, h]) => [k, { ...h, groups: [...h.groups] }])),
    groups: new Map(
      [...inv.groups].map(([k, g]) => [
        k,
        { ...g, hosts: [...g.hosts], children: [...g.children], parents: [...g.parents] },
      ]),
    ),
  };
}
