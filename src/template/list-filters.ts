/**
 * Jinja's and Ansible's filters on lists, mappings, numbers and paths (dictsort, batch, slice,
 * items, zip, product, extract, splitext, path_join, mandatory, round), and the tests that
 * compare versions and sets (version, subset, superset, any, all, true, false, sameas, abs).
 * Python's tuples are lists here: a `dictsort` or `zip` printed whole shows `[…]` where
 * Python shows `(…)`; looping over them, unpacking and indexing are the same.
 */
import { TicklessError } from "../errors.js";
import { truthy } from "./helpers.js";
import { randomFilter } from "./py-random.js";
import { pyStr } from "./python.js";
import { toPlain } from "./scope.js";

type Transform = (value: any, ...args: any[]) => unknown;

function fail(message: string, hint: string): never {
  throw new TicklessError("EXPRESSION", message, { hint });
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function listOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return [...value];
  if (typeof value === "string") return [...value];
  if (isMapping(value)) return Object.keys(value);
  return [];
}

function pyType(value: unknown): string {
  if (value === null || value === undefined) return "NoneType";
  if (Array.isArray(value)) return "list";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  return typeof value === "string" ? "str" : typeof value === "boolean" ? "bool" : "dict";
}

/** Python's ordering of two values of one kind (numbers, or text, or lists of them). */
function pyCompare(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = pyCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b))
    fail(
      `'<' not supported between instances of '${pyType(a)}' and '${pyType(b)}'`,
      "sort values of one kind",
    );
  const [x, y] = [pyStr(a), pyStr(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

function dictsort(
  value: unknown,
  caseSensitive: unknown = false,
  by: unknown = "key",
  reverse: unknown = false,
) {
  if (!isMapping(value)) fail("dictsort expects a mapping", "dictsort sorts a mapping's (key, value) pairs");
  if (by !== "key" && by !== "value")
    fail("dictsort: you can only sort by either 'key' or 'value'", "by='key' or by='value'");
  const at = by === "key" ? 0 : 1;
  const key = (pair: unknown[]) => {
    const v = pair[at];
    return typeof v === "string" && !truthy(caseSensitive) ? v.toLowerCase() : v;
  };
  const pairs = Object.entries(value).sort((a, b) => pyCompare(key(a), key(b)));
  return truthy(reverse) ? pairs.reverse() : pairs;
}

function batch(value: unknown, count: unknown, fill?: unknown): unknown[][] {
  const n = Number(count);
  if (!Number.isInteger(n) || n < 1) fail("batch needs a count of at least 1", "batch(3)");
  const out: unknown[][] = [];
  const list = listOf(value);
  for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
  const last = out.at(-1);
  if (last && fill !== undefined && fill !== null) while (last.length < n) last.push(fill);
  return out;
}

/** Jinja's slice: the list in `count` columns, the first ones one longer. */
function slice(value: unknown, count: unknown, fill?: unknown): unknown[][] {
  const slices = Number(count);
  if (!Number.isInteger(slices) || slices < 1) fail("slice needs a count of at least 1", "slice(3)");
  const list = listOf(value);
  const per = Math.floor(list.length / slices);
  const extra = list.length % slices;
  const out: unknown[][] = [];
  let offset = 0;
  for (let i = 0; i < slices; i++) {
    const start = offset + i * per;
    if (i < extra) offset++;
    const part = list.slice(start, offset + (i + 1) * per);
    if (fill !== undefined && fill !== null && i >= extra) part.push(fill);
    out.push(part);
  }
  return out;
}

function product(...lists: unknown[]): unknown[][] {
  return lists
    .map(listOf)
    .reduce<unknown[][]>((acc, list) => acc.flatMap((prefix) => list.map((x) => [...prefix, x])), [[]]);
}

/** Python's round(): halves to even, on the exact value of the number. */
function pyRound(value: number, digits: number): number {
  if (!Number.isFinite(value)) return value;
  const exact = value.toFixed(Math.min(100, digits + 40));
  const [whole, frac = ""] = exact.replace("-", "").split(".");
  const kept = whole + frac.slice(0, digits);
  const rest = frac.slice(digits);
  let n = BigInt(kept);
  const half = rest[0] === "5" && /^0*$/.test(rest.slice(1));
  if (rest[0] > "5" || (rest[0] === "5" && !half) || (half && n % 2n === 1n)) n += 1n;
  const text = n.toString().padStart(digits + 1, "0");
  const result = Number(digits > 0 ? `${text.slice(0, -digits)}.${text.slice(-digits)}` : text);
  return value < 0 ? -result : result;
}

function round(value: unknown, precision: unknown = 0, method: unknown = "common"): number {
  const n = Number(value);
  const p = Number(precision);
  if (method === "common") return pyRound(n, p);
  if (method !== "ceil" && method !== "floor")
    fail("round: method must be 'common', 'ceil' or 'floor'", "round(2, 'floor')");
  return Math[method](n * 10 ** p) / 10 ** p;
}

/** Python's os.path.splitext. */
function splitext(value: unknown): [string, string] {
  const path = pyStr(value);
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  if (dot <= 0 || /^\.+$/.test(base.slice(0, dot + 1))) return [path, ""];
  const cut = path.length - base.length + dot;
  return [path.slice(0, cut), path.slice(cut)];
}

/** Python's os.path.join: an absolute part starts afresh. */
function pathJoin(value: unknown): string {
  const parts = typeof value === "string" ? [value] : Array.isArray(value) ? value.map(pyStr) : undefined;
  if (!parts) fail("|path_join expects string or sequence", "path_join takes a list of path parts");
  let out = "";
  for (const part of parts) {
    if (part.startsWith("/")) out = part;
    else if (out === "" || out.endsWith("/")) out += part;
    else out += `/${part}`;
  }
  return out;
}

export const LIST_FILTERS: Record<string, Transform> = {
  random: randomFilter,
  dictsort,
  batch,
  slice,
  items: (value) => {
    if (value === undefined || value === null) return [];
    if (!isMapping(value)) fail("items: can only get item pairs from a mapping", "items takes a mapping");
    return Object.entries(value);
  },
  zip: (value, ...others) => {
    const lists = [value, ...others].map(listOf);
    const n = Math.min(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_, i) => lists.map((l) => l[i]));
  },
  product,
  extract: (item, container, morekeys) => {
    const keys =
      morekeys === undefined ? [item] : [item, ...(Array.isArray(morekeys) ? morekeys : [morekeys])];
    let current: unknown = container;
    for (const key of keys) {
      const next =
        current !== null && typeof current === "object"
          ? (current as Record<string, unknown>)[String(key)]
          : undefined;
      if (next === undefined)
        fail(`extract: no key ${pyStr(key)} in the container`, "extract picks a key of each container");
      current = next;
    }
    return current;
  },
  splitext,
  path_join: pathJoin,
  mandatory: (value, msg) => {
    if (value === undefined)
      fail(msg === undefined ? "Mandatory variable not defined." : pyStr(msg), "define the variable");
    return value;
  },
  round,
};

export const LIST_SIGNATURES: Record<string, string[]> = {
  random: ["start", "step", "seed"],
  dictsort: ["case_sensitive", "by", "reverse"],
  batch: ["linecount", "fill_with"],
  slice: ["slices", "fill_with"],
  extract: ["container", "morekeys"],
  mandatory: ["msg"],
  round: ["precision", "method"],
};

/** LooseVersion's parts: numbers as numbers, letters as text, dots dropped. */
function looseParts(text: string): (number | string)[] {
  return text
    .split(/(\d+|[a-z]+|\.)/)
    .filter((p) => p && p !== ".")
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function compareLoose(a: string, b: string): number {
  const [x, y] = [looseParts(a), looseParts(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (typeof x[i] !== typeof y[i])
      fail(
        `Version comparison failed: '<' not supported between instances of '${typeof x[i] === "number" ? "int" : "str"}' and '${typeof y[i] === "number" ? "int" : "str"}'`,
        "compare versions of the same shape, 1.2.3 with 1.10",
      );
    if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

const OPERATORS: Record<string, (c: number) => boolean> = {
  eq: (c) => c === 0,
  lt: (c) => c < 0,
  le: (c) => c <= 0,
  gt: (c) => c > 0,
  ge: (c) => c >= 0,
  ne: (c) => c !== 0,
};
const OPERATOR_NAMES: Record<string, string> = {
  "==": "eq",
  "=": "eq",
  "<": "lt",
  "<=": "le",
  ">": "gt",
  ">=": "ge",
  "!=": "ne",
  "<>": "ne",
};

function version(value: unknown, other: unknown, operator: unknown = "eq"): boolean {
  if (!truthy(value)) fail("Input version value cannot be empty", "test a version string");
  if (!truthy(other)) fail("Version parameter to compare against cannot be empty", "version('1.2', '>=')");
  const name = OPERATOR_NAMES[String(operator)] ?? String(operator);
  const test = OPERATORS[name];
  if (!test) fail(`Invalid operator type (${operator})`, "==, !=, <, <=, >, >=, eq, ne, lt, le, gt, ge");
  return test(compareLoose(pyStr(value), pyStr(other)));
}

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(toPlain(a)) === JSON.stringify(toPlain(b));
}

export const LIST_TESTS: Record<string, Transform> = {
  version,
  version_compare: version,
  subset: (a, b) => listOf(a).every((x) => listOf(b).some((y) => same(x, y))),
  superset: (a, b) => listOf(b).every((x) => listOf(a).some((y) => same(x, y))),
  any: (a) => listOf(a).some(truthy),
  all: (a) => listOf(a).every(truthy),
  true: (a) => a === true,
  false: (a) => a === false,
  // Python's `is`: the same object; True, False, None and the small ints are one object each
  sameas: (a, b) =>
    a === b && (a === null || typeof a === "boolean" || (Number.isInteger(a) && a >= -5 && a <= 256)),
  abs: (a) => pyStr(a).startsWith("/"),
};
