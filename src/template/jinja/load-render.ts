/**
 * Rendering of the statements that define and reuse template text: `{% macro %}` (a value that
 * renders its body with its arguments; it sees the template's names as they are when it is
 * called), `{% call %}` (a body handed to the macro as `caller`), `{% include %}` (another file
 * rendered with this template's names and vars) and `{% import %}` / `{% from … import %}` (another
 * file's macros and top-level names, which see no vars unless imported `with context`, as in
 * ansible-core).
 */
import { TicklessError } from "../../errors.js";
import { Keyword } from "../filters.js";
import { pyStr } from "../python.js";
import type { Scope } from "../scope.js";
import type { JinjaOptions } from "./lex.js";
import type { LoadedTemplate, TemplateLoader } from "./loader.js";
import { CALLER, CallerArg, Macro } from "./macro.js";
import type { Expr, JinjaNode, Param } from "./parse.js";
import { evaluate } from "./render.js";

export interface RenderContext {
  options?: Partial<JinjaOptions>;
  loader?: TemplateLoader;
  /** How many includes and imports deep this render is. */
  depth: number;
}

type Run = (
  nodes: JinjaNode[],
  scope: Scope,
  locals: Record<string, unknown>,
  out: string[],
  ctx: RenderContext,
) => void;
type Compile = (found: LoadedTemplate, ctx: RenderContext) => JinjaNode[];
type Node<K extends JinjaNode["kind"]> = Extract<JinjaNode, { kind: K }>;

/** Deeper than this, templates including each other are certainly a loop. */
const MAX_DEPTH = 32;

function templateError(message: string, expr: Expr, hint: string): TicklessError {
  return new TicklessError("TEMPLATE", message, { location: expr.loc, hint });
}

/** Binds a call's arguments to the parameters: positions, then `name=value`, then defaults. */
function bindArgs(
  name: string,
  params: Param[],
  args: unknown[],
  scope: Scope,
  frame: Record<string, unknown>,
): void {
  const positional = args.filter((a) => !(a instanceof Keyword));
  if (positional.length > params.length)
    throw new TicklessError("TEMPLATE", `macro '${name}' takes not more than ${params.length} argument(s)`, {
      hint: "pass as many arguments as the macro names",
    });
  params.forEach((p, i) => {
    if (i < positional.length) frame[p.name] = positional[i];
  });
  for (const kw of args.filter((a): a is Keyword => a instanceof Keyword)) {
    if (!params.some((p) => p.name === kw.name))
      throw new TicklessError("TEMPLATE", `macro '${name}' takes no keyword argument '${kw.name}'`, {
        hint: `its arguments: ${params.map((p) => p.name).join(", ") || "none"}`,
      });
    frame[kw.name] = kw.value;
  }
  for (const p of params) {
    if (!Object.hasOwn(frame, p.name) && p.default) frame[p.name] = evaluate(p.default, scope, frame);
  }
}

function makeMacro(
  name: string,
  params: Param[],
  body: JinjaNode[],
  scope: Scope,
  locals: Record<string, unknown>,
  ctx: RenderContext,
  run: Run,
): Macro {
  const macro: Macro = new Macro(name, (args, caller) => {
    const frame: Record<string, unknown> = { ...locals };
    for (const p of params) delete frame[p.name];
    bindArgs(name, params, args, scope, frame);
    if (caller) frame.caller = caller;
    const out: string[] = [];
    run(body, scope, frame, out, ctx);
    return out.join("");
  });
  return macro;
}

export function defineMacro(
  node: Node<"macro">,
  scope: Scope,
  locals: Record<string, unknown>,
  ctx: RenderContext,
  run: Run,
): Macro {
  return makeMacro(node.name, node.params, node.body, scope, locals, ctx, run);
}

export function callBlock(
  node: Node<"call">,
  scope: Scope,
  locals: Record<string, unknown>,
  ctx: RenderContext,
  run: Run,
): string {
  const caller = makeMacro("caller", node.params, node.body, scope, locals, ctx, run);
  return pyStr(evaluate(node.call, scope, { ...locals, [CALLER]: new CallerArg(caller) }));
}

/** The template an include or import names, found by the loader (the first of a list). */
function find(expr: Expr, scope: Scope, locals: Record<string, unknown>, ctx: RenderContext) {
  if (ctx.depth >= MAX_DEPTH)
    throw templateError("templates include each other too deep", expr, "an include or import loops back");
  const named = evaluate(expr, scope, locals);
  const names = (Array.isArray(named) ? named : [named]).map(pyStr);
  if (!ctx.loader)
    throw templateError("include and import need a template file", expr, "use them in a .j2 template");
  for (const name of names) {
    const found = ctx.loader(name);
    if (found) return found;
  }
  return undefined;
}

function notFound(expr: Expr, scope: Scope, locals: Record<string, unknown>, ctx: RenderContext) {
  const looked = (ctx.loader as { searched?: string[] } | undefined)?.searched ?? [];
  return templateError(
    `template not found: ${pyStr(evaluate(expr, scope, locals))}`,
    expr,
    looked.length ? `looked in ${looked.join(", ")}` : "name a template beside this one",
  );
}

export function include(
  node: Node<"include">,
  scope: Scope,
  locals: Record<string, unknown>,
  ctx: RenderContext,
  run: Run,
  compile: Compile,
): string {
  const found = find(node.template, scope, locals, ctx);
  if (!found) {
    if (node.ignoreMissing) return "";
    throw notFound(node.template, scope, locals, ctx);
  }
  const inner = { ...ctx, depth: ctx.depth + 1 };
  const out: string[] = [];
  const at = { file: found.file };
  run(
    compile(found, inner),
    node.context ? scope.withLocals({}, at) : scope.empty(at),
    node.context ? { ...locals } : {},
    out,
    inner,
  );
  return out.join("");
}

export function importNames(
  node: Node<"import">,
  scope: Scope,
  locals: Record<string, unknown>,
  ctx: RenderContext,
  run: Run,
  compile: Compile,
): Record<string, unknown> {
  const found = find(node.template, scope, locals, ctx);
  if (!found) throw notFound(node.template, scope, locals, ctx);
  const inner = { ...ctx, depth: ctx.depth + 1 };
  const frame: Record<string, unknown> = node.context ? { ...locals } : {};
  const at = { file: found.file };
  run(compile(found, inner), node.context ? scope.withLocals({}, at) : scope.empty(at), frame, [], inner);
  const own = Object.entries(frame).filter(
    ([k, v]) => !Object.hasOwn(locals, k) || locals[k] !== v || !node.context,
  );
  const names = Object.fromEntries(own.filter(([k]) => !k.startsWith("_")));
  if (node.alias) return { [node.alias]: names };
  const out: Record<string, unknown> = {};
  for (const [name, as] of node.names ?? []) {
    if (!Object.hasOwn(names, name))
      throw templateError(
        `the template '${found.file}' does not export the requested name '${name}'`,
        node.template,
        "import a macro or name the template defines",
      );
    out[as] = names[name];
  }
  return out;
}
