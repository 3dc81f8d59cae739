import jexlModule from "jexl";
import { ParseError, type SourceLocation, TicklessError } from "../errors.js";
import { warnTemplatedCondition } from "./condition-warning.js";
import { Keyword, range } from "./filters.js";
import { truthy } from "./helpers.js";
import { hasTemplate } from "./jinja/classify.js";
import { CALL, callMacro } from "./jinja/macro.js";
import { callLookup, isLookupPlugin, LOOKUP_FUNCTIONS, lookupInstead, TermTemplate } from "./lookups.js";
import { callMethod, methodProblem } from "./methods.js";
import { renderNested } from "./render.js";
import {
  GROUP,
  KEYWORD_PREFIX,
  METHOD,
  rewriteExpression,
  SLICE,
  STRING_PLACEHOLDER,
  stripBraces,
  TUPLE,
} from "./rewrite.js";
import { LENIENT_ROOT, Scope, toPlain } from "./scope.js";
import { foldSign, isSign, placeSign, SIGN_OPERATORS } from "./signs.js";
import { pySlice } from "./slice.js";
import {
  LENIENT_ATTR,
  lenientAttr,
  makeLenientAccess,
  makeStrict,
  STRICT_ATTR,
  strictAttr,
} from "./strict-attr.js";
import { didYouMean } from "./suggest.js";
import { allTransforms, FILTERS, GUARDS, RESULT_TESTS, TESTS, toText } from "./transforms.js";

type Expression = ReturnType<typeof jexl.compile>;
type Node = Record<string, any>;

/** Past this many distinct expressions, start the cache afresh. */
const CACHE_LIMIT = 10_000;
const HINT =
  "expressions are Ansible-like: and, or, not, in, not in, ==, <, x is defined, x|default(…), result is failed";

const UNKNOWN_HINT =
  "tickless runs Jinja's filters and tests and Ansible's common ones (the README lists them under Playbooks); for another, compute the value in a task (register, set_fact) or pass it with -e";

const jexl = new jexlModule.Jexl();
const elements = jexl._grammar.elements as Record<string, any>;
elements.and = elements["&&"];
elements.or = elements["||"];
// Jinja's `not` binds looser than comparisons and tighter than and/or: `not a == b and c`.
elements.not = { type: "unaryOp", precedence: 15, eval: (value: unknown) => !truthy(value) };
Object.assign(elements, SIGN_OPERATORS);
jexl.addBinaryOp("==", 20, pyEquals);
jexl.addBinaryOp("!=", 20, (a, b) => !pyEquals(a, b));
jexl.addBinaryOp("in", 20, contains);
jexl.addBinaryOp("not_in", 20, (a, b) => !contains(a, b));
jexl.addBinaryOp("~", 30, (a, b) => (a === undefined ? "" : toText(a)) + (b === undefined ? "" : toText(b)));
jexl.addBinaryOp("**", 50, (a, b) => Number(a) ** Number(b));
// Python's + joins lists as well as adding numbers and strings
jexl.addBinaryOp("+", 30, (a, b) => (Array.isArray(a) && Array.isArray(b) ? [...a, ...b] : a + b));
// `name=value` in a filter's arguments (rewrite.ts made it `__tickless_kw_name := value`)
jexl.addBinaryOp(":=", 1, (name, value) => new Keyword(String(name), value));
jexl.addTransforms(recordingErrors(allTransforms()));
jexl.addFunction("range", range);
jexl.addFunction(STRICT_ATTR, (...args: Parameters<typeof strictAttr>) => {
  try {
    return strictAttr(...args);
  } catch (err) {
    thrown = err;
    throw err;
  }
});
jexl.addFunction(LENIENT_ATTR, lenientAttr);
jexl.addFunction(CALL, callMacro);
jexl.addFunction(TUPLE, (...items: unknown[]) => items);
jexl.addFunction(GROUP, (value: unknown) => value);
jexl.addTransforms(recordingErrors({ [METHOD]: callMethod, [SLICE]: pySlice }));
for (const fn of LOOKUP_FUNCTIONS) {
  jexl.addFunction(fn, (...args: unknown[]) => {
    try {
      return callLookup(fn, current as Scope, args);
    } catch (err) {
      thrown = err;
      throw err;
    }
  });
}

