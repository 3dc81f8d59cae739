/** Python's argument handling for the methods of methods.ts: positions, keywords, errors. */
import { TicklessError } from "../errors.js";

export type Method = (self: any, args: unknown[], kw: Record<string, unknown>) => unknown;

export function fail(
  message: string,
  hint = "Python's method raised this: check the values it was given",
): never {
  throw new TicklessError("EXPRESSION", message, { hint });
}

/** Python's type name of a value, as in "'str object' has no attribute 'x'". */
export function pyType(value: unknown): string {
  if (value === null || value === undefined) return "NoneType";
  if (typeof value === "string") return "str";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (Array.isArray(value)) return "list";
  return "dict";
}

/** Python's index argument: an int (or None for "to the end"). */
export function intArg(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    fail(`'${pyType(value)}' object cannot be interpreted as an integer (${what})`);
  }
  return value;
}

/** Python's slice bounds `[start:end]` for a sequence of `length`. */
export function bounds(length: number, start: unknown, end: unknown): [number, number] {
  const clamp = (i: number | undefined, dflt: number) =>
    i === undefined ? dflt : i < 0 ? Math.max(0, length + i) : Math.min(i, length);
  return [clamp(intArg(start, "start"), 0), clamp(intArg(end, "end"), length)];
}

/** The arguments by position, keyword arguments put in their named places. */
function positional(
  name: string,
  params: string[],
  args: unknown[],
  kw: Record<string, unknown>,
  required = 0,
): unknown[] {
  const out = [...args];
  if (out.length > params.length) {
    fail(
      `${name}() takes at most ${params.length} argument${params.length === 1 ? "" : "s"} (${out.length} given)`,
    );
  }
  for (const [key, value] of Object.entries(kw)) {
    const at = params.indexOf(key);
    if (at < 0 || at < args.length) fail(`${name}() got an unexpected keyword argument '${key}'`);
    out[at] = value;
  }
  if (out.length < required || out.slice(0, required).some((a) => a === undefined)) {
    fail(`${name}() takes at least ${required} argument${required === 1 ? "" : "s"} (${out.length} given)`);
  }
  return out;
}

/** A method of `params` (by position; by name too when `keywords`), the first `required` needed. */
export function plain(
  params: string[],
  required: number,
  fn: (self: any, ...a: any[]) => unknown,
  keywords = false,
): Method {
  return function call(this: { name: string }, self, args, kw) {
    if (!keywords && Object.keys(kw).length > 0) fail(`${this.name}() takes no keyword arguments`);
    return fn(self, ...positional(this.name, params, args, kw, required));
  };
}
