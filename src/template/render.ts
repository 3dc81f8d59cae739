import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import Handlebars from "handlebars";
import { ParseError, type SourceLocation, TicklessError } from "../errors.js";
import { decodeSource } from "../playbook/yaml-checks.js";
import { openVaultFile } from "../vault/keyring.js";
import { checkExpression, evaluateIn } from "./expression.js";
import {
  INTERNAL_HELPERS,
  MissingArgument,
  NATIVE_HELPER,
  type NativeSlot,
  registerHelpers,
  UNDOCUMENTED_BUILTINS,
} from "./helpers.js";
import { fileEngine, hasTemplate, isJinja } from "./jinja/classify.js";
import type { JinjaOptions } from "./jinja/lex.js";
import { fileLoader } from "./jinja/loader.js";
import { checkJinja, type Report, renderJinja } from "./jinja/render.js";
import { EXPRESSION_HELPER, type FoundExpression, splitTemplate, TEXT_HELPER } from "./mustaches.js";
import { literalValue, pyOutput } from "./python.js";
import { Scope } from "./scope.js";
import { endsWithStringFilter, keepsText } from "./string-filters.js";
import { didYouMean, undefinedVariable } from "./suggest.js";

const hb = Handlebars.create();
registerHelpers(hb);
INTERNAL_HELPERS.add(EXPRESSION_HELPER).add(TEXT_HELPER);
hb.registerHelper(TEXT_HELPER, (value: unknown, options: Handlebars.HelperOptions) => {
  if (value === undefined) throw new MissingArgument(0, options);
  return pyOutput(value);
});
hb.registerHelper(EXPRESSION_HELPER, (index: number, options: Handlebars.HelperOptions) => {
  const { scope, expressions } = options.data.ansible as ExpressionData;
  return pyOutput(evaluateAt(scope, expressions[index]));
});

/** What the runtime `data` carries for EXPRESSION_HELPER. */
interface ExpressionData {
  scope: Scope;
  expressions: FoundExpression[];
}

const COMPILE_OPTIONS = { strict: true, noEscape: true } as const;
const TEMPLATE_PATTERN = /\{\{[\s\S]*?\}\}/;
/** The engine renders the same strings for many hosts; past this many, start the cache afresh. */
const CACHE_LIMIT = 10_000;

type Compiled = (context: unknown, options?: Handlebars.RuntimeOptions) => string;

/** A plain `{{ a.b.[0] }}`: a strict lookup, with where it stands for error messages. */
interface PathForm {
  kind: "path";
  parts: string[];
  original: string;
  line: number;
  column: number;
}

/** How a string that is exactly one `{{ … }}` yields its native value. */
type NativeForm =
  | { kind: "none" }
  | PathForm
  | { kind: "literal"; value: unknown }
  | { kind: "expression"; expression: FoundExpression }
  | { kind: "call"; template: Compiled; source: string };

interface Entry {
  template: Compiled;
  /** The Ansible expressions among the mustaches, evaluated by the engine of `when:`. */
  expressions: FoundExpression[];
  native: NativeForm;
  /** Text and plain paths only (the common case): rendered without the Handlebars runtime. */
  segments?: (string | PathForm)[];
}

const cache = new Map<string, Entry>();

export function isTemplate(value: unknown): boolean {
  return typeof value === "string" && (TEMPLATE_PATTERN.test(value) || isJinja(value));
}

/** Renders `{{ … }}` and Jinja statements in a string; strings without templates come back unchanged. */
export function renderString(source: string, vars: Record<string, unknown>, loc?: SourceLocation): string {
  if (!hasTemplate(source)) return source;
  const scope = new Scope(vars, renderNested, loc);
  return isJinja(source) ? renderJinja(source, scope) : renderText(scope, source);
}

/**
 * Renders a controller-side template file; errors point at the line inside it. A `.j2` file (or
 * one with `{% %}` / `{# #}`) renders as Jinja, with the template module's options.
 */
