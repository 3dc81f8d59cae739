/**
 * Ansible's YAML inventory format (`all` / `children` / `hosts` / `vars`) into the group tree;
 * every error the user can cause is located (file:line:column, a hint).
 */
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { closest, distance } from "fastest-levenshtein";
import { ParseError } from "../errors.js";
import { decodeSource, parseYaml, type YamlPath, type YamlSource } from "../playbook/yaml.js";
import { currentKeyring, isVaultText } from "../vault/index.js";
import { addHost, ensureGroup, isDescendant, pushOnce } from "./group-tree.js";
import { expandHostRange, splitPort } from "./host-names.js";
import type { Inventory } from "./types.js";

const GROUP_KEYS = ["hosts", "children", "vars"];
export const INVENTORY_FILE_EXTENSIONS = new Set([".yml", ".yaml", ".json"]);

export async function readInventoryFile(file: string): Promise<YamlSource> {
  const text = await readText(file);
  if (!INVENTORY_FILE_EXTENSIONS.has(extname(file))) refuseIni(text, file);
  return parseYaml(text, file);
}

/** An INI inventory, encrypted with ansible-vault or not, is refused with the command that converts it. */
function refuseIni(text: string, file: string): void {
  const vaulted = isVaultText(text);
  const plain = vaulted ? currentKeyring().decrypt(text, { file, line: 1 }) : text;
  if (!/^\s*\[[^\]\n]+\]\s*$/m.test(plain)) return;
  const vault = vaulted ? " --vault-password-file FILE" : "";
  throw new ParseError("INVENTORY", "INI inventories are not supported; tickless reads YAML inventories", {
    location: { file, line: 1, column: 1 },
    hint: `convert it once with \`ansible-inventory -i ${basename(file)}${vault} --list --yaml > hosts.yml\``,
  });
}

export async function readText(file: string): Promise<string> {
  const bytes = await readFile(file).catch((cause: unknown) => {
    throw new ParseError("FILE_NOT_FOUND", `cannot read ${file}`, {
      location: { file },
      hint: "check that the file exists and is readable",
      cause,
    });
  });
  return decodeSource(bytes, file);
}

export function addYamlInventory(inv: Inventory, src: YamlSource): void {
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

export function mappingOrEmpty(
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
