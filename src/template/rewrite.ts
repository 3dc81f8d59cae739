/** String literals: single or double quoted, backslash escapes. */
const STRING_LITERAL = /'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"/g;

/** Names the placeholders that stand for string literals until the AST is built. */
export const STRING_PLACEHOLDER = /^__tickless_str_(\d+)$/;

/** Names the identifier that carries a keyword argument's name until the AST is built. */
export const KEYWORD_PREFIX = "__tickless_kw_";

/** The transform a method call `x.name(…)` becomes (methods.ts). */
export const METHOD = "__tickless_method";

/** The function a tuple `(a, b)` becomes: it gives the list [a, b] (Python's tuples are lists here). */
export const TUPLE = "__tickless_tuple";

/** The function that brackets followed by an index become, `(a + b)[0]`: jexl indexes only a name or a call. */
export const GROUP = "__tickless_group";

/** The transform a slice `x[a:b:c]` becomes (slice.ts): jexl has no slices. */
export const SLICE = "__tickless_slice";

/** The unary operators that Jinja's `-x` and `+x` become: jexl knows only a minus glued to a number. */
export const NEG = "__tickless_neg";
export const POS = "__tickless_pos";

/** The transform that `loop.cycle(…)` becomes: a method call jexl cannot make. */
export const CYCLE = "__tickless_cycle";

/** Ansible spellings jexl lacks, rewritten to jexl (the order matters: "is not" before "is"). */
const REWRITES: [RegExp, string][] = [
  [/\bloop\s*\.\s*cycle\s*\(/g, `loop|${CYCLE}(`],
  [/\bis\s+not\s+([A-Za-z_]\w*)/g, "|is_not_$1"],
  [/\bis\s+([A-Za-z_]\w*)/g, "|is_$1"],
  [/\bnot\s+in\b/g, " not_in "],
  // `xs.0` is Jinja's index; jexl reads `.0` as a number
  [/(\b[A-Za-z_]\w*|[\])])\.(\d+)\b/g, "$1[$2]"],
  // a Python method call, `x.split(',')`: jexl would drop its subject (methods.ts answers it)
  [/(^|[\w\])}])\s*\.\s*([A-Za-z_]\w*)\s*\(\s*\)/g, `$1|${METHOD}(${KEYWORD_PREFIX}$2)`],
  [/(^|[\w\])}])\s*\.\s*([A-Za-z_]\w*)\s*\(/g, `$1|${METHOD}(${KEYWORD_PREFIX}$2, `],
  // a filter's keyword argument, `map(attribute='name')`: a pair that expression.ts unpacks
  [/\b([A-Za-z_]\w*)\s*=(?!=)/g, `${KEYWORD_PREFIX}$1 := `],
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
  const problem = bracketProblem(code);
  if (!problem) code = unarySigns(tuples(testArguments(code)));
  return { source: (problem ? code : conditionals(code)).trim(), strings, problem };
}

function rewriteCode(code: string): string {
  let out = code;
  for (const [pattern, replacement] of REWRITES) out = out.replace(pattern, replacement);
  return out;
}

/** Words that end a test rather than give it an argument (`x is odd and y`). */
const NOT_ARGUMENTS = new Set(["and", "or", "else", "if", "in", "not_in", "not", "is"]);

/**
 * Jinja's test argument without parentheses, `x is divisibleby 3`, `x is sameas false`: one
 * primary (a name, a number, a string, a list or mapping) with its attributes, indexes and
 * calls, as Jinja's parser takes it; written here as `x|is_divisibleby(3)`.
 */
