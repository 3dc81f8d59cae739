/**
 * Loads Ansible's YAML inventory format (`all` / `children` / `hosts` / `vars`), Ansible-style host
 * lists ("web1,web2,"), and the `group_vars/` and `host_vars/` trees beside each inventory file and
 * beside the playbook, into one resolved Inventory. Every error the user can cause is located.
 */
import type { Dirent } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { closest, distance } from "fastest-levenshtein";
import { ParseError } from "../errors.js";
import { decodeSource, parseYaml, type YamlPath, type YamlSource } from "../playbook/yaml.js";
import type { Inventory, InventoryGroup, InventoryHost } from "./types.js";

/** A path (file or directory), a host list ("a,b,"), several of those, or YAML text in memory. */
export type InventorySource = string | string[] | { yaml: string; file?: string };

export interface LoadInventoryOptions {
  /** The playbook's directory: its group_vars/ and host_vars/ override the inventory's. */
  playbookDir?: string;
}

/** Names that Ansible treats as the implicit localhost when no inventory host has them. */
export const LOCALHOST_NAMES: readonly string[] = ["localhost", "127.0.0.1", "::1"];

const GROUP_KEYS = ["hosts", "children", "vars"];
const VARS_EXTENSIONS = new Set(["", ".yml", ".yaml", ".json"]);
const INVENTORY_FILE_EXTENSIONS = new Set([".yml", ".yaml", ".json"]);

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

/** Ansible's host_list rule: a string with a comma that is not an existing path. */
async function isHostList(src: string): Promise<boolean> {
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
async function inventoryFiles(src: string): Promise<{ files: string[]; dir: string }> {
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

async function readInventoryFile(file: string): Promise<YamlSource> {
  const text = await readText(file);
  if (!INVENTORY_FILE_EXTENSIONS.has(extname(file)) && /^\s*\[[^\]\n]+\]\s*$/m.test(text)) {
    throw new ParseError("INVENTORY", "INI inventories are not supported; tickless reads YAML inventories", {
      location: { file, line: 1, column: 1 },
      hint: `convert it once with \`ansible-inventory -i ${basename(file)} --list --yaml > hosts.yml\``,
    });
  }
  return parseYaml(text, file);
}

async function readText(file: string): Promise<string> {
  const bytes = await readFile(file).catch((cause: unknown) => {
    throw new ParseError("FILE_NOT_FOUND", `cannot read ${file}`, {
      location: { file },
      hint: "check that the file exists and is readable",
      cause,
    });
  });
  return decodeSource(bytes, file);
}

function addYamlInventory(inv: Inventory, src: YamlSource): void {
  const root = src.value;
  if (root === null || root === undefined) return;
  if (!isMapping(root)) {
    throw located(
      src,
      [],
      "value",
      "an inventory must be a mapping of group names",
      "start with `all:` and list hosts under `all: {hosts: {web1: {}}}`",
    );
  }
  for (const [name, data] of Object.entries(root)) addGroup(inv, src, name, data, undefined, [name]);
}

function addGroup(
  inv: Inventory,
  src: YamlSource,
  name: string,
  data: unknown,
  parent: string | undefined,
  path: YamlPath,
): void {
  const group = ensureGroup(inv, name);
  if (parent !== undefined) linkGroups(inv, src, parent, name, path);
  if (data === null || data === undefined) return;
  if (!isMapping(data)) {
    throw located(
      src,
      path,
      "value",
      `group \`${name}\` must be a mapping of hosts, children and vars`,
      `write \`${name}: {hosts: {web1: {}}}\``,
    );
  }
  for (const [key, value] of Object.entries(data)) {
    const at = [...path, key];
    if (key === "hosts") addGroupHosts(inv, src, name, value, at);
    else if (key === "vars")
      Object.assign(
        group.vars,
        mappingOrEmpty(src, value, at, "variables", "write `vars: {ntp_server: 10.0.0.1}`"),
      );
    else if (key === "children") {
      const children = mappingOrEmpty(
        src,
        value,
        at,
        "child group names",
        "write `children: {web: {hosts: {web1: {}}}}`",
      );
      for (const [child, childData] of Object.entries(children))
        addGroup(inv, src, child, childData, name, [...at, child]);
    } else {
      const guess = closest(key, GROUP_KEYS);
      const mean = distance(key, guess) <= 3 ? `; did you mean \`${guess}\`?` : "";
      throw located(
        src,
        at,
        "key",
        `unknown key \`${key}\` in group \`${name}\`${mean}`,
        "a group holds only `hosts`, `children` and `vars`; put variables under `vars:`",
      );
    }
  }
}

function addGroupHosts(inv: Inventory, src: YamlSource, group: string, value: unknown, path: YamlPath): void {
  const hosts = mappingOrEmpty(
    src,
    value,
    path,
    "host names",
    "write `hosts: {web1: {}}`, one host name per key ending with a colon",
  );
  for (const [pattern, vars] of Object.entries(hosts)) {
    const at = [...path, pattern];
    if (vars !== null && vars !== undefined && !isMapping(vars)) {
      throw located(
        src,
        at,
        "value",
        `host \`${pattern}\` must map to a mapping of its variables`,
        `write \`${pattern}: {ansible_host: 10.0.0.1}\`, or \`${pattern}:\` with nothing after it`,
      );
    }
    const { name, port } = splitPort(pattern);
    let names: string[];
    try {
      names = expandHostRange(name);
    } catch (e) {
      throw located(
        src,
        at,
        "key",
        (e as Error).message,
        "a range is [START:END] or [START:END:STEP], e.g. web[01:10] or db-[a:c]",
      );
    }
    for (const host of names) {
      addHost(inv, host, { ...(port === undefined ? {} : { ansible_port: port }), ...(vars ?? {}) }, group);
    }
  }
}

/** `host:port` and `[ipv6]:port` as Ansible's parse_address reads them (the port becomes ansible_port). */
function splitPort(text: string): { name: string; port?: number } {
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { name: v6[1], port: v6[2] === undefined ? undefined : Number(v6[2]) };
  const m = /^([^:]+):(\d+)$/.exec(text);
  return m ? { name: m[1], port: Number(m[2]) } : { name: text };
}

/** Expands Ansible host ranges: `web[01:03]` → web01 web02 web03, `db-[a:c]`, `n[0:10:5]`. */
function expandHostRange(pattern: string): string[] {
  const m = /\[([^\]:]*):([^\]:]*)(?::([^\]]*))?\]/.exec(pattern);
  if (!m) return [pattern];
  const [whole, start, end, stepText] = m;
  const head = pattern.slice(0, m.index);
  const tail = pattern.slice(m.index + whole.length);
  const step = stepText === undefined ? 1 : Number(stepText);
  if (!Number.isInteger(step) || step < 1) throw new Error(`bad step in host range \`${whole}\``);
  let items: string[];
  if (/^\d+$/.test(start) && /^\d+$/.test(end)) {
    const width = start.length > 1 && start.startsWith("0") ? start.length : 0;
    items = range(Number(start), Number(end), step).map((n) => String(n).padStart(width, "0"));
  } else if (/^[a-zA-Z]$/.test(start) && /^[a-zA-Z]$/.test(end)) {
    items = range(start.charCodeAt(0), end.charCodeAt(0), step).map((c) => String.fromCharCode(c));
  } else {
    throw new Error(`bad host range \`${whole}\`: both ends must be numbers or single letters`);
  }
  if (items.length === 0) throw new Error(`empty host range \`${whole}\`: the start is after the end`);
  return items.flatMap((item) => expandHostRange(`${head}${item}${tail}`));
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i += step) out.push(i);
  return out;
}

