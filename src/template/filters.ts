/**
 * Ansible's filters on lists, mappings, text encodings and paths, beside the ones in
 * transforms.ts; keyword arguments (`map(attribute='name')`) are matched to positions by
 * SIGNATURES before a filter runs.
 */
import { createHash, getHashes } from "node:crypto";
import { posix } from "node:path";
import { parse as parseYaml } from "yaml";
import { TicklessError } from "../errors.js";
import { expandUser } from "./expanduser.js";
import { truthy } from "./helpers.js";
import { toPlain } from "./scope.js";
import { pyJson, pyYaml } from "./serialize.js";

type Transform = (value: any, ...args: any[]) => unknown;

/** A `name=value` argument, as expression.ts hands it over. */
export class Keyword {
  constructor(
    readonly name: string,
    readonly value: unknown,
  ) {}
}

/** Each filter's arguments after the subject, by name, for keyword arguments. */
export const SIGNATURES: Record<string, string[]> = {
  default: ["default_value", "boolean"],
  d: ["default_value", "boolean"],
  int: ["default", "base"],
  float: ["default"],
  join: ["d"],
  split: ["sep"],
  replace: ["old", "new", "count"],
  regex_replace: ["pattern", "replacement"],
  regex_search: ["regex"],
  sort: ["reverse", "case_sensitive", "attribute"],
  dict2items: ["key_name", "value_name"],
  items2dict: ["key_name", "value_name"],
  to_json: ["indent", "sort_keys"],
  to_nice_json: ["indent", "sort_keys"],
  to_yaml: ["indent", "default_flow_style"],
  to_nice_yaml: ["indent", "default_flow_style"],
  ternary: ["true_val", "false_val", "none_val"],
  hash: ["hashtype"],
};

function fail(message: string, hint: string): never {
  throw new TicklessError("EXPRESSION", message, { hint });
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function items(value: unknown): unknown[] {
  if (Array.isArray(value)) return [...value];
  if (typeof value === "string") return [...value];
  if (isMapping(value)) return Object.keys(value);
  return [];
}

/** Python's == on plain data. */
function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(toPlain(a)) === JSON.stringify(toPlain(b));
}

function uniqueOf(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const item of list) if (!out.some((x) => same(x, item))) out.push(item);
  return out;
}

