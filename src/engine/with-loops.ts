/**
 * `with_<lookup>` loops: the items ansible-core's lookup plugin of that name gives for the terms
 * written (already rendered), with its error words; and the variables loop_control adds per item.
 */
import { readdirSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { TicklessError } from "../errors.js";
import { fnmatchRegExp } from "../modules/util/fnmatch.js";
import { parseKv } from "../playbook/kv.js";
import type { LoopFields } from "../playbook/types.js";
import { pyFormatInt, pyStr } from "./py-format.js";

type Lookup = (terms: unknown, searchDirs: string[]) => unknown[];

/** The with_ loops whose plugins live here (the others: template/lookup-plugins.ts). */
export type SharedLookup =
  | "items"
  | "list"
  | "dict"
  | "indexed_items"
  | "together"
  | "nested"
  | "subelements"
  | "sequence"
  | "fileglob";

/** The plugins behind the loops, shared with `lookup(…)` and `query(…)` (template/lookup-plugins.ts). */
export const WITH_LOOKUP_PLUGINS: Record<SharedLookup, Lookup> = {
  items: (terms) => flatten(iterate(terms)),
  list: (terms) => {
    if (!Array.isArray(terms)) fail("with_list expects a list");
    return terms as unknown[];
  },
  dict: (terms) =>
    (Array.isArray(terms) ? terms : [terms]).flatMap((term) => {
      if (!isMapping(term)) fail("with_dict expects a dict");
      return Object.entries(term as Record<string, unknown>).map(([key, value]) => ({ key, value }));
    }),
  indexed_items: (terms) => {
    if (!Array.isArray(terms)) fail("with_indexed_items expects a list");
    return flatten(terms as unknown[]).map((item, i) => [i, item]);
  },
  together: (terms) => {
    const lists = iterate(terms).map((t) => iterate(listify(t)));
    if (lists.length === 0) fail("with_together requires at least one element in each list");
    const longest = Math.max(...lists.map((l) => l.length));
    return Array.from({ length: longest }, (_, i) => flatten(lists.map((l) => (i < l.length ? l[i] : null))));
  },
  nested: (terms) => {
    const lists = iterate(terms).map((t) => iterate(listify(t)));
    if (lists.length === 0) fail("with_nested requires at least one element in the nested list");
    let result = lists[0];
    for (const next of lists.slice(1)) result = result.flatMap((x) => next.map((y) => flatten([x, y])));
    return result.map((x) => flatten(iterate(x)));
  },
  subelements,
  sequence: (terms) => iterate(terms).flatMap((term) => sequence(String(term))),
  fileglob: (terms, searchDirs) => iterate(terms).flatMap((term) => fileglob(String(term), searchDirs)),
};

/**
 * The items of a `with_<lookup>` loop. `rendered` is the written value with its templates
 * rendered; `searchDirs` are where with_fileglob looks (the task file's directory, then the
 * playbook's), each with its files/ first, as Ansible's search path.
 */
export function withLoopItems(lookup: SharedLookup, rendered: unknown, searchDirs: string[]): unknown[] {
  return WITH_LOOKUP_PLUGINS[lookup](listify(rendered), searchDirs);
}

/** The variables an item adds: the loop var, and index_var and ansible_loop when loop_control asks. */
export function loopItemVars(node: LoopFields, items: readonly unknown[], index: number) {
  const vars: Record<string, unknown> = { ansible_loop_var: node.loopVar, [node.loopVar]: items[index] };
  if (node.indexVar !== undefined) {
    vars.ansible_index_var = node.indexVar;
    vars[node.indexVar] = index;
  }
  if (node.loopExtended) vars.ansible_loop = extendedLoop(node.loopExtended.allItems, items, index);
  return vars;
}

function extendedLoop(allItems: boolean, items: readonly unknown[], index: number) {
  const length = items.length;
  const loop: Record<string, unknown> = {
    index: index + 1,
    index0: index,
    first: index === 0,
    last: index + 1 === length,
    length,
    revindex: length - index,
    revindex0: length - index - 1,
  };
  if (allItems) loop.allitems = items;
  if (index + 1 < length) loop.nextitem = items[index + 1];
  if (index > 0) loop.previtem = items[index - 1];
  return loop;
}

function fail(message: string): never {
  throw new TicklessError("TASK", message);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Ansible's listify_lookup_plugin_terms: a string or a scalar becomes a list of one. */
function listify(value: unknown): unknown {
  return Array.isArray(value) || isMapping(value) ? value : [value];
}

/** What Python's iteration gives: a list's items, a mapping's keys. */
function iterate(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isMapping(value)) return Object.keys(value);
  return [value];
}

/** LookupBase._flatten: one level. */
function flatten(terms: readonly unknown[]): unknown[] {
  return terms.flatMap((t) => (Array.isArray(t) ? t : [t]));
}

function subelements(written: unknown): unknown[] {
  const termsError = (msg = "") => fail(`subelements lookup expects a list of two or three items, ${msg}`);
  if (!Array.isArray(written) || written.length < 2 || written.length > 3) termsError();
  const terms = written as unknown[];
  const first = listify(terms[0]);
  if (typeof terms[1] !== "string")
    termsError("first a dict or a list, second a string pointing to the subkey");
  const keys = (terms[1] as string).split(".");
  if (isMapping(first) && first.skipped !== undefined && first.skipped !== false) return [];
  const elements = isMapping(first) ? Object.values(first) : (first as unknown[]);
  const flags = terms[2] ?? {};
  if (!isMapping(flags) || Object.keys(flags).some((k) => k !== "skip_missing"))
    termsError("the optional third item must be a dict with flags ['skip_missing']");
  const skipMissing = /^(true|yes|on|1|y|t)$/i.test(String((flags as Record<string, unknown>).skip_missing));
  const items: unknown[] = [];
  for (const element of elements) {
    if (!isMapping(element)) fail(`subelements lookup expects a dictionary, got '${pyStr(element)}'`);
    if (element.skipped !== undefined && element.skipped !== false) continue;
    // the parent is a copy without the list (ansible-core pops it from its rendered copy)
    const parent = structuredClone(element);
    let value: Record<string, unknown> = parent;
    let list: unknown[] = [];
    for (const [i, key] of keys.entries()) {
      if (!(key in value)) {
        if (skipMissing) continue;
        fail(`could not find '${key}' key in iterated item '${pyStr(value)}'`);
      }
      const sub = value[key];
      if (i < keys.length - 1) {
        if (isMapping(sub)) value = sub;
        else if (!skipMissing) fail(`the key ${key} should point to a dictionary, got '${pyStr(sub)}'`);
      } else if (!Array.isArray(sub)) {
        fail(`the key ${key} should point to a list, got '${pyStr(sub)}'`);
      } else {
        list = sub;
        delete value[key];
      }
    }
    for (const sub of list) items.push([parent, sub]);
  }
  return items;
}

const NUM = "(0?x?[0-9a-f]+)";
const SHORTCUT = new RegExp(`^(${NUM}-)?${NUM}(/${NUM})?(:(.+))?$`, "is");

/** Python's int(text, 0): decimal, 0x…, 0o…, 0b…; anything else is not a number. */
function pyInt(name: string, text: string): number {
  const t = text.trim().replace(/(?<=[0-9a-f])_(?=[0-9a-f])/gi, "");
  const m = /^([+-]?)(0x[0-9a-f]+|0o[0-7]+|0b[01]+|0+|[1-9][0-9]*)$/i.exec(t);
  if (!m) fail(`can't parse ${name}=${text} as integer`);
  const digits = m[2];
  const radix = /^0x/i.test(digits) ? 16 : /^0o/i.test(digits) ? 8 : /^0b/i.test(digits) ? 2 : 10;
  const value = Number.parseInt(radix === 10 ? digits : digits.slice(2), radix);
  return m[1] === "-" ? -value : value;
}

/** with_sequence: `[start-]end[/stride][:format]` or `start= end= count= stride= format=`. */
function sequence(term: string): string[] {
  const s: { start: number; end?: number; count?: number; stride: number; format: string } = {
    start: 1,
    stride: 1,
    format: "%d",
  };
  const short = SHORTCUT.exec(term);
  if (short) {
    if (short[2] !== undefined) s.start = pyInt("start", short[2]);
    s.end = pyInt("end", short[3]);
    if (short[5] !== undefined) s.stride = pyInt("stride", short[5]);
    if (short[7] !== undefined) s.format = short[7];
  } else {
    const args = new Map<string, string>();
    const raw: string[] = [];
    for (const word of parseKv(term)) {
      if ("key" in word) args.set(word.key, word.value);
      else raw.push(word.raw);
    }
    if (raw.length > 0) args.set("_raw_params", raw.join(" "));
    for (const name of ["start", "end", "count", "stride"] as const) {
      const raw = args.get(name);
      args.delete(name);
      if (raw !== undefined) s[name] = pyInt(name, raw);
    }
    if (args.has("format")) s.format = args.get("format") ?? "%d";
    args.delete("format");
    if (args.size > 0)
      fail(`unrecognized arguments to with_sequence: [${[...args.keys()].map((k) => `'${k}'`).join(", ")}]`);
  }
  if (s.count === undefined && s.end === undefined) fail("must specify count or end in with_sequence");
  if (s.count !== undefined && s.end !== undefined) fail("can't specify both count and end in with_sequence");
  if (s.count !== undefined) {
    if (s.count !== 0) s.end = s.start + s.count * s.stride - 1;
    else Object.assign(s, { start: 0, end: 0, stride: 0 });
  }
  const end = s.end as number;
  if (s.stride > 0 && end < s.start) fail("to count backwards make stride negative");
  if (s.stride < 0 && end > s.start) fail("to count forward don't make stride negative");
  if (s.format.split("%").length !== 2) fail(`bad formatting string: ${s.format}`);
  if (s.stride === 0) return [];
  const out: string[] = [];
  const stop = end + (s.stride > 0 ? 1 : -1);
  for (let i = s.start; s.stride > 0 ? i < stop : i > stop; i += s.stride) {
    const formatted = pyFormatInt(s.format, i);
    if (formatted === undefined) fail(`problem formatting ${i} with '${s.format}'`);
    out.push(formatted);
  }
  return out;
}

/** with_fileglob: files (not directories) whose name matches, from the first place that has any. */
function fileglob(term: string, searchDirs: string[]): string[] {
  const pattern = basename(term);
  const dirs =
    pattern === term
      ? searchDirs.flatMap((d) => [join(d, "files"), d])
      : [findDir(dirname(term), searchDirs)].filter((d): d is string => d !== undefined);
  for (const dir of dirs) {
    const found = globDir(dir, pattern);
    if (found.length > 0) return found;
  }
  return [];
}

/** Ansible's path_dwim_relative_stack for a directory: <dir>/files/<needle>, then <dir>/<needle>. */
function findDir(needle: string, searchDirs: string[]): string | undefined {
  if (isAbsolute(needle)) return exists(needle) ? needle : undefined;
  const candidates = searchDirs.flatMap((d) => [
    ...(needle.split("/")[0] === "files" ? [] : [join(d, "files", needle)]),
    join(d, needle),
  ]);
  return candidates.find(exists);
}

function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** Python's glob.glob in one directory: fnmatch on names, dot files only for a pattern starting with a dot. */
function globDir(dir: string, pattern: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const re = fnmatchRegExp(pattern);
  return names
    .filter((n) => re.test(n) && (pattern.startsWith(".") || !n.startsWith(".")))
    .map((n) => join(dir, n))
    .filter((p) => statSync(p, { throwIfNoEntry: false })?.isFile() ?? false)
    .sort();
}
