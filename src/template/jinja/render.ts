/**
 * Renders Jinja templates as Ansible does: its environment (trim_blocks on, lstrip_blocks off,
 * a `#jinja2:` first line may change either), one trailing newline dropped by Jinja and then
 * put back with any others the text ended with (Ansible's preserve_trailing_newlines), and every
 * expression evaluated by the engine of `when:` so that filters, tests and values are the same.
 */
import { ParseError, type SourceLocation, TicklessError } from "../../errors.js";
import { checkExpression, evaluateIn } from "../expression.js";
import { truthy } from "../helpers.js";
import { pyOutput } from "../python.js";
import type { Scope } from "../scope.js";
import { hasHandlebarsBlocks } from "./classify.js";
import { type Delimiters, type JinjaOptions, JinjaSyntaxError, type Position, tokenize } from "./lex.js";
import { callBlock, defineMacro, importNames, include, type RenderContext } from "./load-render.js";
import type { LoadedTemplate, TemplateLoader } from "./loader.js";
import { type Expr, type JinjaNode, parse } from "./parse.js";

/** Ansible's Jinja environment: the template module's defaults, and its templating of strings. */
export const ANSIBLE_JINJA: JinjaOptions = {
  trimBlocks: true,
  lstripBlocks: false,
  keepTrailingNewline: false,
};

const HEADER = "#jinja2:";
const HEADER_KEYS: Record<string, keyof JinjaOptions> = {
  trim_blocks: "trimBlocks",
  lstrip_blocks: "lstripBlocks",
  keep_trailing_newline: "keepTrailingNewline",
};
/** Past this many distinct templates, start the cache afresh. */
const CACHE_LIMIT = 2_000;

interface Compiled {
  nodes: JinjaNode[];
  /** How many newlines the text ended with (Ansible puts back what Jinja dropped). */
  newlines: number;
  /** What those newlines are put back as: the environment's newline_sequence. */
  newline: string;
}

const cache = new Map<string, Compiled>();

/** Checks a Jinja template's syntax and expressions, without vars (and what it includes, found). */
export function checkJinja(
  source: string,
  loc?: SourceLocation,
  options?: Partial<JinjaOptions>,
  loader?: TemplateLoader,
  report?: Report,
): void {
  if (!report) {
    compile(source, loc, options, loader);
    return;
  }
  try {
    compile(source, loc, options, loader, report);
  } catch (err) {
    if (!(err instanceof TicklessError)) throw err;
    report(err);
  }
}

/**
 * Where a check that goes on past a problem puts each one (`tickless lint`): an expression's
 * error is reported and the parse goes on; a statement the parser cannot get past still ends it.
 */
export type Report = (err: TicklessError) => void;

/** Renders a Jinja template in a scope; the text it gives. */
export function renderJinja(
  source: string,
  scope: Scope,
  options?: Partial<JinjaOptions>,
  loader?: TemplateLoader,
): string {
  const compiled = compile(source, scope.loc, options, loader);
  const out: string[] = [];
  run(compiled.nodes, scope, {}, out, { options, loader, depth: 0 });
  const text = out.join("");
  const missing = compiled.newlines - trailingNewlines(text);
  return missing > 0 ? text + compiled.newline.repeat(missing) : text;
}