export async function renderTemplateFile(
  path: string,
  vars: Record<string, unknown>,
  options?: Partial<JinjaOptions>,
  searchDirs: string[] = [],
): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new TicklessError("FILE_NOT_FOUND", `cannot read template file ${path}`, {
      location: { file: path },
      hint: "template paths are relative to the playbook's templates/ directory",
      cause: err,
    });
  }
  const text = decodeSource(openVaultFile(bytes, path), path, "TEMPLATE");
  if (fileEngine(path, text) === "handlebars") return renderString(text, vars, { file: path });
  const loader = fileLoader([...searchDirs, dirname(path)]);
  return renderJinja(text, new Scope(vars, renderNested, { file: path }), options, loader);
}

/**
 * Checks template syntax only (no vars needed): throws ParseError "TEMPLATE", or, given `report`,
 * reports every bad expression of the string instead of the first (then the rest once they are right).
 */
export function checkTemplate(source: string, loc?: SourceLocation, report?: Report): void {
  if (!hasTemplate(source)) return;
  if (isJinja(source)) checkJinja(source, loc, undefined, undefined, report);
  else if (!report) entryFor(source, loc);
  else checkEachExpression(source, loc, report);
}

/** A Handlebars string's expressions, each reported; its Handlebars syntax once they are all right. */
function checkEachExpression(source: string, loc: SourceLocation | undefined, report: Report): void {
  const reported = (err: unknown) => {
    if (!(err instanceof TicklessError)) throw err;
    report(err);
  };
  try {
    let bad = 0;
    for (const e of splitTemplate(source, hb.helpers).expressions) {
      try {
        checkExpression(e.source, within(loc, e.line, e.column));
      } catch (err) {
        reported(err);
        bad++;
      }
    }
    if (bad === 0) entryFor(source, loc);
  } catch (err) {
    reported(err);
  }
}

/** Renders a template found inside the vars: native when it is one `{{ … }}`, else a string. */
export function renderNested(source: string, scope: Scope): unknown {
  if (isJinja(source)) return literalValue(renderJinja(source, scope));
  const entry = entryFor(source, scope.loc);
  const form = entry.native;
  switch (form.kind) {
    case "none": {
      const text = renderText(scope, source, entry);
      return keepsText(source, entry.expressions) ? text : literalValue(text);
    }
    case "expression": {
      const value = evaluateAt(scope, form.expression);
      return endsWithStringFilter(form.expression.source) ? pyOutput(value) : nativeValue(value);
    }
    case "literal":
      return typeof form.value === "string" ? literalValue(form.value) : form.value;
    case "path": {
      // ansible-core hands back a lone name's number or boolean as it is (Templar's SINGLE_VAR
      // shortcut); a dotted path goes through Jinja, and its number comes back as text
      const value = lookupPath(scope, form);
      return form.parts.length > 1 && typeof value === "number" ? nativeValue(value) : value;
    }
    case "call": {
      const slot: NativeSlot = {};
      run(scope, form.source, () => form.template(scope.root, { data: { nativeSlot: slot } }));
      return slot.value;
    }
  }
}

/**
 * A string that is one expression, as Ansible 2.14 types it: lists, mappings and booleans stay
 * what they are, None is "", a number is its text, and text that reads as a Python literal is
 * that literal.
 */
function nativeValue(value: unknown): unknown {
  if (value === undefined || value === null) return "";
  if (typeof value === "boolean" || typeof value === "object") return value;
  return literalValue(pyOutput(value));
}

/** An expression of a template, evaluated where it stands (its line and column in a file). */
function evaluateAt(scope: Scope, expression: FoundExpression): unknown {
  return evaluateIn(expression.source, scope, within(scope.loc, expression.line, expression.column));
}

function renderText(scope: Scope, source: string, entry = entryFor(source, scope.loc)): string {
  const segments = entry.segments;
  if (!segments) {
    const data = { ansible: { scope, expressions: entry.expressions } satisfies ExpressionData };
    return run(scope, source, () => entry.template(scope.root, { data }));
  }
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "string") {
      out += segment;
    } else {
      const value = run(scope, source, () => lookupPath(scope, segment));
      out += pyOutput(value);
    }
  }
  return out;
}

/** Runs a compiled template, turning whatever it throws into a located tickless error. */
function run<T>(scope: Scope, source: string, body: () => T): T {
  try {
    return body();
  } catch (err) {
    throw runtimeError(err, source, scope);
  }
}

