import { TicklessError } from "../errors.js";
import { cpuListToMask, parseCpuList } from "../modules/isolation/cpus.js";
import { higherOrder, Keyword, MORE_FILTERS, MORE_TESTS, SIGNATURES } from "./filters.js";
import { toCpuList, toInt, truthy } from "./helpers.js";
import { LIST_FILTERS, LIST_SIGNATURES, LIST_TESTS } from "./list-filters.js";
import { pyStr } from "./python.js";
import { CYCLE } from "./rewrite.js";
import { TEXT_FILTERS, TEXT_SIGNATURES } from "./text-filters.js";

type Transform = (value: any, ...args: any[]) => unknown;

/** Ansible's `bool`: yes/on/true/1 (any case) are true, everything else false. */
function toBool(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value === 1;
  return ["yes", "on", "true", "1", "y", "t"].includes(
    String(value ?? "")
      .trim()
      .toLowerCase(),
  );
}

/** Python's str() for the values expressions meet. */
export function toText(value: unknown): string {
  return pyStr(value);
}

function listOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === "string") return [...value];
  if (value !== null && typeof value === "object") return Object.keys(value);
  return [];
}

function regex(pattern: unknown, flags = ""): RegExp {
  try {
    return new RegExp(String(pattern), flags);
  } catch (err) {
    // the pattern may come from a variable: say what is wrong with it, never what it is
    const why = (err as Error).message.split(": ").pop();
    throw new TicklessError("EXPRESSION", `invalid regular expression: ${why}`, {
      hint: "regex_search and the match/search tests take JavaScript regular expressions",
      cause: err,
    });
  }
}

/** What a value is, without its content (which may be a secret): "a string", "a list", … */
function kindOf(value: unknown): string {
  if (value === undefined || value === null) return "None";
  if (Array.isArray(value)) return "a list";
  return typeof value === "string"
    ? "a string"
    : typeof value === "object"
      ? "a mapping"
      : `a ${typeof value}`;
}

/** The least (sign -1) or greatest (sign 1) item: numbers by value, anything else as text. */
function extreme(list: unknown[], sign: number): unknown {
  const numeric = list.every((x) => typeof x === "number");
  const key = (x: unknown) => (numeric ? (x as number) : toText(x));
  return list.reduce(
    (best, x) => ((key(x) > key(best) ? 1 : key(x) < key(best) ? -1 : 0) === sign ? x : best),
    list[0],
  );
}

/** Names of the tests on a registered result: expression.ts hands them the subject's name (never its value). */
export const RESULT_TESTS = new Set([
  "failed",
  "failure",
  "succeeded",
  "success",
  "successful",
  "changed",
  "change",
  "skipped",
  "skip",
  "started",
  "finished",
]);

function resultFlag(test: string, flag: string): Transform {
  return (value: unknown, subject?: unknown) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      const named = typeof subject === "string" ? `"${subject}": ` : "";
      throw new TicklessError(
        "EXPRESSION",
        `${named}the "${test}" test needs a registered result, not ${kindOf(value)}`,
        {
          hint: "register the task's result (register: name) and test that name",
        },
      );
    }
    return (value as Record<string, unknown>)[flag] === true;
  };
}

/** `started` / `finished` of an async job's result (0 or 1); a result without the field counts as true, as ansible-core's. */
function jobFlag(test: string): Transform {
  const mapping = resultFlag(test, test);
  return (value: unknown, subject?: unknown) => {
    mapping(value, subject);
    const result = value as Record<string, unknown>;
    return !(test in result) || result[test] === 1 || result[test] === true;
  };
}

/**
 * Jinja-like filters, written with jexl's pipe: `x|default(false)|bool`.
 * default/d(fallback, [ifFalsy]) · bool · int([fallback], [base]) · float · string · length/count ·
 * lower · upper · trim · split([sep]) · join([sep]) · first · last · unique · keys · values ·
 * list · min · max · sum · abs · cpumask([nrCpus]) · cpulist(['list'|'mask']) · mask_to_cpulist ·
 * regex_search(pattern) (the match or null) · regex_replace(pattern, replacement).
 */
export const FILTERS: Record<string, Transform> = {
  default: (value, fallback = "", ifFalsy = false) =>
    value === undefined || (ifFalsy && !truthy(value)) ? fallback : value,
  bool: toBool,
  int: (value, fallback = 0, base = 10) => toInt(value, fallback, toInt(base)),
  float: (value, fallback = 0) => {
    const n = Number.parseFloat(String(value));
    return Number.isFinite(n) ? n : fallback;
  },
  string: toText,
  length: (value) => listOf(value).length,
  lower: (value) => toText(value).toLowerCase(),
  upper: (value) => toText(value).toUpperCase(),
  trim: (value) => toText(value).trim(),
  split: (value, sep) =>
    sep === undefined ? toText(value).trim().split(/\s+/) : toText(value).split(String(sep)),
  join: (value, sep = "") => listOf(value).map(toText).join(String(sep)),
  first: (value) => listOf(value)[0],
  last: (value) => listOf(value).at(-1),
  unique: (value) => [...new Set(listOf(value))],
  keys: (value) => (value !== null && typeof value === "object" ? Object.keys(value) : []),
  values: (value) => (value !== null && typeof value === "object" ? Object.values(value) : []),
  list: listOf,
  min: (value) => extreme(listOf(value), -1),
  max: (value) => extreme(listOf(value), 1),
  sum: (value) => listOf(value).reduce((acc: number, n) => acc + Number(n), 0),
  abs: (value) => Math.abs(Number(value)),
  cpumask: (value, nrCpus) =>
    cpuListToMask(parseCpuList(value), nrCpus === undefined ? undefined : toInt(nrCpus)),
  cpulist: (value, from) => toCpuList(value, from),
  mask_to_cpulist: (value) => toCpuList(value, "mask"),
  regex_search: (value, pattern) => regex(pattern).exec(toText(value))?.[0] ?? null,
  regex_replace: (value, pattern, replacement = "") =>
    toText(value).replace(regex(pattern, "g"), String(replacement).replace(/\\(\d)/g, "$$$1")),
};
FILTERS.d = FILTERS.default;
FILTERS.count = FILTERS.length;

