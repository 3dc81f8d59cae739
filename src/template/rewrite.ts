/** String literals: single or double quoted, backslash escapes. */
const STRING_LITERAL = /'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"/g;

/** Names the placeholders that stand for string literals until the AST is built. */
export const STRING_PLACEHOLDER = /^__tickless_str_(\d+)$/;

/** Ansible spellings jexl lacks, rewritten to jexl (the order matters: "is not" before "is"). */
const REWRITES: [RegExp, string][] = [
  [/\bis\s+not\s+([A-Za-z_]\w*)/g, "|is_not_$1"],
  [/\bis\s+([A-Za-z_]\w*)/g, "|is_$1"],
  [/\bnot\s+in\b/g, " not_in "],
];

const PAIRS: Record<string, string> = { ")": "(", "]": "[", "}": "{" };

export interface Rewritten {
  /** The jexl source, with each string literal replaced by a placeholder identifier. */
  source: string;
  /** The decoded string literals, by placeholder number. */
  strings: string[];
  /** Why the brackets do not balance, if they do not (jexl accepts "(n"). */
  problem?: string;
}

/** Strips a whole-expression `{{ … }}` wrapper, which people write in `when:` out of habit. */
export function stripBraces(expression: string): string {
  const text = expression.trim();
  const m = /^\{\{([\s\S]*)\}\}$/.exec(text);
  return m && !m[1].includes("{{") && !m[1].includes("}}") ? m[1].trim() : text;
}

/**
 * Rewrites Ansible's tests and `not in` into jexl, outside string literals only:
 * `x is defined` → `x|is_defined`, `x is not failed` → `x|is_not_failed`,
 * `a not in b` → `a not_in b`. String literals are decoded here, Python-style, because
 * jexl's own unescaping handles only the first `\\`.
 */
export function rewriteExpression(expression: string): Rewritten {
  const text = stripBraces(expression);
  const strings: string[] = [];
  let code = "";
  let last = 0;
  for (const m of text.matchAll(STRING_LITERAL)) {
    code += rewriteCode(text.slice(last, m.index));
    code += ` __tickless_str_${strings.length} `;
    strings.push(decode(m[0]));
    last = m.index + m[0].length;
  }
  code += rewriteCode(text.slice(last));
  return { source: code.trim(), strings, problem: bracketProblem(code) };
}

function rewriteCode(code: string): string {
  let out = code;
  for (const [pattern, replacement] of REWRITES) out = out.replace(pattern, replacement);
  return out;
}

/** Python string escapes: \\ \' \" \n \t \r; any other backslash stays as written (regexes). */
function decode(literal: string): string {
  const escapes: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', n: "\n", t: "\t", r: "\r" };
  return literal.slice(1, -1).replace(/\\(.)/gs, (all, c: string) => escapes[c] ?? all);
}

function bracketProblem(code: string): string | undefined {
  const open: string[] = [];
  for (const c of code) {
    if (c === "(" || c === "[" || c === "{") open.push(c);
    else if (c in PAIRS && open.pop() !== PAIRS[c]) return `unexpected "${c}"`;
  }
  if (code.includes("'") || code.includes('"')) return "a string is not closed";
  return open.length ? `"${open[open.length - 1]}" is not closed` : undefined;
}