/** What a transform threw last: jexl re-wraps errors that cross its operators. */
let thrown: unknown;
/** The scope of the evaluation under way, for the lookup plugins (they read the vars). */
let current: Scope | undefined;

const cache = new Map<string, Expression>();

/** Evaluates an Ansible-like expression against the vars; the result is plain data. */
export function evaluate(expression: string, vars: Record<string, unknown>, loc?: SourceLocation): unknown {
  return evaluateIn(expression, new Scope(vars, renderNested, loc), loc);
}

/** Evaluates an expression in a scope a template already opened (its cycle check goes on). */
export function evaluateIn(expression: string, scope: Scope, loc = scope.loc): unknown {
  const compiled = compile(expression, loc);
  const before = thrown;
  const outer = current;
  thrown = undefined;
  current = scope;
  try {
    return toPlain(compiled.evalSync(scope.strictRoot));
  } catch (err) {
    throw scope.pendingError ?? evaluationError(thrown ?? err, expression, loc);
  } finally {
    thrown = before;
    current = outer;
  }
}

/** A `when`-style condition: booleans pass through, strings are evaluated, Python truthiness. */
export function evaluateCondition(
  condition: string | boolean,
  vars: Record<string, unknown>,
  loc?: SourceLocation,
): boolean {
  if (typeof condition !== "string") return truthy(condition);
  warnTemplatedCondition(condition, vars, loc);
  const value = evaluate(condition, vars, loc);
  // `when: "{{ x }}"`: Ansible renders the template, then evaluates the text it gave as the
  // condition (x = "false" skips the task); a bare `when: x` tests the string's truthiness
  if (typeof value === "string" && stripBraces(condition) !== condition.trim()) {
    return value.trim() !== "" && truthy(evaluate(value, vars, loc));
  }
  return truthy(value);
}

/** Checks an expression's syntax and its filter and test names, without vars. */
export function checkExpression(expression: string, loc?: SourceLocation): void {
  compile(expression, loc);
}

function compile(expression: string, loc?: SourceLocation): Expression {
  const cached = cache.get(expression);
  if (cached) return cached;
  const { source, strings, problem } = rewriteExpression(String(expression));
  if (source === "") throw syntaxError(expression, "it is empty", loc);
  if (problem) throw syntaxError(expression, problem, loc);
  let compiled: Expression;
  try {
    compiled = jexl.compile(source);
  } catch (err) {
    throw syntaxError(expression, err instanceof Error ? err.message : String(err), loc);
  }
  prepare(compiled._getAst() as unknown as Node, { expression, strings, loc });
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(expression, compiled);
  return compiled;
}

interface Context {
  expression: string;
  strings: string[];
  loc?: SourceLocation;
}

/**
 * Walks the AST once at compile time: puts the string literals back, checks transform names,
 * and lets guarded subjects (`x is defined`, `x|default(…)`) be undefined.
 */
