/**
 * Host patterns as ansible-playbook reads them: `all`/`*`, group and host names, `a:b` / `a,b`
 * (union), `a:&b` (intersection), `a:!b` (exclusion), globs `web*`, regexes `~web\d+`, and
 * subscripts `group[0]`, `group[-1]`, `group[1:3]` (inclusive, as Ansible), `group[2:]`.
 */
import { readFileSync } from "node:fs";
import { ParseError } from "../errors.js";
import { ensureImplicitLocalhost, LOCALHOST_NAMES } from "./group-tree.js";
import type { Inventory, InventoryHost } from "./types.js";

/**
 * The hosts a pattern selects, in inventory order, each once. Union terms apply first, then
 * intersections (`&`), then exclusions (`!`); a pattern of only `&`/`!` terms starts from `all`.
 * `localhost` (or 127.0.0.1, ::1) absent from the inventory is Ansible's implicit localhost:
 * it is added to `inv` (see ensureImplicitLocalhost) and returned, but `all` never matches it.
 * A pattern matching nothing gives [] (the caller warns).
 */
export function selectHosts(inv: Inventory, pattern: string): string[] {
  return evaluate(inv, splitPattern(pattern));
}

/** `hosts` narrowed by --limit; a `@FILE` term reads host names (or patterns) from FILE, one a line. */
export function limitHosts(inv: Inventory, hosts: string[], limit?: string): string[] {
  if (limit === undefined || limit.trim() === "") return hosts;
  const terms = splitPattern(limit).flatMap((term) =>
    term.startsWith("@") ? readLimitFile(term.slice(1)) : [term],
  );
  const allowed = new Set(evaluate(inv, terms));
  return hosts.filter((h) => allowed.has(h));
}

/** Ansible's split: on commas when there are any, else on colons outside [subscripts]. */
export function splitPattern(pattern: string): string[] {
  const trimmed = pattern.trim();
  if (trimmed.includes(",")) {
    return trimmed
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean);
  }
  return trimmed.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
}

function evaluate(inv: Inventory, terms: string[]): string[] {
  const unions = terms.filter((t) => !t.startsWith("&") && !t.startsWith("!"));
  const intersections = terms.filter((t) => t.startsWith("&")).map((t) => t.slice(1));
  const exclusions = terms.filter((t) => t.startsWith("!")).map((t) => t.slice(1));
  if (unions.length === 0) unions.push("all");
  const selected = new Set<string>();
  for (const term of unions) for (const h of matchTerm(inv, term)) selected.add(h);
  for (const term of intersections) {
    const keep = new Set(matchTerm(inv, term));
    for (const h of selected) if (!keep.has(h)) selected.delete(h);
  }
  for (const term of exclusions) for (const h of matchTerm(inv, term)) selected.delete(h);
  return [...inv.hosts.keys()].filter((h) => selected.has(h));
}

/** The hosts of one term, after its subscript (which counts in the group's own order, as Ansible). */
function matchTerm(inv: Inventory, term: string): string[] {
  const { base, subscript } = parseSubscript(term);
  const matched = matchBase(inv, base);
  return subscript ? applySubscript(matched, subscript) : matched;
}

interface Subscript {
  start: number;
  /** Inclusive end; undefined for a single index; -1 for "to the end". */
  end?: number;
}

function parseSubscript(term: string): { base: string; subscript?: Subscript } {
  if (term.startsWith("~")) return { base: term };
  const m = /^(.+)\[(?:(-?\d+)|(\d+):(\d*))\]$/.exec(term);
  if (!m) return { base: term };
  if (m[2] !== undefined) return { base: m[1], subscript: { start: Number(m[2]) } };
  return { base: m[1], subscript: { start: Number(m[3]), end: m[4] === "" ? -1 : Number(m[4]) } };
}

function applySubscript(hosts: string[], { start, end }: Subscript): string[] {
  if (end === undefined) {
    const h = hosts[start < 0 ? hosts.length + start : start];
    return h === undefined ? [] : [h];
  }
  return hosts.slice(start, end === -1 ? hosts.length : end + 1);
}

/**
 * The hosts of a term before its subscript, in Ansible's order: the hosts of each matching group
 * (group order), then matching host names. Host names are tried when no group matched, or for
 * globs and regexes.
 */
function matchBase(inv: Inventory, base: string): string[] {
  if (base === "all" || base === "*") return realHosts(inv).map((h) => h.name);
  const test = matcher(base);
  const selected = new Set<string>();
  let groupMatched = false;
  for (const group of inv.groups.keys()) {
    if (!test(group)) continue;
    groupMatched = true;
    for (const h of hostsOfGroup(inv, group)) selected.add(h);
  }
  if (!groupMatched || /^~|[.?*[]/.test(base)) {
    for (const host of realHosts(inv)) if (test(host.name)) selected.add(host.name);
  }
  if (selected.size === 0 && LOCALHOST_NAMES.includes(base)) {
    ensureImplicitLocalhost(inv, base);
    selected.add(base);
  }
  return [...selected];
}

/** Hosts of a group and of the groups below it, as Ansible lists them: its own first, then breadth-first. */
export function hostsOfGroup(inv: Inventory, group: string): string[] {
  if (group === "all") return realHosts(inv).map((h) => h.name);
  const hosts = new Set<string>();
  const order = [group];
  for (let i = 0; i < order.length; i++) {
    const g = inv.groups.get(order[i]);
    if (!g) continue;
    for (const h of g.hosts) hosts.add(h);
    for (const child of g.children) if (!order.includes(child)) order.push(child);
  }
  return [...hosts];
}

/** Hosts that belong to the inventory's groups: every host except an implicit localhost. */
function realHosts(inv: Inventory): InventoryHost[] {
  return [...inv.hosts.values()].filter((h) => h.groups.length > 0);
}

/** A name test: `~regex` (matched from the start, like Python's re.match), a glob, or an exact name. */
function matcher(base: string): (name: string) => boolean {
  if (base.startsWith("~")) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${base.slice(1)})`);
    } catch (cause) {
      throw new ParseError(
        "PATTERN",
        `bad regular expression in host pattern \`${base}\`: ${(cause as Error).message}`,
        {
          hint: "after ~ write a JavaScript regular expression, e.g. `~web\\d+`; use a comma to separate terms that contain a colon",
          cause,
        },
      );
    }
    return (name) => re.test(name);
  }
  if (/[*?[]/.test(base)) {
    const re = globToRegExp(base);
    return (name) => re.test(name);
  }
  return (name) => name === base;
}

/** fnmatch-style glob: `*`, `?`, `[abc]`, `[!abc]`. */
function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (c === "[" && glob.indexOf("]", i + 2) > i) {
      const close = glob.indexOf("]", i + 2);
      let set = glob.slice(i + 1, close);
      if (set.startsWith("!")) set = `^${set.slice(1)}`;
      source += `[${set.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

function readLimitFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new ParseError("FILE_NOT_FOUND", `limit file not found: ${path}`, {
      location: { file: path },
      hint: "--limit @FILE reads host names from FILE, one a line; check the path",
      cause,
    });
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}
