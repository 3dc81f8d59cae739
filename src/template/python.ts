/**
 * How Ansible's templating turns values into text and text back into values: Python's str()
 * and repr(), and the literal_eval Ansible applies to a rendered string that looks like a list,
 * a mapping or a boolean.
 */
import jexlModule from "jexl";
import { Macro } from "./jinja/macro.js";
import { PyDateTime } from "./py-datetime.js";
import { rewriteExpression, STRING_PLACEHOLDER, TUPLE } from "./rewrite.js";
import { isSign, SIGN_OPERATORS } from "./signs.js";

/** Python's repr() of a string: single quotes unless the text holds one and no double quote. */
function reprString(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const escaped = s.replace(
    /[\\\n\r\t]/g,
    (c) => ({ "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c] ?? c,
  );
  return q + (q === "'" ? escaped.replace(/'/g, "\\'") : escaped) + q;
}

/** Python's repr() of the values templates meet. */
export function pyRepr(value: unknown): string {
  if (value instanceof Macro) return `<Macro '${value.name}'>`;
  if (value instanceof PyDateTime) return value.repr();
  if (typeof value === "string") return reprString(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value).map(
      (k) => `${reprString(k)}: ${pyRepr((value as Record<string, unknown>)[k])}`,
    );
    return `{${entries.join(", ")}}`;
  }
  return pyStr(value);
}

/** Python's str(): strings as they are, containers as their repr, True/False/None. */
export function pyStr(value: unknown): string {
  if (value === undefined || value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number" && !Number.isFinite(value)) return value > 0 ? "inf" : "nan";
  if (value instanceof PyDateTime) return value.toString();
  if (typeof value === "object") return pyRepr(value);
  return String(value);
}

/** What one `{{ … }}` contributes to a rendered string: as str(), but None renders as nothing. */
export function pyOutput(value: unknown): string {
  return value === undefined || value === null ? "" : pyStr(value);
}

const literals = new jexlModule.Jexl();
// literal_eval reads a signed number (`[1, -2]`)
Object.assign(literals._grammar.elements, SIGN_OPERATORS);
type Node = Record<string, any>;
const NAMES: Record<string, unknown> = {
  True: true,
  False: false,
  None: null,
  true: true,
  false: false,
  null: null,
};

/**
 * Ansible's last step for a string that was rendered from a template: text that starts with `[`
 * or `{`, or is True/False, goes through Python's literal_eval; text it cannot read stays text.
 */
export function literalValue(text: string): unknown {
  if (text !== "True" && text !== "False" && !/^[[{]/.test(text)) return text;
  const { source, strings, problem } = rewriteExpression(text);
  if (problem) return text;
  try {
    const ast = literals.compile(source)._getAst() as unknown as Node;
    return literalOf(ast, strings);
  } catch {
    return text;
  }
}

/** A literal's value, or a throw when the node is anything else (a name, an operator). */
function literalOf(node: Node, strings: string[]): unknown {
  switch (node.type) {
    case "Literal":
      return node.value;
    case "ArrayLiteral":
      return (node.value as Node[]).map((item) => literalOf(item, strings));
    case "FunctionCall":
      if (node.name !== TUPLE) throw new Error("not a literal");
      return (node.args as Node[]).map((item) => literalOf(item, strings));
    case "ObjectLiteral": {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(node.value as Record<string, Node>)) {
        const m = STRING_PLACEHOLDER.exec(key);
        if (!m) throw new Error("a mapping key must be a string");
        out[strings[Number(m[1])]] = literalOf(value, strings);
      }
      return out;
    }
    case "UnaryExpression": {
      const value = literalOf(node.right, strings);
      if (!isSign(node) || typeof value !== "number") throw new Error("not a literal");
      return SIGN_OPERATORS[node.operator].eval(value);
    }
    case "Identifier": {
      const m = node.from ? null : STRING_PLACEHOLDER.exec(node.value);
      if (m) return strings[Number(m[1])];
      if (!node.from && Object.hasOwn(NAMES, node.value)) return NAMES[node.value];
      throw new Error("not a literal");
    }
    default:
      throw new Error("not a literal");
  }
}