function prepare(node: Node | undefined, ctx: Context, guarded = false): void {
  if (!node || typeof node !== "object") return;
  // a sign goes under the filters after its operand (signs.ts), then a signed number folds
  if (isSign(node) && placeSign(node)) {
    prepare(node, ctx, guarded);
    return;
  }
  if (isSign(node)) {
    prepare(node.right, ctx);
    foldSign(node);
    return;
  }
  const placeholder = node.type === "Identifier" && !node.from ? STRING_PLACEHOLDER.exec(node.value) : null;
  if (placeholder) {
    node.type = "Literal";
    node.value = ctx.strings[Number(placeholder[1])];
    delete node.relative;
    return;
  }
  if (node.type === "Identifier" && !node.from && String(node.value).startsWith(KEYWORD_PREFIX)) {
    node.type = "Literal";
    node.value = String(node.value).slice(KEYWORD_PREFIX.length);
    delete node.relative;
    return;
  }
  if (node.type === "FunctionCall") {
    const known = node.pool === "transforms" ? jexl.getTransform(node.name) : jexl.getFunction(node.name);
    if (node.pool !== "transforms" && LOOKUP_FUNCTIONS.has(String(node.name))) {
      const plugin = lookupPlugin(node.args?.[0], ctx);
      if (plugin === undefined || !isLookupPlugin(plugin)) {
        const what =
          plugin === undefined
            ? "a lookup plugin named by a variable is"
            : `the lookup plugin "${plugin}" is`;
        throw syntaxError(
          ctx.expression,
          `${what} not supported: ${node.name}(…)`,
          ctx.loc,
          lookupInstead(plugin),
        );
      }
      for (const arg of node.args) prepare(arg, ctx);
      // a term written as a string is templated before the plugin runs, as ansible-core's terms are
      for (const arg of node.args.slice(1)) {
        if (arg.type === "Literal" && typeof arg.value === "string" && hasTemplate(arg.value))
          arg.value = new TermTemplate(arg.value);
      }
      return;
    }
    if (node.name === METHOD) {
      const name = String(node.args?.[1]?.value ?? "").slice(KEYWORD_PREFIX.length);
      const subject = node.args?.[0];
      const named = subject?.type === "Identifier" && !subject.from ? String(subject.value) : undefined;
      const problem = methodProblem(name, node.args?.[2]?.type, named);
      if (problem) throw syntaxError(ctx.expression, problem.why, ctx.loc, problem.hint);
    }
    if (!known)
      throw syntaxError(ctx.expression, unknownName(String(node.name), node.pool), ctx.loc, UNKNOWN_HINT);
    if (GUARDS.has(node.name)) makeLenient(node.args[0]);
    nameSubject(node);
    if (GUARDS.has(node.name) && Array.isArray(node.args) && node.args.length > 0) {
      prepare(node.args[0], ctx, true);
      for (const arg of node.args.slice(1)) prepare(arg, ctx);
      return;
    }
  }
  // an access outside a guard: a mapping's missing key is an error, as Ansible's (strict-attr.ts)
  const access =
    (node.type === "Identifier" && node.from) || (node.type === "FilterExpression" && !node.relative);
  if (access && !guarded) {
    makeStrict(node, LENIENT_ROOT);
    if (node.type === "FunctionCall") {
      for (const arg of node.args) prepare(arg, ctx, false);
      return;
    }
  }
  // a guarded `a['b']['c']`: an undefined step reads as undefined, as Jinja's Undefined does
  if (guarded && node.type === "FilterExpression" && !node.relative) {
    makeLenientAccess(node);
    prepare(node.args[0], ctx, true);
    prepare(node.args[1], ctx);
    return;
  }
  const children = [
    node.left,
    node.right,
    node.from,
    node.subject,
    node.expr,
    node.test,
    node.consequent,
    node.alternate,
  ];
  // a guard covers its subject's whole access chain (`r.a.b is defined`), not what brackets hold
  const chain = guarded && (node.type === "Identifier" || node.type === "FilterExpression");
  for (const child of children) prepare(child, ctx, chain && (child === node.from || child === node.subject));
  if (Array.isArray(node.args)) for (const arg of node.args) prepare(arg, ctx);
  if (node.type === "ArrayLiteral") for (const item of node.value) prepare(item, ctx);
  if (node.type === "ObjectLiteral") {
    const entries = Object.entries(node.value as Record<string, Node>).map(([key, value]) => {
      const m = STRING_PLACEHOLDER.exec(key);
      // Jinja reads a bare name as a key's variable; jexl would take it as the text: refuse, not diverge
      if (!m)
        throw syntaxError(
          ctx.expression,
          `the mapping key ${key} is written as a name: Ansible reads it as the variable ${key}, not the text "${key}"`,
          ctx.loc,
          `quote it for the text ({'${key}': …}); for a key taken from a variable, write [{'key': ${key}, 'value': …}] | items2dict`,
        );
      prepare(value, ctx);
      return [m ? ctx.strings[Number(m[1])] : key, value] as const;
    });
    node.value = Object.fromEntries(entries);
  }
}

