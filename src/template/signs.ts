/**
 * Jinja's unary `-` and `+` on jexl's tree. rewrite.ts writes a sign as the unary operator NEG or
 * POS; jexl then binds a filter or a test written after the operand (`-x | abs`) to the operand
 * alone, where Jinja's parser (parse_unary) negates the operand with its attributes, indexes and
 * calls, and filters the negated value. `place` moves the sign under those filters and tests, and
 * folds a signed number into a literal.
 */
import { TicklessError } from "../errors.js";
import { pyType } from "./method-args.js";
import { METHOD, NEG, POS } from "./rewrite.js";

type Node = Record<string, any>;

function signed(sign: "-" | "+") {
  return (value: unknown): number => {
    if (typeof value === "number") return sign === "-" ? -value : value;
    if (typeof value === "boolean") return sign === "-" ? -Number(value) : Number(value);
    throw new TicklessError("EXPRESSION", `bad operand type for unary ${sign}: '${pyType(value)}'`, {
      hint: "a sign applies to a number: convert the value first (x | int, x | float)",
    });
  };
}

/** The unary operators' definitions for jexl's grammar: tighter than every binary operator, `**` too (as Jinja's). */
export const SIGN_OPERATORS: Record<
  string,
  { type: "unaryOp"; precedence: number; eval: (v: unknown) => number }
> = {
  [NEG]: { type: "unaryOp", precedence: Number.POSITIVE_INFINITY, eval: signed("-") },
  [POS]: { type: "unaryOp", precedence: Number.POSITIVE_INFINITY, eval: signed("+") },
};

export function isSign(node: Node): boolean {
  return node.type === "UnaryExpression" && (node.operator === NEG || node.operator === POS);
}

/**
 * Moves a sign under the filters and tests that follow its operand, in place (the node becomes the
 * outermost filter's call): `NEG(abs(x))` becomes `abs(NEG(x))`. A method call stays under the
 * sign, as Jinja's postfix does (`-x.count('a')`). Returns whether the node changed.
 */
export function placeSign(node: Node): boolean {
  const calls: Node[] = [];
  for (let n = node.right; isFilter(n); n = n.args[0]) calls.push(n);
  if (calls.length === 0) return false;
  const innermost = calls[calls.length - 1];
  innermost.args[0] = { type: "UnaryExpression", operator: node.operator, right: innermost.args[0] };
  const outer = calls[0];
  for (const key of Object.keys(node)) delete node[key];
  Object.assign(node, outer);
  return true;
}

/** A signed number literal becomes the literal it stands for (`-1`), as jexl's own `-1` is. */
export function foldSign(node: Node): void {
  if (node.right?.type !== "Literal" || typeof node.right.value !== "number") return;
  const value = SIGN_OPERATORS[node.operator].eval(node.right.value);
  for (const key of Object.keys(node)) delete node[key];
  Object.assign(node, { type: "Literal", value });
}

function isFilter(node: Node | undefined): node is Node {
  return (
    node?.type === "FunctionCall" &&
    node.pool === "transforms" &&
    node.name !== METHOD &&
    Array.isArray(node.args) &&
    node.args.length > 0
  );
}
