import { posix } from "node:path";
import type Handlebars from "handlebars";
import { quote } from "shell-quote";
import { stringify as toYaml } from "yaml";
import { TicklessError } from "../errors.js";
import { cpuListToMask, formatCpuList, maskToCpuList, parseCpuList } from "../modules/isolation/cpus.js";
import { loadgenCpu } from "../modules/redis/protocol.js";
import { toPlain } from "./scope.js";

/** The name of the internal helper that hands a single `{{ … }}`'s native value back. */
export const NATIVE_HELPER = "__tickless_native";

/** What the runtime `data` carries for NATIVE_HELPER. */
export interface NativeSlot {
  value?: unknown;
}

type HelperOptions = Handlebars.HelperOptions & { name?: string; loc?: hbs.AST.SourceLocation };

/** Handlebars built-ins removed from the environment (see registerHelpers). */
export const UNDOCUMENTED_BUILTINS = ["log", "lookup", "with"] as const;

/** Handlebars' internal helpers: not for templates, not listed in hints. */
export const INTERNAL_HELPERS = new Set([NATIVE_HELPER, "helperMissing", "blockHelperMissing"]);

/** Helpers that take undefined variables on purpose (guards and tests). */
const LENIENT_HELPERS = new Set(["default", "eq", "ne", "and", "or", "not"]);

/** Thrown by a helper given an undefined argument; the renderer names the variable from the AST. */
export class MissingArgument extends Error {
  readonly index: number;
  readonly helper: string;
  readonly loc?: hbs.AST.SourceLocation;

  constructor(index: number, options: HelperOptions) {
    super(`argument ${index + 1} of helper "${options.name}" is undefined`);
    this.index = index;
    this.helper = options.name ?? "";
    this.loc = options.loc;
  }
}

/** Wraps a helper so that an undefined positional argument is an error, as in Ansible. */
function strictArgs(helper: (...args: any[]) => unknown): (...args: any[]) => unknown {
  return (...args: unknown[]) => {
    for (let i = 0; i < args.length - 1; i++) {
      if (args[i] === undefined) throw new MissingArgument(i, args[args.length - 1] as HelperOptions);
    }
    return helper(...args);
  };
}

/** Splits a helper call's arguments from the trailing Handlebars options object. */
function split(args: unknown[]): { params: unknown[]; options: HelperOptions } {
  return { params: args.slice(0, -1), options: args[args.length - 1] as HelperOptions };
}

/** Python-like truthiness: empty lists and mappings are false too. */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === "object") return Object.keys(value).length > 0;
  return Boolean(value);
}

/** A cpu list written as a list, a number or a kernel cpulist string. */
function cpusOf(value: unknown): number[] {
  return parseCpuList(value as string | number | number[]);
}

/**
 * A CPU list normalised ("3,1,2" → "1-3"), or with `from` "mask" an smp_affinity mask read
 * ("f0" → "4-7"). It never guesses: "10" is CPU 10 unless the caller says it is a mask.
 */
export function toCpuList(value: unknown, from?: unknown): string {
  if (from === "mask") return formatCpuList(maskToCpuList(String(value)));
  if (from !== undefined && from !== "list") {
    throw new TicklessError("TEMPLATE", `cpulist: unknown source kind ${JSON.stringify(from)}`, {
      hint: 'pass "list" (the default) or "mask", or use mask_to_cpulist for a hex mask',
    });
  }
  return formatCpuList(cpusOf(value));
}

/**
 * Integer conversion as Ansible's `int` filter: "42" → 42, "3.9" → 3, junk → fallback;
 * hex needs base 16 ("1f" or "0x1f").
 */
export function toInt(value: unknown, fallback = 0, base = 10): number {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : fallback;
  const text = String(value ?? "").trim();
  if (base === 16 && /^[-+]?(0x)?[0-9a-f]+$/i.test(text))
    return Number.parseInt(text.replace(/^([-+]?)0x/i, "$1"), 16);
  if (base === 10 && /^[-+]?\d+$/.test(text)) return Number.parseInt(text, 10);
  if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) return Math.trunc(Number.parseFloat(text));
  return fallback;
}