/**
 * `x.y is failed` (and the other tests on a registered result) also receives the subject's name,
 * so that an error can say which variable holds something else without showing what it holds.
 */
function nameSubject(node: Node): void {
  const test = String(node.name).replace(/^is_(not_)?/, "");
  if (!String(node.name).startsWith("is_") || !RESULT_TESTS.has(test) || node.args?.length !== 1) return;
  const parts: string[] = [];
  for (let n: Node | undefined = node.args[0]; n && n.value !== LENIENT_ROOT; n = n.from) {
    if (n.type !== "Identifier" || n.relative) return;
    parts.unshift(String(n.value));
  }
  if (parts.length > 0) node.args.push({ type: "Literal", value: parts.join(".") });
}

/** Re-roots the chain's first identifier on the lenient view, where a missing name is undefined. */
function makeLenient(node: Node | undefined): void {
  let root = node;
  while (root && (root.from || root.type === "FilterExpression")) root = root.from ?? root.subject;
  const literal =
    root && (STRING_PLACEHOLDER.test(root.value) || String(root.value).startsWith(KEYWORD_PREFIX));
  if (root?.type === "Identifier" && !root.relative && root.value !== LENIENT_ROOT && !literal) {
    root.from = { type: "Identifier", value: LENIENT_ROOT };
  }
}

/** The plugin a lookup call names, when its first argument is a string literal. */
function lookupPlugin(arg: Node | undefined, ctx: Context): string | undefined {
  const m = arg?.type === "Identifier" && !arg.from ? STRING_PLACEHOLDER.exec(String(arg.value)) : null;
  return m ? ctx.strings[Number(m[1])] : undefined;
}

/** "unknown filter "x"", with the closest known name when one is close. */
function unknownName(name: string, pool: string): string {
  const test = name.startsWith("is_");
  const bare = name.replace(/^is_(not_)?/, "");
  const what = pool !== "transforms" ? "function" : test ? "test" : "filter";
  const names = pool !== "transforms" ? ["range"] : Object.keys(test ? TESTS : FILTERS);
  const guess = didYouMean(
    bare,
    names.filter((n) => /^\w+$/.test(n)),
  );
  return `unknown ${what} "${bare}"${guess ? ` (did you mean "${guess}"?)` : ""}`;
}

function recordingErrors(transforms: Record<string, (...args: any[]) => unknown>) {
  const out: Record<string, (...args: any[]) => unknown> = {};
  for (const [name, fn] of Object.entries(transforms)) {
    out[name] = (...args) => {
      try {
        return fn(...args);
      } catch (err) {
        thrown = err;
        throw err;
      }
    };
  }
  return out;
}

function syntaxError(expression: string, why: string, loc?: SourceLocation, hint = HINT): ParseError {
  return new ParseError("EXPRESSION", `invalid expression "${expression}": ${why}`, { location: loc, hint });
}

function evaluationError(err: unknown, expression: string, loc?: SourceLocation): TicklessError {
  if (err instanceof TicklessError) {
    if (err.location || !loc) return err;
    return new ParseError(err.code, err.message, { location: loc, hint: err.hint, cause: err.cause });
  }
  const why = err instanceof Error ? err.message : String(err);
  return new ParseError("EXPRESSION", `expression "${expression}" failed: ${why}`, {
    location: loc,
    hint: HINT,
    cause: err,
  });
}

/** Python's `==`: no type coercion; lists and mappings compare by content. */
function pyEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") {
    return (a === undefined && b === null) || (a === null && b === undefined);
  }
  return JSON.stringify(toPlain(a)) === JSON.stringify(toPlain(b));
}

/** Python's `in`: substring, list member, or mapping key. */
function contains(item: unknown, container: unknown): boolean {
  if (typeof container === "string") return container.includes(String(item));
  if (Array.isArray(container)) return container.some((x) => pyEquals(x, item));
  if (container !== null && typeof container === "object") return String(item) in container;
  return false;
}