function compile(
  text: string,
  loc?: SourceLocation,
  overrides?: Partial<JinjaOptions>,
  loader?: TemplateLoader,
  report?: Report,
): Compiled {
  const key = `${JSON.stringify(overrides ?? {})}\u0000${loader ? "L" : ""}${loc?.file ?? ""}\u0000${text}`;
  const cached = cache.get(key);
  if (cached) return cached;
  let reported = 0;
  const counted: Report | undefined = report
    ? (err) => {
        reported++;
        report(err);
      }
    : undefined;
  const check = counted
    ? (expression: string, at?: SourceLocation) => {
        try {
          checkExpression(expression, at);
        } catch (err) {
          if (!(err instanceof TicklessError)) throw err;
          counted(err);
        }
      }
    : checkExpression;
  let source = text.replace(/\r\n?/g, "\n");
  const newlines = trailingNewlines(source);
  const options = { ...ANSIBLE_JINJA, ...overrides };
  let lineOffset = 0;
  if (source.startsWith(HEADER)) {
    const eol = source.indexOf("\n");
    const set = header(source.slice(HEADER.length, eol < 0 ? undefined : eol), loc);
    Object.assign(options, set, { delimiters: { ...options.delimiters, ...set.delimiters } });
    source = eol < 0 ? "" : source.slice(eol + 1);
    lineOffset = 1;
  }
  const locate = (at: Position): SourceLocation | undefined => {
    if (!loc || loc.line !== undefined) return loc;
    return { ...loc, line: at.line + lineOffset, column: at.column };
  };
  const defaultStart = (options.delimiters?.variableStart ?? "{{") === "{{";
  const block = defaultStart && hasHandlebarsBlocks(source) ? /\{\{~?\s*(?:[#/^]|else\b)/.exec(source) : null;
  if (block) {
    const before = source.slice(0, block.index).split("\n");
    throw new ParseError("TEMPLATE", `a Handlebars block "${block[0]}" in a Jinja template`, {
      location: locate({ line: before.length, column: before[before.length - 1].length + 1 }),
      hint: "write {% if %}…{% endif %} and {% for x in xs %}…{% endfor %}, or keep Handlebars in a .hbs file",
    });
  }
  let nodes: JinjaNode[];
  try {
    const load = loader ? (name: string) => checkLoaded(name, loader, overrides, counted) : undefined;
    nodes = parse(tokenize(source, options), { locate, check, load });
  } catch (err) {
    if (!(err instanceof JinjaSyntaxError)) throw err;
    throw new ParseError("TEMPLATE", `invalid template: ${err.message}`, {
      location: locate(err.at),
      hint: err.hint,
    });
  }
  const compiled = { nodes, newlines, newline: options.newlineSequence ?? "\n" };
  // a template whose problems were only reported must not pass a later strict check from the cache
  if (reported > 0) return compiled;
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

/** A template found by include or import, compiled as its own file. */
function compileLoaded(found: LoadedTemplate, ctx: RenderContext): JinjaNode[] {
  return compile(found.text, { file: found.file }, ctx.options, ctx.loader).nodes;
}

/** Files being checked now: a template that includes itself is checked once. */
const checking = new Set<string>();

/** At load time, a template named literally is checked where it is found (run time says where it is not). */
function checkLoaded(
  name: string,
  loader: TemplateLoader,
  options?: Partial<JinjaOptions>,
  report?: Report,
): void {
  const found = loader(name);
  if (!found || checking.has(found.file)) return;
  checking.add(found.file);
  try {
    checkJinja(found.text, { file: found.file }, options, loader, report);
  } finally {
    checking.delete(found.file);
  }
}

/**
 * `#jinja2: trim_blocks: False, lstrip_blocks: True` on the first line: each `key: value` (split
 * at the first colon, as ansible-core does) a boolean setting, a delimiter or `newline_sequence`
 * as a quoted string.
 */
function header(line: string, loc?: SourceLocation): Partial<JinjaOptions> {
  const out: Partial<JinjaOptions> = {};
  const at = loc && loc.line === undefined ? { ...loc, line: 1, column: 1 } : loc;
  const refuse = (message: string, hint: string) =>
    new ParseError("TEMPLATE", message, { location: at, hint });
  for (const pair of line.split(",")) {
    const colon = pair.indexOf(":");
    if (colon < 0) {
      throw refuse(
        `failed to parse jinja2 override '${pair.trim()}'. Did you use something different from colon as key-value separator?`,
        "write #jinja2: key: value, key: value",
      );
    }
    const [key, value] = [pair.slice(0, colon).trim(), pair.slice(colon + 1).trim()];
    const flag = HEADER_KEYS[key];
    const text = /^(['"])(.*)\1$/.exec(value);
    if (flag && /^(True|False|true|false)$/.test(value)) Object.assign(out, { [flag]: /^[Tt]/.test(value) });
    else if (Object.hasOwn(HEADER_DELIMITERS, key) && text?.[2])
      out.delimiters = { ...out.delimiters, [HEADER_DELIMITERS[key]]: pyEscapes(text[2]) };
    else if (key === "newline_sequence" && text && NEWLINES.includes(pyEscapes(text[2])))
      out.newlineSequence = pyEscapes(text[2]);
    else if (key === "line_statement_prefix" && text?.[2]) out.lineStatementPrefix = pyEscapes(text[2]);
    else {
      throw refuse(
        `unsupported #jinja2: setting "${pair.trim()}"`,
        "the first line may set trim_blocks, lstrip_blocks and keep_trailing_newline to True or False, the *_start_string and *_end_string delimiters, newline_sequence and line_statement_prefix to a quoted string",
      );
    }
  }
  return out;
}

const HEADER_DELIMITERS: Record<string, keyof Delimiters> = {
  variable_start_string: "variableStart",
  variable_end_string: "variableEnd",
  block_start_string: "blockStart",
  block_end_string: "blockEnd",
  comment_start_string: "commentStart",
  comment_end_string: "commentEnd",
};

/** The newline sequences Jinja accepts. */
export const NEWLINES = ["\n", "\r", "\r\n"];

/** `\n`, `\r`, `\t`, `\\` and quotes escaped in a Python string literal. */
function pyEscapes(text: string): string {
  return text.replace(/\\([nrt\\'"])/g, (_, c: string) => ({ n: "\n", r: "\r", t: "\t" })[c] ?? c);
}

function trailingNewlines(text: string): number {
  let n = 0;
  while (n < text.length && text[text.length - 1 - n] === "\n") n++;
  return n;
}

export function evaluate(expr: Expr, scope: Scope, locals: Record<string, unknown>): unknown {
  return evaluateIn(expr.source, scope.withLocals(locals, expr.loc), expr.loc);
}

/** Renders nodes into `out`; `set` writes into `locals` (a loop's body has its own). */
function run(
  nodes: JinjaNode[],
  scope: Scope,
  locals: Record<string, unknown>,
  out: string[],
  ctx: RenderContext,
): void {
  for (const node of nodes) {
    switch (node.kind) {
      case "text":
        out.push(node.text);
        break;
      case "output":
        out.push(pyOutput(evaluate(node.expr, scope, locals)));
        break;
      case "if": {
        const branch = node.branches.find((b) => truthy(evaluate(b.test, scope, locals)));
        run(branch ? branch.body : node.otherwise, scope, locals, out, ctx);
        break;
      }
      case "for":
        loop(node, scope, locals, out, ctx);
        break;
      case "set":
        Object.assign(locals, bind(node.targets, evaluate(node.value, scope, locals), node.value));
        break;
      case "set_block": {
        const inner: string[] = [];
        run(node.body, scope, locals, inner, ctx);
        locals[node.target] = inner.join("");
        break;
      }
      case "macro":
        locals[node.name] = defineMacro(node, scope, locals, ctx, run);
        break;
      case "call":
        out.push(callBlock(node, scope, locals, ctx, run));
        break;
      case "include":
        out.push(include(node, scope, locals, ctx, run, compileLoaded));
        break;
      case "import":
        Object.assign(locals, importNames(node, scope, locals, ctx, run, compileLoaded));
        break;
    }
  }
}

type ForNode = Extract<JinjaNode, { kind: "for" }>;

function loop(
  node: ForNode,
  scope: Scope,
  locals: Record<string, unknown>,
  out: string[],
  ctx: RenderContext,
): void {
  let items = iterable(node, evaluate(node.iter, scope, locals));
  if (node.filter) {
    const filter = node.filter;
    items = items.filter((item) =>
      truthy(evaluate(filter, scope, { ...locals, ...bind(node.targets, item, filter) })),
    );
  }
  if (items.length === 0) {
    run(node.otherwise, scope, { ...locals }, out, ctx);
    return;
  }
  const length = items.length;
  items.forEach((item, i) => {
    const loopVar: Record<string, unknown> = {
      index: i + 1,
      index0: i,
      revindex: length - i,
      revindex0: length - i - 1,
      first: i === 0,
      last: i === length - 1,
      length,
      depth: 1,
      depth0: 0,
    };
    if (i > 0) loopVar.previtem = items[i - 1];
    if (i < length - 1) loopVar.nextitem = items[i + 1];
    run(node.body, scope, { ...locals, ...bind(node.targets, item, node.iter), loop: loopVar }, out, ctx);
  });
}

/** What a for loop walks: a list, a mapping's keys (or items, values), a string's characters. */
function iterable(node: ForNode, value: unknown): unknown[] {
  const mapping = value !== null && typeof value === "object" && !Array.isArray(value);
  if (node.method) {
    if (!mapping) throw notIterable(node.iter, value, `.${node.method}() needs a mapping`);
    const d = value as Record<string, unknown>;
    if (node.method === "keys") return Object.keys(d);
    if (node.method === "values") return Object.values(d);
    return Object.entries(d);
  }
  if (Array.isArray(value)) return value;
  if (mapping) return Object.keys(value as object);
  if (typeof value === "string") return [...value];
  throw notIterable(node.iter, value, "loop over a list, a mapping or a string");
}

function notIterable(expr: Expr, value: unknown, hint: string): TicklessError {
  const type = value === null ? "None" : typeof value;
  return new TicklessError("TEMPLATE", `cannot loop over "${expr.source}": it is ${type}, not a list`, {
    location: expr.loc,
    hint,
  });
}

/** `x` takes the value; `a, b` unpack a list of two, as Python does. */
function bind(targets: string[], value: unknown, expr: Expr): Record<string, unknown> {
  if (targets.length === 1) return { [targets[0]]: value };
  if (!Array.isArray(value) || value.length !== targets.length) {
    const got = Array.isArray(value) ? `${value.length} values` : "a single value";
    throw new TicklessError("TEMPLATE", `cannot unpack ${got} into ${targets.join(", ")}`, {
      location: expr.loc,
      hint: "each item must be a list of as many values as names",
    });
  }
  return Object.fromEntries(targets.map((t, i) => [t, value[i]]));
}
