/**
 * Python's methods on the values templates meet, as Jinja lets Ansible call them:
 * `x.split(',')`, `s.endswith('a')`, `d.get('k', 'def')`, `xs.index(2)`. rewrite.ts writes a call
 * `subject.name(args)` as `subject|__tickless_method(name, args)`; this file answers it with
 * Python's result, or Python's error words. Methods that change their subject (append, pop,
 * update, …) are refused before the run (expression.ts asks `methodProblem`).
 */
import { TicklessError } from "../errors.js";
import { Keyword } from "./filters.js";
import { bounds, fail, type Method, plain, pyType } from "./method-args.js";
import { pyFormat } from "./py-format.js";
import { pyRepr } from "./python.js";
import { STR_METHODS } from "./str-methods.js";

/** Python's methods that change their subject, and what an Ansible user writes instead. */
const MUTATING: Record<string, string> = {
  append: 'set_fact: { xs: "{{ xs + [item] }}" }',
  extend: 'set_fact: { xs: "{{ xs + more }}" }',
  insert: 'set_fact with the list built in order: { xs: "{{ [item] + xs }}" }',
  pop: "set_fact with a filter: xs | reject('equalto', x) | list, or d | dict2items | rejectattr(…)",
  remove: "set_fact: { xs: \"{{ xs | reject('equalto', x) | list }}\" }",
  clear: "set_fact: { xs: [] }",
  sort: "the sort filter: xs | sort",
  reverse: "the reverse filter: xs | reverse | list",
  update: 'set_fact: { d: "{{ d | combine(more) }}" }',
  setdefault: "set_fact: { d: \"{{ {'k': v} | combine(d) }}\" }",
  popitem: "set_fact with d | dict2items, then items2dict",
  add: 'set_fact: { s: "{{ s | union([x]) }}" }',
  discard: 'set_fact: { s: "{{ s | difference([x]) }}" }',
};

/** Python's other methods of str, list and dict, which tickless does not run. */
const NOT_RUN = new Set([
  "casefold",
  "encode",
  "expandtabs",
  "format_map",
  "isascii",
  "isidentifier",
  "isprintable",
  "maketrans",
  "partition",
  "removeprefix",
  "removesuffix",
  "rindex",
  "rpartition",
  "translate",
  "copy",
  "fromkeys",
]);

/**
 * Why a method cannot be called at all (refused before the run), or undefined. `firstArg` is the
 * type of the first argument's node: a written list where Python wants a tuple is refused too;
 * `subject` the name the method is called on, when it is a bare name (a datetime's are refused).
 */
export function methodProblem(
  name: string,
  firstArg?: string,
  subject?: string,
): { why: string; hint: string } | undefined {
  if (subject === "template_mtime" || subject === "template_run_date") {
    return {
      why: `the methods of a datetime are not supported: ${subject}.${name}()`,
      hint: `print it whole ({{ ${subject} }}), or compute the date in a task (command: date +%F, register)`,
    };
  }
  if ((name === "startswith" || name === "endswith") && firstArg === "ArrayLiteral") {
    return {
      why: `${name} first arg must be str or a tuple of str, not list`,
      hint: `write a tuple: x.${name}(('a', 'b'))`,
    };
  }
  if (Object.hasOwn(MUTATING, name)) {
    return {
      why: `.${name}() changes the value it is called on; tickless refuses it`,
      hint: `templates do not change variables: compute the new value, ${MUTATING[name]}`,
    };
  }
  if (NOT_RUN.has(name)) {
    return {
      why: `the method .${name}() is not supported`,
      hint: "tickless runs str's, list's and dict's common methods (docs/compat.md lists them); use a filter, or compute the value in a task",
    };
  }
  return undefined;
}

const DICT: Record<string, Method> = {
  get: plain(["key", "default"], 1, (d, key, dflt = null) => (hasKey(d, key) ? d[String(key)] : dflt)),
  keys: plain([], 0, (d) => Object.keys(d)),
  values: plain([], 0, (d) => Object.values(d)),
  items: plain([], 0, (d) => Object.entries(d)),
};

const LIST: Record<string, Method> = {
  index: plain(["value", "start", "stop"], 1, (xs: unknown[], value, start, stop) => {
    const [from, to] = bounds(xs.length, start, stop);
    for (let i = from; i < to; i++) if (same(xs[i], value)) return i;
    return fail(`${pyRepr(value)} is not in list`);
  }),
  count: plain(["value"], 1, (xs: unknown[], value) => xs.filter((x) => same(x, value)).length),
};

function hasKey(d: Record<string, unknown>, key: unknown): boolean {
  return (typeof key === "string" || typeof key === "number") && Object.hasOwn(d, String(key));
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

const STR: Record<string, Method> = {
  ...STR_METHODS,
  format: (s: string, args, kw) => pyFormat(s, args, kw),
};

/** `subject.name(…args)` with Python's semantics; Jinja's error for a method the type lacks. */
export function callMethod(subject: unknown, name: unknown, ...rest: unknown[]): unknown {
  const method = String(name);
  const args = rest.filter((a) => !(a instanceof Keyword));
  const kw = Object.fromEntries(
    rest.filter((a): a is Keyword => a instanceof Keyword).map((k) => [k.name, k.value]),
  );
  const table =
    typeof subject === "string"
      ? STR
      : Array.isArray(subject)
        ? LIST
        : subject !== null && typeof subject === "object"
          ? DICT
          : {};
  if (
    table === DICT &&
    Object.getPrototypeOf(subject) !== Object.prototype &&
    Object.getPrototypeOf(subject) !== null
  ) {
    throw new TicklessError("EXPRESSION", `the method .${method}() of ${pyRepr(subject)} is not supported`, {
      hint: "tickless runs the methods of str, list and dict only; use a filter, or compute the value in a task",
    });
  }
  const fn = Object.hasOwn(table, method) ? table[method] : undefined;
  if (!fn) {
    const what = subject === null || subject === undefined ? "'None'" : `'${pyType(subject)} object'`;
    throw new TicklessError("UNDEFINED_VARIABLE", `${what} has no attribute '${method}'`, {
      hint: `${pyType(subject)} has no method .${method}(): tickless runs Python's common str, list and dict methods (docs/compat.md lists them)`,
    });
  }
  return fn.call({ name: method }, subject, args, kw);
}