/** Resolves `{{ a.b.0 }}` strictly, returning the value itself rather than its text. */
function lookupPath(scope: Scope, form: PathForm): unknown {
  let current: unknown = scope.root;
  for (const part of form.parts) {
    if (current === null || typeof current !== "object" || !(part in current)) {
      throw undefinedVariable(
        form.original,
        "template",
        scope.raw,
        within(scope.loc, form.line, form.column),
      );
    }
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function entryFor(source: string, loc?: SourceLocation): Entry {
  const cached = cache.get(source);
  if (cached) return cached;
  const { handlebars, expressions } = splitTemplate(source, hb.helpers);
  for (const e of expressions) checkExpression(e.source, within(loc, e.line, e.column));
  let ast: hbs.AST.Program;
  try {
    ast = hb.parse(handlebars);
  } catch (err) {
    throw syntaxError(err, loc);
  }
  checkHelpers(ast, loc);
  const only =
    expressions.length === 1 && /^\{\{~?[^}]*~?\}\}$/.test(handlebars) ? expressions[0] : undefined;
  const entry: Entry = {
    template: hb.compile(ast, COMPILE_OPTIONS),
    expressions,
    native: only ? { kind: "expression", expression: only } : nativeForm(source, ast),
    segments: expressions.length > 0 ? undefined : segmentsOf(ast),
  };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(source, entry);
  return entry;
}

/** Calls with arguments must name a known helper: caught at syntax-check time, not on a host. */
function checkHelpers(node: unknown, loc?: SourceLocation): void {
  if (Array.isArray(node)) {
    for (const item of node) checkHelpers(item, loc);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const n = node as Partial<hbs.AST.MustacheStatement> & Record<string, unknown>;
  const call = n.type === "MustacheStatement" || n.type === "SubExpression" || n.type === "BlockStatement";
  if (call && n.path?.type === "PathExpression" && ((n.params?.length ?? 0) > 0 || n.hash)) {
    const name = (n.path as hbs.AST.PathExpression).original;
    if (!Object.hasOwn(hb.helpers, name)) {
      const known = Object.keys(hb.helpers).filter((h) => !INTERNAL_HELPERS.has(h));
      const guess = didYouMean(name, known);
      const { line, column } = n.path.loc.start;
      throw new ParseError("TEMPLATE", `unknown helper "${name}"`, {
        location: within(loc, line, column + 1),
        hint: (UNDOCUMENTED_BUILTINS as readonly string[]).includes(name)
          ? `Handlebars' ${name} is not available in tickless; helpers: ${known.join(", ")}`
          : guess
            ? `did you mean "${guess}"?`
            : `helpers: ${known.join(", ")}`,
      });
    }
  }
  for (const key of ["body", "program", "inverse", "params", "path"]) checkHelpers(n[key], loc);
  if (n.hash)
    checkHelpers(
      n.hash.pairs.map((pair) => pair.value),
      loc,
    );
}

/** The strict path a mustache reads, when it is a plain `{{ path }}` and not a helper call. */
function simplePath(node: hbs.AST.Statement): PathForm | undefined {
  if (node.type !== "MustacheStatement") return undefined;
  const mustache = node as hbs.AST.MustacheStatement;
  if (mustache.params.length > 0 || mustache.hash || mustache.path.type !== "PathExpression")
    return undefined;
  const p = mustache.path as hbs.AST.PathExpression;
  if (p.data || p.depth !== 0 || p.parts.length === 0 || /^(this|\.)/.test(p.original)) return undefined;
  if (p.parts.length === 1 && Object.hasOwn(hb.helpers, p.parts[0])) return undefined;
  const { line, column } = p.loc.start;
  return { kind: "path", parts: p.parts, original: p.original, line, column: column + 1 };
}

function segmentsOf(ast: hbs.AST.Program): (string | PathForm)[] | undefined {
  const segments: (string | PathForm)[] = [];
  for (const node of ast.body) {
    if (node.type === "ContentStatement") segments.push((node as hbs.AST.ContentStatement).value);
    else if (node.type !== "CommentStatement") {
      const path = simplePath(node);
      if (!path) return undefined;
      segments.push(path);
    }
  }
  return segments;
}

function nativeForm(source: string, ast: hbs.AST.Program): NativeForm {
  const only = ast.body.length === 1 ? ast.body[0] : undefined;
  if (only?.type !== "MustacheStatement" || source.startsWith("{{{")) return { kind: "none" };
  const mustache = only as hbs.AST.MustacheStatement;
  const plain = mustache.params.length === 0 && !mustache.hash;
  if (plain && mustache.path.type.endsWith("Literal")) {
    return { kind: "literal", value: (mustache.path as hbs.AST.StringLiteral).value };
  }
  const path = simplePath(only);
  if (path) return path;
  const helper =
    mustache.path.type === "PathExpression" &&
    Object.hasOwn(hb.helpers, (mustache.path as hbs.AST.PathExpression).original);
  const inner = /^\{\{~?\s*([^&][\s\S]*?)\s*~?\}\}$/.exec(source);
  if (!inner || (plain && !helper)) return { kind: "none" };
  const call = `{{${NATIVE_HELPER} (${inner[1]})}}`;
  return { kind: "call", template: hb.compile(call, COMPILE_OPTIONS), source: call };
}

/** A location inside a template: the caller's, or the template's own line when it has none. */
function within(loc: SourceLocation | undefined, line: number, column: number): SourceLocation | undefined {
  if (!loc || loc.line !== undefined) return loc;
  return { ...loc, line, column };
}

function syntaxError(err: unknown, loc?: SourceLocation): ParseError {
  const text = err instanceof Error ? err.message : String(err);
  const line = Number(/on line (\d+)/.exec(text)?.[1] ?? /- (\d+):\d+$/.exec(text)?.[1] ?? 1);
  const lines = text.split("\n");
  const detail = lines[lines.length - 1].replace(/ - \d+:\d+$/, "");
  return new ParseError("TEMPLATE", `invalid template: ${detail}`, {
    location: within(loc, line, 1),
    hint: "every {{ needs a matching }}, and every {{#block}} its {{/block}}",
    cause: err,
  });
}

/** The text of the argument a helper found undefined, found again in the template's AST. */
function argumentName(source: string, err: MissingArgument): string | undefined {
  let found: string | undefined;
  const visit = (node: unknown): void => {
    if (found || node === null || typeof node !== "object") return;
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    const n = node as Record<string, any>;
    const start = n.loc?.start;
    const sameCall = n.params && n.path?.original === err.helper && start?.line === err.loc?.start.line;
    if (sameCall && start?.column === err.loc?.start.column) {
      const param = n.params[err.index];
      found = param?.original ?? undefined;
      return;
    }
    for (const key of ["body", "program", "inverse", "params", "path"]) visit(n[key]);
    if (n.hash) visit(n.hash.pairs.map((pair: { value: unknown }) => pair.value));
  };
  try {
    visit(hb.parse(splitTemplate(source, hb.helpers).handlebars));
  } catch {
    return undefined;
  }
  return found;
}

function runtimeError(err: unknown, source: string, scope: Scope): TicklessError {
  if (err instanceof TicklessError) {
    if (err.location || !scope.loc) return err;
    const Kind = err instanceof ParseError ? ParseError : TicklessError;
    return new Kind(err.code, err.message, { location: scope.loc, hint: err.hint, cause: err.cause });
  }
  if (err instanceof MissingArgument) {
    const name = argumentName(source, err) ?? `argument ${err.index + 1} of "${err.helper}"`;
    const at = err.loc?.start;
    return undefinedVariable(
      name,
      "template",
      scope.raw,
      at ? within(scope.loc, at.line, at.column + 1) : scope.loc,
    );
  }
  const e = err as { message?: string; lineNumber?: number; column?: number };
  const missing = /^"(.+?)" not defined in/.exec(e.message ?? "");
  if (missing) {
    const line = e.lineNumber ?? 1;
    const column = e.column ?? 0;
    const text = source.split("\n")[line - 1] ?? "";
    const name = /^[@\w$.[\]/-]+/.exec(text.slice(column))?.[0] ?? missing[1];
    return undefinedVariable(name, "template", scope.raw, within(scope.loc, line, column + 1));
  }
  return new ParseError("TEMPLATE", `template failed: ${e.message ?? String(err)}`, {
    location: scope.loc,
    hint: "check the helper names and their arguments",
    cause: err,
  });
}