function testArguments(code: string): string {
  let out = "";
  let last = 0;
  for (const m of code.matchAll(/\|is_(?:not_)?\w+([^\S\n]+)(?=[\w[{])/g)) {
    const start = (m.index ?? 0) + m[0].length;
    const word = /^[A-Za-z_]\w*/.exec(code.slice(start))?.[0];
    if (word && NOT_ARGUMENTS.has(word)) continue;
    let end = start;
    if (code[end] === "[" || code[end] === "{") end = closing(code, end) + 1;
    else end += /^[\w.]+/.exec(code.slice(end))?.[0].length ?? 0;
    for (;;) {
      const postfix = /^\s*(?:\.\s*[A-Za-z_]\w*|[[(])/.exec(code.slice(end));
      if (!postfix) break;
      const bracket = postfix[0].trimStart()[0];
      end =
        bracket === "[" || bracket === "("
          ? closing(code, end + postfix[0].length - 1) + 1
          : end + postfix[0].length;
    }
    out += `${code.slice(last, start - m[1].length)}(${code.slice(start, end)})`;
    last = end;
  }
  return out + code.slice(last);
}

/** Words after which `(` opens a group, not a call's arguments. */
const GROUP_AFTER = new Set(["and", "or", "not", "in", "not_in", "if", "else"]);

/** Python's tuple `(a, b)`, `(a,)`: brackets that group (not a call's) around a top-level comma. */
function tuples(code: string): string {
  let out = "";
  for (let i = 0; i < code.length; i++) {
    if (!"([{".includes(code[i])) {
      out += code[i];
      continue;
    }
    const end = closing(code, i);
    const inner = tuples(code.slice(i + 1, end));
    const before = out.trimEnd();
    const word = /\w+$/.exec(before)?.[0];
    const group = word ? GROUP_AFTER.has(word) : !/[)\]}]$/.test(before);
    const bounds = code[i] === "[" && !group ? splitTopLevel(inner, /:/g) : [];
    if (bounds.length > 1) {
      // Python's slice: each bound left out is None
      const parts = bounds.filter((b) => typeof b === "string").map((b) => (b.trim() === "" ? "null" : b));
      out += `|${SLICE}(${parts.join(", ")})`;
    } else if (code[i] === "(" && group && splitTopLevel(inner, /,/g).length > 1) {
      out += `${TUPLE}(${inner.replace(/,\s*$/, "")})`;
    } else if (group && (/^\s*\[/.test(code.slice(end + 1)) || /[-+]$/.test(before))) {
      // an index on brackets (jexl indexes only a name or a call), or a sign on them: the sign
      // then takes the brackets' value, not a filter inside them (`-(x | first) | abs`)
      out += code[i] === "(" ? `${GROUP}(${inner})` : `${GROUP}(${code[i]}${inner}${code[end]})`;
    } else {
      out += code[i] + inner + code[end];
    }
    i = end;
  }
  return out;
}

/** Words after which `-` and `+` are a sign, not a subtraction or an addition. */
const SIGN_AFTER = new Set(["and", "or", "not", "in", "not_in", "if", "else", NEG, POS]);

/**
 * Jinja's unary `-` and `+` (`[1, -2]`, `-x`, `-(a + b)`, `range(5, -1, -1)`): a sign where no
 * operand ends before it (the start, an opening bracket, a comma, a colon, an operator or a word
 * such as `and`), written as jexl's unary operators NEG and POS (expression.ts gives them Jinja's
 * binding: a filter after `-x` takes the negated value).
 */
function unarySigns(code: string): string {
  let out = "";
  for (const c of code) {
    if (c !== "-" && c !== "+") {
      out += c;
      continue;
    }
    const before = out.trimEnd();
    const word = /\w+$/.exec(before)?.[0];
    const sign = word ? SIGN_AFTER.has(word) : !/[)\]}]$/.test(before);
    out += sign ? ` ${c === "-" ? NEG : POS} ` : c;
  }
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

/** Where each bracket opened at `start` closes (brackets balance: bracketProblem ran first). */
function closing(code: string, start: number): number {
  let depth = 0;
  for (let i = start; i < code.length; i++) {
    if ("([{".includes(code[i])) depth++;
    else if (")]}".includes(code[i]) && --depth === 0) return i;
  }
  return code.length - 1;
}

/**
 * Python's `a if c else b` as jexl's `(c) ? (a) : (b)`, inside brackets first; each item of a
 * list, call or mapping on its own (split at its commas and colons).
 */
function conditionals(code: string): string {
  let flat = "";
  for (let i = 0; i < code.length; i++) {
    if ("([{".includes(code[i])) {
      const end = closing(code, i);
      flat += code[i] + conditionals(code.slice(i + 1, end)) + code[end];
      i = end;
    } else {
      flat += code[i];
    }
  }
  return splitTopLevel(flat, /,|:(?!=)/g)
    .map((part) => (typeof part === "string" ? ternary(part) : part.sep))
    .join("");
}

/** The text cut at `sep` where it is outside brackets; separators kept as {sep}. */
function splitTopLevel(code: string, sep: RegExp): (string | { sep: string })[] {
  const out: (string | { sep: string })[] = [];
  let depth = 0;
  let last = 0;
  for (let i = 0; i < code.length; i++) {
    if ("([{".includes(code[i])) depth++;
    else if (")]}".includes(code[i])) depth--;
    else if (depth === 0) {
      sep.lastIndex = i;
      const m = sep.exec(code);
      if (m && m.index === i) {
        out.push(code.slice(last, i), { sep: m[0] });
        last = i + m[0].length;
        i = last - 1;
      }
    }
  }
  out.push(code.slice(last));
  return out;
}

function ternary(code: string): string {
  const words = splitTopLevel(code, /\b(?:if|else)\b/g);
  const at = words.findIndex((w) => typeof w !== "string" && w.sep === "if");
  if (at < 0) return code;
  const text = (from: number, to?: number) =>
    words
      .slice(from, to)
      .map((w) => (typeof w === "string" ? w : ` ${w.sep} `))
      .join("");
  const elseAt = words.findIndex((w, i) => i > at && typeof w !== "string" && w.sep === "else");
  const value = text(0, at);
  const test = text(at + 1, elseAt < 0 ? undefined : elseAt);
  const other = elseAt < 0 ? "null" : ternary(text(elseAt + 1));
  return ` ((${test}) ? (${value}) : (${other})) `;
}
