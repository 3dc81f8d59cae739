/** `group_vars/` and `host_vars/` beside an inventory or a playbook, applied over the inline vars. */
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { parseYaml } from "../playbook/yaml.js";
import { ensureImplicitLocalhost, LOCALHOST_NAMES } from "./group-tree.js";
import type { Inventory } from "./types.js";
import { mappingOrEmpty, readText } from "./yaml-inventory.js";

const VARS_EXTENSIONS = new Set(["", ".yml", ".yaml", ".json"]);

/** Applies DIR/group_vars and DIR/host_vars: each file overrides the vars written inline. */
export async function applyVarsDirs(inv: Inventory, dir: string): Promise<void> {
  for (const [name, files] of await varsFiles(join(dir, "group_vars"))) {
    const group = inv.groups.get(name);
    if (!group) continue;
    for (const file of files) Object.assign(group.vars, await readVarsFile(file));
  }
  for (const [name, files] of await varsFiles(join(dir, "host_vars"))) {
    let host = inv.hosts.get(name);
    if (!host && LOCALHOST_NAMES.includes(name)) host = ensureImplicitLocalhost(inv, name);
    if (!host) continue;
    for (const file of files) Object.assign(host.vars, await readVarsFile(file));
  }
}

/**
 * Vars files by entity name, in the order they apply: `NAME` (a file, or a directory whose files
 * are read recursively in lexical order), `NAME.json`, `NAME.yaml`, `NAME.yml`.
 */
export async function varsFiles(dir: string): Promise<Map<string, string[]>> {
  const byName = new Map<string, string[]>();
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      byName.set(entry.name, [...(byName.get(entry.name) ?? []), ...(await filesUnder(path))]);
    } else if (VARS_EXTENSIONS.has(extname(entry.name)) && !entry.name.endsWith("~")) {
      const name = entry.name.slice(0, entry.name.length - extname(entry.name).length);
      byName.set(name, [...(byName.get(name) ?? []), path]);
    }
  }
  return byName;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith(".") || entry.name.endsWith("~")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (VARS_EXTENSIONS.has(extname(entry.name))) files.push(path);
  }
  return files;
}

async function readVarsFile(file: string): Promise<Record<string, unknown>> {
  const src = parseYaml(await readText(file), file);
  return mappingOrEmpty(
    src,
    src.value,
    [],
    "variables",
    "a vars file holds `name: value` lines, e.g. `isolated_cpus: 4`",
  );
}
