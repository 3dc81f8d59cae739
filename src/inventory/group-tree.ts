/** The inventory's group tree in memory: groups, hosts, parent links, and Ansible's implicit groups. */
import type { Inventory, InventoryGroup, InventoryHost } from "./types.js";

/** Names that Ansible treats as the implicit localhost when no inventory host has them. */
export const LOCALHOST_NAMES: readonly string[] = ["localhost", "127.0.0.1", "::1"];

/**
 * Adds Ansible's implicit localhost: a host in no group (so `all` does not match it) with
 * `ansible_connection: local`. selectHosts calls it when a pattern names `localhost`,
 * `127.0.0.1` or `::1` and the inventory has no such host; returns the existing host otherwise.
 */
export function ensureImplicitLocalhost(inv: Inventory, name = "localhost"): InventoryHost {
  const existing = inv.hosts.get(name);
  if (existing) return existing;
  const host: InventoryHost = { name, vars: { ansible_connection: "local" }, groups: [] };
  inv.hosts.set(name, host);
  return host;
}

/** An inventory with only `all` and `ungrouped`. */
export function emptyInventory(): Inventory {
  const inv: Inventory = { hosts: new Map(), groups: new Map() };
  ensureGroup(inv, "all");
  ensureGroup(inv, "ungrouped");
  return inv;
}

export function addHost(inv: Inventory, name: string, vars: Record<string, unknown>, group: string): void {
  let host = inv.hosts.get(name);
  if (!host) {
    host = { name, vars: {}, groups: [] };
    inv.hosts.set(name, host);
  }
  Object.assign(host.vars, vars);
  pushOnce(host.groups, group);
  pushOnce(ensureGroup(inv, group).hosts, name);
}

export function ensureGroup(inv: Inventory, name: string): InventoryGroup {
  let group = inv.groups.get(name);
  if (!group) {
    group = { name, vars: {}, hosts: [], children: [], parents: [] };
    inv.groups.set(name, group);
  }
  return group;
}

/** True when `name` is below `ancestor` in the group tree. */
export function isDescendant(inv: Inventory, ancestor: string, name: string): boolean {
  const seen = new Set<string>();
  const stack = [...(inv.groups.get(ancestor)?.children ?? [])];
  while (stack.length > 0) {
    const g = stack.pop()!;
    if (g === name) return true;
    if (seen.has(g)) continue;
    seen.add(g);
    stack.push(...(inv.groups.get(g)?.children ?? []));
  }
  return false;
}

/** Ansible's reconcile step: every group hangs under `all`; hosts in no other group join `ungrouped`. */
export function reconcile(inv: Inventory): void {
  const all = inv.groups.get("all")!;
  for (const group of inv.groups.values()) {
    if (group.name !== "all" && group.parents.length === 0) {
      group.parents.push("all");
      pushOnce(all.children, group.name);
    }
  }
  const ungrouped = inv.groups.get("ungrouped")!;
  for (const host of inv.hosts.values()) {
    const others = host.groups.filter((g) => g !== "all" && g !== "ungrouped");
    if (others.length > 0 && host.groups.includes("ungrouped")) {
      host.groups = host.groups.filter((g) => g !== "ungrouped");
      ungrouped.hosts = ungrouped.hosts.filter((h) => h !== host.name);
    } else if (others.length === 0) {
      pushOnce(host.groups, "ungrouped");
      pushOnce(ungrouped.hosts, host.name);
    }
  }
}

export function pushOnce<T>(list: T[], item: T): void {
  if (!list.includes(item)) list.push(item);
}
