import { TicklessError } from "../errors.js";
import { cpuListToMask, parseCpuList } from "../modules/isolation/cpus.js";
import { toCpuList, toInt, truthy } from "./helpers.js";
import { toPlain } from "./scope.js";

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
  if (value === undefined || value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "object") return JSON.stringify(toPlain(value));
  return String(value);
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

/** A registered result's flag for the failed/changed/skipped tests. */
/** Names of the tests on a registered result: expression.ts hands them the subject's name (never its value). */
export const RESULT_TESTS = new Set(["failed", "succeeded", "success", "changed", "skipped"]);

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

/**
 * Jinja-like filters, written with jexl's pipe: `x|default(false)|bool`.
 * default/d(fallback, [ifFalsy]) · bool · int([fallback], [base]) · float · string · length/count ·
 * lower · upper · trim · split([sep]) · join([sep]) · first · last · unique · keys · values ·
 * list · min · max · sum · abs · cpumask([nrCpus]) · cpulist(['list'|'mask']) · mask_to_cpulist ·
 * regex_search(pattern) (the match or null) · regex_replace(pattern, replacement).
 */
export const FILTERS: Record<string, Transform> = {
  default: (value, fallback, ifFalsy = false) =>
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
  min: (value) => Math.min(...listOf(value).map(Number)),
  max: (value) => Math.max(...listOf(value).map(Number)),
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
 * defined · undefined · none · failed · succeeded/success · changed · skipped · truthy ·
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
TESTS.success = TESTS.succeeded;
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
]);

/** Every transform jexl gets: the filters, and each test as is_NAME and is_not_NAME. */
export function allTransforms(): Record<string, Transform> {
  const all: Record<string, Transform> = { ...FILTERS };
  for (const [name, test] of Object.entries(TESTS)) {
    all[`is_${name}`] = test;
    all[`is_not_${name}`] = (value, ...args) => !test(value, ...args);
  }
  return all;
}