function addHost(inv: Inventory, name: string, vars: Record<string, unknown>, group: string): void {
  let host = inv.hosts.get(name);
  if (!host) {
    host = { name, vars: {}, groups: [] };
    inv.hosts.set(name, host);
  }
  Object.assign(host.vars, vars);
  pushOnce(host.groups, group);
  pushOnce(ensureGroup(inv, group).hosts, name);
}

function ensureGroup(inv: Inventory, name: string): InventoryGroup {
  let group = inv.groups.get(name);
  if (!group) {
    group = { name, vars: {}, hosts: [], children: [], parents: [] };
    inv.groups.set(name, group);
  }
  return group;
}

function linkGroups(inv: Inventory, src: YamlSource, parent: string, child: string, path: YamlPath): void {
  if (parent === child || isDescendant(inv, child, parent)) {
    throw located(
      src,
      path,
      "key",
      `group \`${child}\` cannot be a child of \`${parent}\`: that makes a loop`,
      "a group may not contain itself, directly or through its children",
    );
  }
  pushOnce(ensureGroup(inv, parent).children, child);
  pushOnce(ensureGroup(inv, child).parents, parent);
}

/** True when `name` is below `ancestor` in the group tree. */
function isDescendant(inv: Inventory, ancestor: string, name: string): boolean {
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
function reconcile(inv: Inventory): void {
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

/** Applies DIR/group_vars and DIR/host_vars: each file overrides the vars written inline. */
async function applyVarsDirs(inv: Inventory, dir: string): Promise<void> {
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
async function varsFiles(dir: string): Promise<Map<string, string[]>> {
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

function mappingOrEmpty(
  src: YamlSource,
  value: unknown,
  path: YamlPath,
  what: string,
  hint: string,
): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (!isMapping(value))
    throw located(src, path, "value", `expected a mapping of ${what}, got ${kindOf(value)}`, hint);
  return value;
}

function located(
  src: YamlSource,
  path: YamlPath,
  target: "key" | "value",
  message: string,
  hint: string,
): ParseError {
  return new ParseError("INVENTORY", message, { location: src.locate(path, target), hint });
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return "a string";
  return `a ${typeof value}`;
}

function pushOnce<T>(list: T[], item: T): void {
  if (!list.includes(item)) list.push(item);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
