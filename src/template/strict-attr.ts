/**
 * Attribute access in expressions as Ansible's: `r.nope` (or `r['nope']`) on a mapping without
 * that key is an error ("'dict object' has no attribute 'nope'"), not a silent undefined. Guarded
 * subjects (`r.nope is defined`, `r.nope|default(…)`) keep reading it as undefined (expression.ts
 * rewrites only the unguarded accesses into a call of `strictAttr`).
 */
import { ParseError } from "../errors.js";

/** The function name the rewritten accesses call. */
export const STRICT_ATTR = "__tickless_attr";

type Node = Record<string, any>;

/**
 * Python's negative index on a list or a string: `l[-1]` is the last item; an index out of range
 * (either way) reads as undefined, as Jinja's getitem gives Undefined on IndexError.
 */
function pyIndex(from: unknown, key: unknown): string | undefined {
  if (!Array.isArray(from) && typeof from !== "string") return undefined;
  if (typeof key !== "number" || !Number.isInteger(key) || key >= 0) return undefined;
  return String(from.length + key);
}

/**
 * `subject.key` (`dotted`) or `subject[key]`, refusing a key a mapping does not have; everything
 * else as jexl reads it (a dotted name on a list reads its first element, on nothing is undefined).
 * `path` names the access for the error.
 */
export function strictAttr(subject: unknown, key: unknown, path: string, dotted: boolean): unknown {
  if (!dotted && typeof key === "boolean") return key ? subject : undefined;
  if (dotted && (subject === null || subject === undefined)) return undefined;
  let from = subject as Record<string, unknown>;
  if (dotted && Array.isArray(subject)) from = subject[0] as Record<string, unknown>;
  if (from === null || from === undefined) return undefined;
  const name = (dotted ? undefined : pyIndex(from, key)) ?? String(key);
  if (typeof from === "object" && !Array.isArray(from) && !(name in from)) {
    throw new ParseError("UNDEFINED_VARIABLE", `'dict object' has no attribute '${name}' (in "${path}")`, {
      hint: `guard it with "${path} is defined" or "${path}|default(…)"`,
    });
  }
  return from[name];
}

/** The text of an access chain, for the error: `r.stat.nope`, `r['nope']`. */
export function accessPath(node: Node | undefined): string {
  if (!node) return "?";
  if (node.type === "Identifier")
    return node.from ? `${accessPath(node.from)}.${node.value}` : String(node.value);
  if (node.type === "FilterExpression" && node.expr?.type === "Literal") {
    return `${accessPath(node.subject)}[${JSON.stringify(node.expr.value)}]`;
  }
  if (node.type === "FunctionCall" && node.name === STRICT_ATTR) return String(node.args[2]?.value ?? "?");
  return "…";
}

const TRUE = { type: "Literal", value: true };
const FALSE = { type: "Literal", value: false };

/** Rewrites `a.b` / `a['b']` (not a relative filter, not off the lenient root) in place into a strictAttr call. */
export function makeStrict(node: Node, lenientRoot: string): void {
  if (node.type === "Identifier" && node.from && !node.relative && node.from.value !== lenientRoot) {
    const args = [
      node.from,
      { type: "Literal", value: node.value },
      { type: "Literal", value: accessPath(node) },
      TRUE,
    ];
    for (const k of Object.keys(node)) delete node[k];
    Object.assign(node, { type: "FunctionCall", name: STRICT_ATTR, pool: "functions", args });
  } else if (node.type === "FilterExpression" && !node.relative) {
    const args = [node.subject, node.expr, { type: "Literal", value: accessPath(node) }, FALSE];
    for (const k of Object.keys(node)) delete node[k];
    Object.assign(node, { type: "FunctionCall", name: STRICT_ATTR, pool: "functions", args });
  }
}

/** The function name a guarded `subject[key]` calls (`x['a']['b'] is defined`). */
export const LENIENT_ATTR = "__tickless_lenient_attr";

/** `subject[key]` under a guard: undefined where the subject is (Jinja's Undefined goes on). */
export function lenientAttr(subject: unknown, key: unknown): unknown {
  if (typeof key === "boolean") return key ? subject : undefined;
  if (subject === null || subject === undefined) return undefined;
  return (subject as Record<string, unknown>)[pyIndex(subject, key) ?? String(key)];
}

/** Rewrites a guarded `a[b]` (not a relative filter) in place into a lenientAttr call. */
export function makeLenientAccess(node: Node): void {
  const args = [node.subject, node.expr];
  for (const k of Object.keys(node)) delete node[k];
  Object.assign(node, { type: "FunctionCall", name: LENIENT_ATTR, pool: "functions", args });
}