/**
 * Ansible tests, written `x is NAME` / `x is not NAME` (rewritten to `x|is_NAME`):
 * defined · undefined · none · failed/failure · succeeded/success/successful · changed/change ·
 * skipped/skip · started · finished · truthy ·
 * falsy · string · number · integer · boolean · mapping · sequence/iterable ·
 * match(re) (anchored at the start) · search(re) · regex(re).
 */
export const TESTS: Record<string, Transform> = {
  defined: (value) => value !== undefined,
  undefined: (value) => value === undefined,
  none: (value) => value === null,
  failed: resultFlag("failed", "failed"),
  succeeded: (value, subject) => !resultFlag("succeeded", "failed")(value, subject),
  changed: resultFlag("changed", "changed"),
  skipped: resultFlag("skipped", "skipped"),
  started: jobFlag("started"),
  finished: jobFlag("finished"),
  truthy: (value) => truthy(value),
  falsy: (value) => !truthy(value),
  string: (value) => typeof value === "string",
  number: (value) => typeof value === "number",
  integer: (value) => Number.isInteger(value),
  boolean: (value) => typeof value === "boolean",
  mapping: (value) => value !== null && typeof value === "object" && !Array.isArray(value),
  sequence: (value) => Array.isArray(value) || typeof value === "string",
  match: (value, pattern) => regex(`^(?:${pattern})`).test(toText(value)),
  search: (value, pattern) => regex(pattern).test(toText(value)),
};
// ansible-core's other names for them
TESTS.success = TESTS.succeeded;
TESTS.successful = TESTS.succeeded;
TESTS.failure = TESTS.failed;
TESTS.change = TESTS.changed;
TESTS.skip = TESTS.skipped;
TESTS.iterable = TESTS.sequence;
TESTS.regex = TESTS.search;

/** Transforms whose subject may be an undefined variable without error. */
export const GUARDS = new Set([
  "default",
  "d",
  "is_defined",
  "is_not_defined",
  "is_undefined",
  "is_not_undefined",
  "mandatory",
]);

Object.assign(FILTERS, MORE_FILTERS, TEXT_FILTERS, LIST_FILTERS);
Object.assign(TESTS, MORE_TESTS, LIST_TESTS);
Object.assign(SIGNATURES, TEXT_SIGNATURES, LIST_SIGNATURES);
/** `loop.cycle(a, b)` in a for loop's body (rewrite.ts turns it into this transform). */
FILTERS[CYCLE] = (loop, ...args) => {
  const index = (loop as { index0?: unknown } | undefined)?.index0;
  if (typeof index !== "number" || args.length === 0)
    throw new TicklessError("EXPRESSION", "loop.cycle() needs a for loop and at least one value", {
      hint: "{% for x in xs %}{{ loop.cycle('odd', 'even') }}{% endfor %}",
    });
  return args[index % args.length];
};
Object.assign(FILTERS, higherOrder(FILTERS, TESTS));

/** Filters that read their keyword arguments themselves. */
const KEYWORD_AWARE = new Set(["map", "combine", "comment", "format"]);

/** Puts `name=value` arguments at their place in the filter's signature. */
function withKeywords(name: string, fn: Transform): Transform {
  if (KEYWORD_AWARE.has(name)) return fn;
  const signature = SIGNATURES[name] ?? [];
  return (value, ...args) => {
    if (!args.some((a) => a instanceof Keyword)) return fn(value, ...args);
    const placed: unknown[] = [];
    for (const arg of args) {
      if (!(arg instanceof Keyword)) {
        placed.push(arg);
        continue;
      }
      const at = signature.indexOf(arg.name);
      if (at < 0) {
        const known = signature.length ? `it takes ${signature.join(", ")}` : "it takes none";
        throw new TicklessError("EXPRESSION", `filter "${name}" has no keyword argument "${arg.name}"`, {
          hint: known,
        });
      }
      placed[at] = arg.value;
    }
    return fn(value, ...placed);
  };
}

/** Every transform jexl gets: the filters, and each test as is_NAME and is_not_NAME. */
export function allTransforms(): Record<string, Transform> {
  const all: Record<string, Transform> = {};
  for (const [name, filter] of Object.entries(FILTERS)) all[name] = withKeywords(name, filter);
  for (const [name, test] of Object.entries(TESTS)) {
    all[`is_${name}`] = test;
    all[`is_not_${name}`] = (value, ...args) => !test(value, ...args);
  }
  return all;
}
