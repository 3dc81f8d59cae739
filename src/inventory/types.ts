/** The resolved inventory. Written shape: Ansible's YAML inventory (all/children/hosts/vars). */

export interface InventoryHost {
  name: string;
  /** Vars set on the host itself (inventory file + host_vars/). */
  vars: Record<string, unknown>;
  /** Groups the host is directly in (not their parents). */
  groups: string[];
}

export interface InventoryGroup {
  name: string;
  /** Vars set on the group (inventory file + group_vars/). */
  vars: Record<string, unknown>;
  /** Hosts directly in the group. */
  hosts: string[];
  children: string[];
  parents: string[];
}

export interface Inventory {
  /** Absolute path of the inventory file, or undefined for an in-memory/implicit one. */
  file?: string;
  /** Hosts in the order they were first seen. */
  hosts: Map<string, InventoryHost>;
  /** Always has `all` and `ungrouped`. */
  groups: Map<string, InventoryGroup>;
}
