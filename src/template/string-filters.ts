/**
 * Ansible's STRING_TYPE_FILTERS (`string`, `to_json`, `to_nice_json`, `to_yaml`, `to_nice_yaml`,
 * `ppretty`, `json`): what one of them gives stays text, where a rendered string that reads as a
 * list or mapping is otherwise turned into one (ansible-core marks their output NativeJinjaText).
 * That holds when the filter is the last step of a string's only expression, with nothing around
 * it but the one trailing newline Jinja drops (and Ansible puts back): `"{{ d | to_nice_json }}\n"`.
 */
import type { FoundExpression } from "./mustaches.js";

const STRING_TYPE_FILTERS = new Set([
  "string",
  "to_json",
  "to_nice_json",
  "to_yaml",
  "to_nice_yaml",
  "ppretty",
  "json",
]);

/** Whether a string whose expressions are these keeps its rendered text as it is. */
export function keepsText(source: string, expressions: FoundExpression[]): boolean {
  if (expressions.length !== 1 || !source.endsWith("}}\n") || source.endsWith("}}\n\n")) return false;
  const only = /^\{\{[\s\S]*\}\}\n$/.test(source) && source.indexOf("{{", 2) < 0;
  return only && endsWithStringFilter(expressions[0].source);
}

/** Whether an expression's last step is a filter of STRING_TYPE_FILTERS (`x | to_json(indent=2)`). */
export function endsWithStringFilter(expression: string): boolean {
  let depth = 0;
  let lastPipe = -1;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === "'" || c === '"') {
      const end = expression.indexOf(c, i + 1);
      if (end < 0) return false;
      i = end;
    } else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (c === "|" && depth === 0) lastPipe = i;
  }
  if (lastPipe < 0) return false;
  const m = /^\s*(\w+)\s*(\([\s\S]*\))?\s*$/.exec(expression.slice(lastPipe + 1));
  if (!m || !STRING_TYPE_FILTERS.has(m[1])) return false;
  // the arguments' parentheses must close at the end, not before (`to_json(x) or y`)
  return !m[2] || closesAtEnd(m[2]);
}

function closesAtEnd(args: string): boolean {
  let depth = 0;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "'" || args[i] === '"') {
      const end = args.indexOf(args[i], i + 1);
      if (end < 0) return false;
      i = end;
    } else if (args[i] === "(") depth++;
    else if (args[i] === ")" && --depth === 0) return i === args.length - 1;
  }
  return false;
}