/**
 * Helpers available in every `{{ … }}`:
 * An undefined variable given to a helper is an UNDEFINED_VARIABLE error, except for `default`,
 * `eq`, `ne`, `and`, `or`, `not` (and the built-in `#if`/`#unless`), which exist to test it.
 * Blocks: `{{#if c}}…{{else}}…{{/if}}`, `{{#unless c}}…{{/unless}}`, `{{#each list}}…{{this}}…{{/each}}`.
 * - `default v fallback`  v, or fallback when v is undefined or null (`{{default port 6379}}`).
 * - `join list sep`       the items joined by sep (default ","): `{{join cores " "}}`.
 * - `json v [indent]`     JSON text of v.
 * - `yaml v`              YAML text of v (block style, trailing newline removed).
 * - `eq a b` `ne a b`     strict equality / inequality, for `{{#if (eq mode "on")}}`.
 * - `and a b …` `or a b …` `not a`  Python-like truthiness (empty lists are false).
 * - `cpumask list [nrCpus]`  cpu list → smp_affinity hex mask: `{{cpumask "0-3"}}` → "f";
 *                         `nr=64` as a hash argument also sets the width.
 * - `cpulist v`           a CPU list normalised ("3,1,2" → "1-3"; "10" is CPU 10); anything else
 *                         is an error. `cpulist v "mask"` is `mask_to_cpulist v`.
 * - `mask_to_cpulist m`   smp_affinity hex mask → CPU list ("f0" → "4-7", "80,00000000" → "39").
 * - `get map key`         the value of `key` in `map`; a key the map lacks is an UNDEFINED_VARIABLE
 *                         error naming it (Handlebars' own `lookup` answered such a key with nothing).
 * - `upper s` `lower s`   case.
 * - `quote s`             s quoted for a POSIX shell (shell-quote).
 * - `basename p` `dirname p`  POSIX path parts.
 * - `int v [base]`        v as an integer (Ansible's `int`: "3.9" → 3, junk → 0; base 16 reads hex).
 * - `regex_escape s`      s with regex metacharacters escaped (Ansible's `regex_escape`, Python `re.escape`).
 */
export function registerHelpers(hb: typeof Handlebars): void {
  // Handlebars' own helpers that tickless does not document: `log` prints its argument to the
  // console (a no_log secret in the middle of --json), `lookup` reads past the strict check for
  // undefined variables, `with` is unused. Kept: `#if`, `#unless`, `#each` and the internal
  // helperMissing / blockHelperMissing (they throw or render blocks; they print nothing).
  for (const name of UNDOCUMENTED_BUILTINS) hb.unregisterHelper(name);
  const register = (name: string, helper: (...args: any[]) => unknown) =>
    hb.registerHelper(name, LENIENT_HELPERS.has(name) ? helper : strictArgs(helper));
  register("default", (...args: unknown[]) => {
    const { params } = split(args);
    return params[0] === undefined || params[0] === null ? params[1] : params[0];
  });
  register("join", (...args: unknown[]) => {
    const { params } = split(args);
    const sep = params.length > 1 ? String(params[1]) : ",";
    return Array.isArray(params[0]) ? params[0].join(sep) : String(params[0] ?? "");
  });
  register("json", (...args: unknown[]) => {
    const { params } = split(args);
    return JSON.stringify(toPlain(params[0]), null, typeof params[1] === "number" ? params[1] : undefined);
  });
  register("yaml", (value: unknown) => toYaml(toPlain(value)).replace(/\n$/, ""));
  register("eq", (a: unknown, b: unknown) => a === b);
  register("ne", (a: unknown, b: unknown) => a !== b);
  register("and", (...args: unknown[]) => split(args).params.every(truthy));
  register("or", (...args: unknown[]) => split(args).params.some(truthy));
  register("not", (value: unknown) => !truthy(value));
  register("cpumask", (...args: unknown[]) => {
    const { params, options } = split(args);
    const nr = params[1] ?? options.hash?.nr;
    return cpuListToMask(cpusOf(params[0]), nr === undefined ? undefined : toInt(nr));
  });
  register("cpulist", (...args: unknown[]) => {
    const { params, options } = split(args);
    return toCpuList(params[0], params[1] ?? options.hash?.from);
  });
  register("mask_to_cpulist", (value: unknown) => toCpuList(value, "mask"));
  register("loadgen_cpu", (facts: unknown) => loadgenCpu(facts).cpu);
  register("get", (...args: unknown[]) => {
    const [map, key] = split(args).params;
    const value =
      map !== null && typeof map === "object" ? (map as Record<string, unknown>)[String(key)] : undefined;
    if (value === undefined) {
      throw new TicklessError("UNDEFINED_VARIABLE", `get: the mapping has no key ${JSON.stringify(key)}`, {
        hint: "check the key's spelling, or that the mapping is the one you mean",
      });
    }
    return value;
  });
  register("upper", (s: unknown) => String(s ?? "").toUpperCase());
  register("lower", (s: unknown) => String(s ?? "").toLowerCase());
  register("quote", (s: unknown) => quote([String(s ?? "")]));
  register("basename", (p: unknown) => posix.basename(String(p ?? "")));
  register("dirname", (p: unknown) => posix.dirname(String(p ?? "")));
  register("regex_escape", (s: unknown) => regexEscape(String(s ?? "")));
  register("int", (...args: unknown[]) => {
    const { params } = split(args);
    return toInt(params[0], 0, params[1] === undefined ? 10 : toInt(params[1]));
  });
  hb.registerHelper(NATIVE_HELPER, (value: unknown, options: HelperOptions) => {
    (options.data.nativeSlot as NativeSlot).value = value;
    return "";
  });
}

/** Python's `re.escape` (3.7+): escapes every character that has a meaning in a regex. */
export function regexEscape(s: string): string {
  return s.replace(/[.^$*+?{}[\]\\|()#&~\s-]/g, (c) => `\\${c}`);
}
