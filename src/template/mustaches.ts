/**
 * Which `{{ … }}` in a template is Handlebars and which is an Ansible expression. Handlebars
 * keeps its own forms: blocks (`{{#if}}`, `{{/if}}`, `{{else}}`), comments, `{{{raw}}}`, plain
 * paths and literals, and helper calls (`{{join cores " "}}`). Anything else (`{{ x | default(1) }}`,
 * `{{ a + 1 }}`, `{{ 'y' if c else 'n' }}`) goes to the expression engine of `when:`; the template
 * Handlebars compiles calls EXPRESSION_HELPER with the expression's number in its place.
 */

/** The internal helper that evaluates expression N of its template. */
export const EXPRESSION_HELPER = "__tickless_expr";

/** The internal helper that writes a top-level path's value as Python's str() does. */
export const TEXT_HELPER = "__tickless_text";

/** An Ansible expression found in a template, and where it starts (1-based). */
export interface FoundExpression {
  source: string;
  line: number;
  column: number;
}

export interface Split {
  /** The template for Handlebars, each expression replaced by a call of EXPRESSION_HELPER. */
  handlebars: string;
  expressions: FoundExpression[];
}

// no "-" in a name: Jinja reads `{{ n-1 }}` as a subtraction (an Ansible variable's name has none)
const PATH = /^(?:@?[A-Za-z_$][\w$]*|this|\.\.?)(?:(?:\.|\/)(?:\[[^\]]*\]|[A-Za-z_$][\w$]*))*$/;
const LITERAL = /^(?:-?\d+(?:\.\d+)?|'[^'\\]*'|"[^"\\]*"|true|false|null|undefined)$/;
const PYTHON_CONSTANT = /^(?:None|none|True|False)$/;
/** What follows a first word when the mustache is an expression, not a helper call. */
const OPERATOR_NEXT = /^(?:[|~+*/%=!<>.[-]|(?:is|in|and|or|if|not)\b)/;

/** Where the mustache opened at `start` ends (past its `}}`), skipping quoted strings. */
function mustacheEnd(source: string, start: number): number {
  if (source.startsWith("{{{", start)) {
    const end = source.indexOf("}}}", start + 3);
    return end < 0 ? source.length : end + 3;
  }
  if (source.startsWith("{{!--", start)) {
    const end = source.indexOf("--}}", start + 5);
    return end < 0 ? source.length : end + 4;
  }
  let quote = "";
  for (let i = start + 2; i < source.length; i++) {
    const c = source[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === "}" && source[i + 1] === "}") {
      return i + 2;
    }
  }
  return source.length;
}

/** True when the mustache's inside is a Handlebars form rather than an Ansible expression. */
export function isHandlebarsForm(inner: string): boolean {
  if (/^[#/^!>&]/.test(inner) || /^else\b/.test(inner)) return true;
  // Python's spellings of the constants are the expression engine's
  if (PYTHON_CONSTANT.test(inner)) return false;
  if (inner === "" || PATH.test(inner) || LITERAL.test(inner)) return true;
  const call = /^([A-Za-z_][\w-]*)\s+(\S[\s\S]*)$/.exec(inner);
  // `name arg …` is a helper call (an unknown name is reported as an unknown helper)
  return !!call && call[1] !== "not" && !OPERATOR_NEXT.test(call[2]);
}

/**
 * Finds the Ansible expressions of a template and hands Handlebars the rest; in a template
 * that has expressions, top-level paths are written by TEXT_HELPER.
 */
export function splitTemplate(source: string, helpers: Record<string, unknown>): Split {
  const plain = splitWith(source, undefined);
  return plain.expressions.length === 0 ? plain : splitWith(source, helpers);
}

/** One pass; with `helpers`, top-level paths are rewritten for TEXT_HELPER too. */
function splitWith(source: string, helpers: Record<string, unknown> | undefined): Split {
  const expressions: FoundExpression[] = [];
  let depth = 0;
  let handlebars = "";
  let last = 0;
  for (let start = source.indexOf("{{"); start >= 0; start = source.indexOf("{{", last)) {
    const end = mustacheEnd(source, start);
    const text = source.slice(start, end);
    const m = /^\{\{(~?)([\s\S]*?)(~?)\}\}$/.exec(text);
    const inner = m ? m[2].trim() : "";
    handlebars += source.slice(last, start);
    if (m && /^#/.test(inner)) depth++;
    if (m && /^\//.test(inner)) depth--;
    const topPath =
      depth === 0 && PATH.test(inner) && !/^(?:this|@|\.)/.test(inner) && !PYTHON_CONSTANT.test(inner);
    if (m && topPath && helpers && !Object.hasOwn(helpers, inner) && !source.startsWith("{{{", start)) {
      // outside blocks, a path's value is written as Ansible writes it (True, ['a', 'b'])
      handlebars += `{{${m[1]}${TEXT_HELPER} ${inner}${m[3]}}}`;
    } else if (!m || source.startsWith("{{{", start) || isHandlebarsForm(inner)) {
      handlebars += text;
    } else {
      const before = source.slice(0, start).split("\n");
      expressions.push({ source: inner, line: before.length, column: before[before.length - 1].length + 1 });
      handlebars += `{{${m[1]}${EXPRESSION_HELPER} ${expressions.length - 1}${m[3]}}}`;
    }
    last = end;
  }
  return { handlebars: handlebars + source.slice(last), expressions };
}
