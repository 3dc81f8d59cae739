/**
 * Loads inventories — YAML files or directories (yaml-inventory.ts), Ansible-style host lists
 * ("web1,web2,"), YAML text in memory — into one resolved Inventory, then applies the
 * `group_vars/` and `host_vars/` trees beside each inventory file and beside the playbook
 * (vars-dirs.ts). Every error the user can cause is located.
 */
import { readdir, stat } from "node:fs/promises";
import { dirname, extname, join, resolve } from "node:path";
import { ParseError } from "../errors.js";
import { parseYaml } from "../playbook/yaml.js";
import { addHost, emptyInventory, reconcile } from "./group-tree.js";
import { splitPort } from "./host-names.js";
import type { Inventory } from "./types.js";
import { applyVarsDirs } from "./vars-dirs.js";
import { addYamlInventory, INVENTORY_FILE_EXTENSIONS, readInventoryFile } from "./yaml-inventory.js";

/** A path (file or directory), a host list ("a,b,"), several of those, or YAML text in memory. */
export type InventorySource = string | string[] | { yaml: string; file?: string };

export interface LoadInventoryOptions {
  /** The playbook's directory: its group_vars/ and host_vars/ override the inventory's. */
  playbookDir?: string;
}

export async function loadInventory(
  source: InventorySource,
  options: LoadInventoryOptions = {},
): Promise<Inventory> {
  const inv = emptyInventory();
  const varsDirs: string[] = [];
  for (const src of Array.isArray(source) ? source : [source]) {
    if (typeof src === "object") {
      const file = src.file ? resolve(src.file) : "<inventory>";
      addYamlInventory(inv, parseYaml(src.yaml, file));
      if (src.file) varsDirs.push(dirname(file));
      inv.file ??= src.file ? file : undefined;
    } else if (await isHostList(src)) {
      addHostList(inv, src);
    } else {
      const { files, dir } = await inventoryFiles(src);
      for (const file of files) addYamlInventory(inv, await readInventoryFile(file));
      varsDirs.push(dir);
      inv.file ??= files[0];
    }
  }
  reconcile(inv);
  if (options.playbookDir) varsDirs.push(resolve(options.playbookDir));
  for (const dir of new Set(varsDirs)) await applyVarsDirs(inv, dir);
  return inv;
}

/** Ansible's host_list rule: a string with a comma that is not an existing path. */
export async function isHostList(src: string): Promise<boolean> {
  if (!src.includes(",")) return false;
  return !(await exists(src));
}

function addHostList(inv: Inventory, list: string): void {
  for (const entry of list.split(",")) {
    const text = entry.trim();
    if (!text) continue;
    const { name, port } = splitPort(text);
    addHost(inv, name, port === undefined ? {} : { ansible_port: port }, "ungrouped");
  }
}

/** The YAML files of an inventory path and the directory whose group_vars/host_vars apply. */
export async function inventoryFiles(src: string): Promise<{ files: string[]; dir: string }> {
  const path = resolve(src);
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    throw new ParseError("FILE_NOT_FOUND", `inventory not found: ${src}`, {
      location: { file: path },
      hint: "check the -i path; a list of hosts needs a comma, e.g. `-i web1,` or `-i localhost,`",
    });
  }
  if (!info.isDirectory()) return { files: [path], dir: dirname(path) };
  const names = (await readdir(path)).sort();
  const preferred = names.find((n) => n === "hosts.yml" || n === "hosts.yaml" || n === "hosts");
  const files = preferred
    ? [join(path, preferred)]
    : names.filter((n) => INVENTORY_FILE_EXTENSIONS.has(extname(n))).map((n) => join(path, n));
  if (files.length === 0) {
    throw new ParseError("INVENTORY", `no inventory file in directory ${src}`, {
      location: { file: path },
      hint: "put the hosts in hosts.yml inside the directory, or pass the file itself with -i",
    });
  }
  return { files, dir: path };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
