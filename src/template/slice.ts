/**
 * Python's slice `x[start:stop:step]` on a list or a string, as Jinja compiles it (a plain Python
 * subscript, not its getitem): rewrite.ts writes it as the transform SLICE with None for a bound
 * left out; the bounds clamp to the sequence as Python's slice.indices does, a negative step walks
 * backwards. What Python cannot slice fails in Python's words.
 */
import { TicklessError } from "../errors.js";
import { pyType } from "./method-args.js";

function fail(message: string): never {
  throw new TicklessError("EXPRESSION", message, {
    hint: "a slice takes a list or a string and whole numbers: x[1:], x[:-1], x[::-1]",
  });
}

/** A bound: an int (a boolean counts as 0 or 1), or undefined for None. */
function bound(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return Number(value);
  if (typeof value === "number" && Number.isInteger(value)) return value;
  return fail("slice indices must be integers or None or have an __index__ method");
}

/** Python's slice.indices: where the walk starts and stops for a sequence of `length`. */
function indices(length: number, start: number | undefined, stop: number | undefined, step: number) {
  const [lower, upper] = step > 0 ? [0, length] : [-1, length - 1];
  const clamp = (i: number | undefined, dflt: number) => {
    if (i === undefined) return dflt;
    if (i < 0) return Math.max(i + length, lower);
    return Math.min(i, upper);
  };
  return [clamp(start, step > 0 ? lower : upper), clamp(stop, step > 0 ? upper : lower)];
}

export function pySlice(value: unknown, start: unknown, stop: unknown, step?: unknown): unknown {
  if (value === undefined || value === null) fail("'NoneType' object is not subscriptable");
  if (typeof value !== "string" && !Array.isArray(value)) {
    if (typeof value === "object") fail("unhashable type: 'slice'");
    fail(`'${pyType(value)}' object is not subscriptable`);
  }
  const from = bound(start);
  const to = bound(stop);
  const by = bound(step) ?? 1;
  if (by === 0) fail("slice step cannot be zero");
  const items: unknown[] = typeof value === "string" ? [...value] : value;
  const [first, end] = indices(items.length, from, to, by);
  const out: unknown[] = [];
  for (let i = first; by > 0 ? i < end : i > end; i += by) out.push(items[i]);
  return typeof value === "string" ? out.join("") : out;
}