/** An attribute path `a.b.0` read from an item; undefined where it is missing. */
function attribute(item: unknown, path: string): unknown {
  let current = item;
  for (const part of String(path).split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function mergeInto(base: Record<string, unknown>, extra: Record<string, unknown>, deep: boolean) {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    out[key] = deep && isMapping(out[key]) && isMapping(value) ? mergeInto(out[key], value, true) : value;
  }
  return out;
}

/** Python's shlex.quote. */
function shellQuote(s: string): string {
  if (s === "") return "''";
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'"'"'`)}'`;
}

/**
 * Filters whose work is to pick and call other filters or tests (`map('upper')`,
 * `select('match', 'x')`): built from the tables they name.
 */
export function higherOrder(filters: Record<string, Transform>, tests: Record<string, Transform>) {
  const test = (name: unknown): Transform => {
    const fn = tests[String(name)];
    if (!fn) fail(`unknown test "${String(name)}"`, `tests: ${Object.keys(tests).join(", ")}`);
    return fn;
  };
  const keep = (list: unknown, pick: (item: unknown) => unknown, args: unknown[], want: boolean) =>
    items(list).filter((item) => {
      const subject = pick(item);
      const passed = args.length === 0 ? truthy(subject) : test(args[0])(subject, ...args.slice(1));
      return Boolean(passed) === want;
    });
  return {
    map: (value: unknown, ...args: unknown[]) => {
      const kw = args.find((a) => a instanceof Keyword) as Keyword | undefined;
      if (kw?.name === "attribute") return items(value).map((item) => attribute(item, String(kw.value)));
      if (kw) fail(`map has no argument "${kw.name}"`, "map('filter', …) or map(attribute='name')");
      const fn = filters[String(args[0])];
      if (!fn) fail(`unknown filter "${String(args[0])}" in map`, "map takes a filter's name");
      return items(value).map((item) => fn(item, ...args.slice(1)));
    },
    select: (value: unknown, ...args: unknown[]) => keep(value, (x) => x, args, true),
    reject: (value: unknown, ...args: unknown[]) => keep(value, (x) => x, args, false),
    selectattr: (value: unknown, attr: unknown, ...args: unknown[]) =>
      keep(value, (x) => attribute(x, String(attr)), args, true),
    rejectattr: (value: unknown, attr: unknown, ...args: unknown[]) =>
      keep(value, (x) => attribute(x, String(attr)), args, false),
  };
}

export const MORE_FILTERS: Record<string, Transform> = {
  replace: (value, old, replacement, count) => {
    const text = String(value ?? "");
    const parts = text.split(String(old));
    if (count === undefined || count === null || Number(count) < 0) return parts.join(String(replacement));
    const n = Number(count);
    return (
      parts.slice(0, n + 1).join(String(replacement)) +
      (parts.length > n + 1 ? String(old) : "") +
      parts.slice(n + 1).join(String(old))
    );
  },
  sort: (value, reverse = false, caseSensitive = false, attr?: string) => {
    const key = (x: unknown) => {
      const v = attr === undefined ? x : attribute(x, attr);
      return typeof v === "string" && !caseSensitive ? v.toLowerCase() : v;
    };
    const sorted = items(value).sort((a, b) => compare(key(a), key(b)));
    return reverse ? sorted.reverse() : sorted;
  },
  union: (value, other) => uniqueOf([...items(value), ...items(other)]),
  difference: (value, other) => uniqueOf(items(value).filter((x) => !items(other).some((y) => same(x, y)))),
  intersect: (value, other) => uniqueOf(items(value).filter((x) => items(other).some((y) => same(x, y)))),
  symmetric_difference: (value, other) => {
    const a = items(value);
    const b = items(other);
    return uniqueOf([
      ...a.filter((x) => !b.some((y) => same(x, y))),
      ...b.filter((x) => !a.some((y) => same(x, y))),
    ]);
  },
  dict2items: (value, keyName = "key", valueName = "value") => {
    if (!isMapping(value))
      fail("dict2items expects a mapping", "dict2items turns {k: v} into [{key: k, value: v}]");
    return Object.entries(value).map(([k, v]) => ({ [keyName]: k, [valueName]: v }));
  },
  items2dict: (value, keyName = "key", valueName = "value") =>
    Object.fromEntries(
      items(value).map((item) => [String(attribute(item, keyName)), attribute(item, valueName)]),
    ),
  combine: (value, ...args) => {
    const recursive = args.some((a) => a instanceof Keyword && a.name === "recursive" && truthy(a.value));
    const dicts = args.filter((a) => !(a instanceof Keyword)).flatMap((a) => (Array.isArray(a) ? a : [a]));
    let out = isMapping(value) ? (toPlain(value) as Record<string, unknown>) : {};
    for (const d of dicts)
      if (isMapping(d)) out = mergeInto(out, toPlain(d) as Record<string, unknown>, recursive);
    return out;
  },
  to_json: (value, indent, sortKeys = false) => pyJson(toPlain(value), indent, Boolean(sortKeys)),
  to_nice_json: (value, indent = 4, sortKeys = true) => pyJson(toPlain(value), indent, Boolean(sortKeys)),
  to_yaml: (value) => pyYaml(toPlain(value), false),
  to_nice_yaml: (value, indent = 4) => pyYaml(toPlain(value), true, Number(indent)),
  // the parsers' messages quote the text, which may be a secret: say where, never what
  from_json: (value) => {
    try {
      return JSON.parse(String(value));
    } catch {
      return fail("from_json: the text is not JSON", "from_json reads a JSON document");
    }
  },
  from_yaml: (value) => {
    try {
      return parseYaml(String(value));
    } catch (err) {
      const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
      return fail(
        `from_yaml: the text is not YAML${line ? ` (line ${line})` : ""}`,
        "from_yaml reads a YAML document",
      );
    }
  },
  ternary: (value, trueVal, falseVal, noneVal) =>
    value === null && noneVal !== undefined ? noneVal : truthy(value) ? trueVal : falseVal,
  basename: (value) => posix.basename(String(value ?? "")),
  dirname: (value) => posix.dirname(String(value ?? "")),
  expanduser: (value) => expandUser(String(value ?? "")),
  quote: (value) => shellQuote(String(value ?? "")),
  b64encode: (value) => Buffer.from(String(value ?? ""), "utf8").toString("base64"),
  b64decode: (value) => Buffer.from(String(value ?? ""), "base64").toString("utf8"),
  hash: (value, hashtype = "sha1") => {
    if (!getHashes().includes(String(hashtype)))
      fail(`hash: unknown hash type "${hashtype}"`, "sha1, sha256, md5, …");
    return createHash(String(hashtype))
      .update(String(value ?? ""), "utf8")
      .digest("hex");
  },
  checksum: (value) =>
    createHash("sha1")
      .update(String(value ?? ""), "utf8")
      .digest("hex"),
  type_debug: (value) =>
    value === null || value === undefined
      ? "NoneType"
      : Array.isArray(value)
        ? "list"
        : typeof value === "object"
          ? "dict"
          : typeof value === "string"
            ? "str"
            : typeof value === "boolean"
              ? "bool"
              : Number.isInteger(value)
                ? "int"
                : "float",
  flatten: (value) => items(value).flat(Number.POSITIVE_INFINITY),
  reverse: (value) => (typeof value === "string" ? [...value].reverse().join("") : items(value).reverse()),
};

/** Python's range(): range(stop), range(start, stop[, step]). */
export function range(a: unknown, b?: unknown, step: unknown = 1): number[] {
  const [start, stop] = b === undefined ? [0, Number(a)] : [Number(a), Number(b)];
  const by = Number(step);
  if (!Number.isInteger(start) || !Number.isInteger(stop) || !Number.isInteger(by) || by === 0)
    fail("range takes integers and a step that is not 0", "range(3), range(1, 4), range(0, 10, 2)");
  if (Math.abs((stop - start) / by) > 100_000)
    fail("range is too long (over 100000 items)", "use a smaller range");
  const out: number[] = [];
  for (let i = start; by > 0 ? i < stop : i > stop; i += by) out.push(i);
  return out;
}

/** Tests beyond transforms.ts's own: comparisons (`selectattr('x', 'equalto', 1)`) and numbers. */
export const MORE_TESTS: Record<string, Transform> = {
  equalto: (a, b) => same(a, b),
  eq: (a, b) => same(a, b),
  "==": (a, b) => same(a, b),
  ne: (a, b) => !same(a, b),
  "!=": (a, b) => !same(a, b),
  lt: (a, b) => compare(a, b) < 0,
  "<": (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  "<=": (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ">": (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  ">=": (a, b) => compare(a, b) >= 0,
  in: (a, b) => (typeof b === "string" ? b.includes(String(a)) : items(b).some((x) => same(x, a))),
  contains: (a, b) => (typeof a === "string" ? a.includes(String(b)) : items(a).some((x) => same(x, b))),
  odd: (a) => Number(a) % 2 === 1,
  even: (a) => Number(a) % 2 === 0,
  divisibleby: (a, b) => Number(a) % Number(b) === 0,
  lower: (a) => typeof a === "string" && a === a.toLowerCase(),
  upper: (a) => typeof a === "string" && a === a.toUpperCase(),
};
