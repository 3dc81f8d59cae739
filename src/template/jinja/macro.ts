/**
 * Jinja's macros at run time: a Macro is a value (set by `{% macro %}`, imported by
 * `{% import %}` / `{% from %}`, handed to a macro as `caller` by `{% call %}`) that renders its
 * body when called. jexl cannot call a value, so a call `row(a, b=1)` or `m.row(a)` of a name the
 * template defines is written `__tickless_call(row, a, b := 1)` before the expression engine reads
 * it (`rewriteCalls`); `{% call %}` adds its caller as the last argument.
 */
import { TicklessError } from "../../errors.js";

/** The function the expression engine calls for a macro call. */
export const CALL = "__tickless_call";
/** The local that carries a `{% call %}` block's body to the macro it calls. */
export const CALLER = "__tickless_caller";

/** A macro: its name (for `<Macro 'name'>` and errors) and what a call renders. */
export class Macro {
  constructor(
    readonly name: string,
    readonly invoke: (args: unknown[], caller?: Macro) => string,
  ) {}
}

/** A `{% call %}` block's body on its way to the macro. */
export class CallerArg {
  constructor(readonly macro: Macro) {}
}

/** `__tickless_call(target, …args)`: calls a macro, or says what the target is instead. */
export function callMacro(target: unknown, ...args: unknown[]): string {
  if (!(target instanceof Macro)) {
    throw new TicklessError("EXPRESSION", "the called name is not a macro", {
      hint: "call macros defined with {% macro %} or imported with {% import %} / {% from %}",
    });
  }
  const caller = args.find((a): a is CallerArg => a instanceof CallerArg);
  return target.invoke(
    args.filter((a) => !(a instanceof CallerArg)),
    caller?.macro,
  );
}

/**
 * Rewrites calls of the given names (`name(`, `name.attr(`) outside string literals into
 * `__tickless_call(name, …)`; a filter of the same name (`x | name(…)`) stays a filter.
 */
export function rewriteCalls(source: string, names: Set<string>): string {
  if (names.size === 0) return source;
  let out = "";
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== c) j += source[j] === "\\" ? 2 : 1;
      out += source.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const m = /^[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*\s*\(/.exec(source.slice(i));
    const before = out.trimEnd().at(-1) ?? "";
    if (
      m &&
      !/[\w.|]/.test(before) &&
      !/\w/.test(source[i - 1] ?? "") &&
      names.has(/^\w+/.exec(m[0])?.[0] ?? "")
    ) {
      const target = m[0].slice(0, -1).trim();
      const empty = /^\s*\)/.test(source.slice(i + m[0].length));
      out += `${CALL}(${target}${empty ? "" : ", "}`;
      i += m[0].length;
      continue;
    }
    const word = /^\w+/.exec(source.slice(i));
    const step = word ? word[0].length : 1;
    out += source.slice(i, i + step);
    i += step;
  }
  return out;
}
