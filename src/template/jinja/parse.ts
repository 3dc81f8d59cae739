/**
 * Jinja statements as a tree: `if / elif / else`, `for … in … [if …] / else`, `set` (a value or
 * a block), `macro`, `call`, `include`, `import`, `from … import`, output and text. Calls of the
 * macros a template defines or imports are rewritten for the expression engine (macro.ts). Every expression is checked here by the expression engine of
 * `when:` (syntax, filter and test names), so a template's mistakes are found when the playbook
 * loads. Statements tickless does not run (extends, block, filter, with …) are refused with where
 * they stand and what to write instead.
 */
import { ParseError, type SourceLocation } from "../../errors.js";
import type { Position, Tag, Token } from "./lex.js";
import { CALLER, rewriteCalls } from "./macro.js";

/** An expression of the template and where it stands. */
export interface Expr {
  source: string;
  loc?: SourceLocation;
}

export type JinjaNode =
  | { kind: "text"; text: string }
  | { kind: "output"; expr: Expr }
  | { kind: "if"; branches: { test: Expr; body: JinjaNode[] }[]; otherwise: JinjaNode[] }
  | {
      kind: "for";
      targets: string[];
      iter: Expr;
      /** `d.items()`, `d.keys()`, `d.values()`: the mapping is `iter`, this says what to walk. */
      method?: "items" | "keys" | "values";
      filter?: Expr;
      body: JinjaNode[];
      otherwise: JinjaNode[];
    }
  | { kind: "set"; targets: string[]; value: Expr }
  | { kind: "set_block"; target: string; body: JinjaNode[] }
  | { kind: "macro"; name: string; params: Param[]; body: JinjaNode[] }
  | { kind: "call"; params: Param[]; call: Expr; body: JinjaNode[] }
  | { kind: "include"; template: Expr; ignoreMissing: boolean; context: boolean }
  | { kind: "import"; template: Expr; alias?: string; names?: [string, string][]; context: boolean };

/** A macro's (or a call block's) parameter, with its default. */
export interface Param {
  name: string;
  default?: Expr;
}

export interface ParseContext {
  /** Where a position of the template is, for errors and expressions. */
  locate: (at: Position) => SourceLocation | undefined;
  /** Checks an expression (throws a located ParseError). */
  check: (source: string, loc?: SourceLocation) => void;
  /**
   * Checks a template that `include`, `import` or `from` names literally (found where the
   * template module looks); absent for a string of a playbook, which has no templates beside it.
   */
  load?: (name: string, loc?: SourceLocation) => void;
}

const NAMES = String.raw`[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*`;
const FOR = new RegExp(String.raw`^\(?\s*(${NAMES})\s*,?\s*\)?\s+in\s+([\s\S]+)$`);
const SET = new RegExp(String.raw`^(${NAMES})\s*=(?!=)\s*([\s\S]+)$`);
const METHOD = /^([\s\S]+)\.(items|keys|values)\(\s*\)$/;

/** Statements Jinja has that tickless does not run, with what to write instead. */
const REFUSED: Record<string, string> = {
  extends:
    "template inheritance is not supported: render one whole file, with {% include 'part.j2' %} or macros for the shared parts",
  block:
    "template inheritance is not supported: render one whole file, with {% include 'part.j2' %} or macros for the shared parts",
  filter: "filter blocks are not supported: apply the filter to an expression, {{ text | upper }}",
  with: "with blocks are not supported: use {% set name = value %}",
  autoescape: "autoescape is not supported: templates are written as they are",
  do: "the do extension is off in Ansible: use {% set %}",
  break: "the loop controls extension is off in Ansible: filter the loop, {% for x in xs if cond %}",
  continue: "the loop controls extension is off in Ansible: filter the loop, {% for x in xs if cond %}",
  trans: "the i18n extension is off in Ansible",
};

type Statement = Tag;

/** Parses a token list into a tree (throws a located ParseError "TEMPLATE"). */
export function parse(tokens: Token[], ctx: ParseContext): JinjaNode[] {
  let i = 0;
  const fail = (message: string, at: Position, hint: string): never => {
    throw new ParseError("TEMPLATE", message, { location: ctx.locate(at), hint });
  };
  const callable = calledNames(tokens);
  const expr = (written: string, at: Position): Expr => {
    const loc = ctx.locate(at);
    const source = rewriteCalls(written, callable);
    ctx.check(source, loc);
    return { source, loc };
  };
  /** Where an expression inside a statement starts: after its keyword. */
  const after = (tag: Statement, offset: number): Position => ({
    line: tag.inner.line,
    column: tag.inner.column + offset,
  });

  /** Nodes up to one of `ends` (returned with its statement), or to the end at the top. */
  const body = (
    ends: string[],
    opener?: Statement,
  ): { nodes: JinjaNode[]; end?: Statement; word?: string } => {
    const nodes: JinjaNode[] = [];
    while (i < tokens.length) {
      const token = tokens[i++];
      if (token.kind === "text") {
        nodes.push({ kind: "text", text: token.text });
        continue;
      }
      if (token.kind === "output") {
        if (token.source === "") fail("empty {{ }}", token.at, "put an expression inside {{ }}");
        nodes.push({ kind: "output", expr: expr(token.source, token.inner) });
        continue;
      }
      const word = /^\w+/.exec(token.source)?.[0] ?? "";
      if (ends.includes(word)) return { nodes, end: token, word };
      nodes.push(statement(token, word));
    }
    if (opener) {
      const name = /^\w+/.exec(opener.source)?.[0];
      fail(`{% ${name} %} is not closed`, opener.at, `close it with {% ${ends[ends.length - 1]} %}`);
    }
    return { nodes };
  };

  const bare = (tag: Statement, word: string) => {
    if (tag.source !== word) fail(`unexpected text after {% ${word} %}`, tag.at, `write {% ${word} %} alone`);
  };

  const statement = (tag: Statement, word: string): JinjaNode => {
    const rest = tag.source.slice(word.length).trim();
    const restAt = after(tag, tag.source.length - tag.source.slice(word.length).trimStart().length);
    switch (word) {
      case "if":
        return ifNode(tag, rest, restAt);
      case "for":
        return forNode(tag, rest, restAt);
      case "set":
        return setNode(tag, rest, restAt);
      case "macro":
        return macroNode(tag, rest, restAt);
      case "call":
        return callNode(tag, rest, restAt);
      case "include":
      case "import":
      case "from":
        return loadNode(tag, word, rest, restAt);
      case "":
        return fail("empty statement {% %}", tag.at, "write a statement: if, for, set or raw");
    }
    if (Object.hasOwn(REFUSED, word)) return fail(`{% ${word} %} is not supported`, tag.at, REFUSED[word]);
    if (/^(?:end\w+|elif|else)$/.test(word)) {
      return fail(
        `unexpected {% ${word} %}`,
        tag.at,
        "every {% endif %} and {% endfor %} needs its opening tag",
      );
    }
    return fail(
      `unknown statement {% ${word} %}`,
      tag.at,
      "statements: if, elif, else, for, set, raw, macro, call, include, import, from",
    );
  };

  const ifNode = (tag: Statement, rest: string, restAt: Position): JinjaNode => {
    if (!rest) fail("{% if %} needs a condition", tag.at, "write {% if condition %}");
    const branches: { test: Expr; body: JinjaNode[] }[] = [];
    let test = expr(rest, restAt);
    for (;;) {
      const part = body(["elif", "else", "endif"], tag);
      branches.push({ test, body: part.nodes });
      const end = part.end as Statement;
      if (part.word === "endif") {
        bare(end, "endif");
        return { kind: "if", branches, otherwise: [] };
      }
      if (part.word === "else") {
        bare(end, "else");
        const last = body(["endif"], tag);
        bare(last.end as Statement, "endif");
        return { kind: "if", branches, otherwise: last.nodes };
      }
      const condition = end.source.slice(4).trim();
      if (!condition) fail("{% elif %} needs a condition", end.at, "write {% elif condition %}");
      test = expr(condition, after(end, end.source.indexOf(condition)));
    }
  };

  const forNode = (tag: Statement, rest: string, restAt: Position): JinjaNode => {
    const m = FOR.exec(rest);
    if (!m)
      fail("invalid {% for %}", tag.at, "write {% for item in items %} or {% for key, value in d.items() %}");
    const [, names, tail] = m as RegExpExecArray;
    const tailOffset = restAt.column + rest.length - tail.length;
    let source = tail.trim();
    if (/\brecursive$/.test(source) && topLevel(source, "recursive") === source.length - 9) {
      fail("recursive loops are not supported", tag.at, "walk nested data with a loop per level");
    }
    const ifAt = topLevel(source, "if");
    let filter: Expr | undefined;
    if (ifAt >= 0) {
      const condition = source.slice(ifAt + 2).trim();
      if (!condition)
        fail("{% for … if %} needs a condition", tag.at, "write {% for x in xs if condition %}");
      filter = expr(condition, { line: restAt.line, column: tailOffset + source.indexOf(condition, ifAt) });
      source = source.slice(0, ifAt).trim();
    }
    const method = METHOD.exec(source);
    const iterSource = method ? method[1].trim() : source;
    const iter = expr(iterSource, { line: restAt.line, column: tailOffset });
    const part = body(["else", "endfor"], tag);
    let otherwise: JinjaNode[] = [];
    bare(part.end as Statement, part.word as string);
    if (part.word === "else") {
      const last = body(["endfor"], tag);
      bare(last.end as Statement, "endfor");
      otherwise = last.nodes;
    }
    const targets = names.split(",").map((n) => n.trim());
    const walk = method?.[2] as "items" | "keys" | "values" | undefined;
    return {
      kind: "for",
      targets,
      iter,
      ...(walk ? { method: walk } : {}),
      filter,
      body: part.nodes,
      otherwise,
    };
  };

  const setNode = (tag: Statement, rest: string, restAt: Position): JinjaNode => {
    if (/^[A-Za-z_]\w*$/.test(rest)) {
      const part = body(["endset"], tag);
      bare(part.end as Statement, "endset");
      return { kind: "set_block", target: rest, body: part.nodes };
    }
    const m = SET.exec(rest);
    if (!m) {
      const hint = /^[A-Za-z_]\w*\.\w+\s*=/.test(rest)
        ? "namespace() attributes are not supported: set a plain name"
        : "write {% set name = value %}";
      return fail("invalid {% set %}", tag.at, hint);
    }
    const value = m[2].trim();
    const targets = m[1].split(",").map((n) => n.trim());
    return {
      kind: "set",
      targets,
      value: expr(value, { ...restAt, column: restAt.column + rest.indexOf(value) }),
    };
  };

  /** `a, b=1`: names with their defaults, located after `offset` columns of the tag. */
  const params = (tag: Statement, text: string, at: Position): Param[] =>
    splitTop(text)
      .filter((p) => p.text.trim())
      .map((p) => {
        const m = /^\s*([A-Za-z_]\w*)\s*(?:=\s*([\s\S]+))?$/.exec(p.text);
        if (!m) return fail(`invalid parameter "${p.text.trim()}"`, tag.at, "write name or name=default");
        const column = at.column + p.offset + p.text.indexOf(m[2] ?? "");
        return m[2] === undefined
          ? { name: m[1] }
          : { name: m[1], default: expr(m[2].trim(), { line: at.line, column }) };
      });

  const macroNode = (tag: Statement, rest: string, restAt: Position): JinjaNode => {
    const m = /^([A-Za-z_]\w*)\s*\(([\s\S]*)\)$/.exec(rest);
    if (!m) return fail("invalid {% macro %}", tag.at, "write {% macro name(arg, other='default') %}");
    const list = params(tag, m[2], { ...restAt, column: restAt.column + rest.indexOf("(") + 1 });
    const part = body(["endmacro"], tag);
    bare(part.end as Statement, "endmacro");
    return { kind: "macro", name: m[1], params: list, body: part.nodes };
  };

  const callNode = (tag: Statement, rest: string, restAt: Position): JinjaNode => {
    let list: Param[] = [];
    let call = rest;
    let callAt = restAt;
    if (rest.startsWith("(")) {
      const close = closingParen(rest);
      list = params(tag, rest.slice(1, close), { ...restAt, column: restAt.column + 1 });
      call = rest.slice(close + 1).trim();
      callAt = { ...restAt, column: restAt.column + rest.indexOf(call, close + 1) };
    }
    if (!/^[A-Za-z_][\w.\s]*\([\s\S]*\)$/.test(call))
      return fail("invalid {% call %}", tag.at, "write {% call macro_name(args) %}…{% endcall %}");
    const called = expr(call, callAt);
    const source = `${called.source.slice(0, -1).trimEnd()}, ${CALLER})`;
    const part = body(["endcall"], tag);
    bare(part.end as Statement, "endcall");
    return { kind: "call", params: list, call: { ...called, source }, body: part.nodes };
  };

  const loadNode = (tag: Statement, word: string, rest: string, restAt: Position): JinjaNode => {
    if (!ctx.load)
      return fail(
        `{% ${word} %} in a playbook string is not supported`,
        tag.at,
        "put the text in a template file, or write it here",
      );
    const m = LOADS[word].exec(rest);
    if (!m) return fail(`invalid {% ${word} %}`, tag.at, LOAD_HINTS[word]);
    const template = expr(m[1].trim(), restAt);
    const literal = /^(['"])([^'"\\]*)\1$/.exec(m[1].trim());
    const tail = word === "include" ? m[2] : m[3];
    const context =
      word === "include" ? !/without\s+context/.test(tail ?? "") : /\bwith\s+context/.test(tail ?? "");
    const ignoreMissing = word === "include" && /ignore\s+missing/.test(tail ?? "");
    if (literal) ctx.load(literal[2], template.loc);
    if (word === "include") return { kind: "include", template, ignoreMissing, context };
    if (word === "import") return { kind: "import", template, alias: m[2], context };
    const names = m[2].split(",").map((n) => {
      const pair = /^\s*([A-Za-z_]\w*)(?:\s+as\s+([A-Za-z_]\w*))?\s*$/.exec(n);
      if (!pair) return fail(`invalid {% from %} name "${n.trim()}"`, tag.at, LOAD_HINTS.from);
      return [pair[1], pair[2] ?? pair[1]] as [string, string];
    });
    return { kind: "import", template, names, context };
  };

  return body([]).nodes;
}

const CONTEXT = String.raw`(?:\s+(?:with|without)\s+context)?`;
const LOADS: Record<string, RegExp> = {
  include: new RegExp(String.raw`^([\s\S]+?)((?:\s+ignore\s+missing)?${CONTEXT})$`),
  import: new RegExp(String.raw`^([\s\S]+?)\s+as\s+([A-Za-z_]\w*)(${CONTEXT})$`),
  from: new RegExp(String.raw`^([\s\S]+?)\s+import\s+([\w\s,]+?)(${CONTEXT})$`),
};
const LOAD_HINTS: Record<string, string> = {
  include: "write {% include 'file.j2' %}",
  import: "write {% import 'macros.j2' as m %}",
  from: "write {% from 'macros.j2' import name, other as alias %}",
};

/** The names a call may be written to: macros, imports and `caller`. */
function calledNames(tokens: Token[]): Set<string> {
  const names = new Set(["caller"]);
  for (const t of tokens) {
    if (t.kind !== "statement") continue;
    const macro = /^macro\s+([A-Za-z_]\w*)/.exec(t.source);
    const alias = /^import\s[\s\S]*\sas\s+([A-Za-z_]\w*)/.exec(t.source);
    const from = /^from\s[\s\S]*\simport\s+([\w\s,]+?)(?:\s+(?:with|without)\s+context)?$/.exec(t.source);
    if (macro) names.add(macro[1]);
    if (alias) names.add(alias[1]);
    for (const n of from?.[1].split(",") ?? [])
      names.add(
        n
          .trim()
          .split(/\s+as\s+/)
          .pop() ?? "",
      );
  }
  return names;
}

/** The text cut at its top-level commas, with where each part starts. */
function splitTop(text: string): { text: string; offset: number }[] {
  const out: { text: string; offset: number }[] = [];
  let depth = 0;
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === "\\") i++;
    } else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (c === "," && depth === 0) {
      out.push({ text: text.slice(last, i), offset: last });
      last = i + 1;
    }
  }
  out.push({ text: text.slice(last), offset: last });
  return out;
}

/** Where the bracket opening `text` closes. */
function closingParen(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")" && --depth === 0) return i;
  }
  return text.length;
}

/** Where `word` stands alone outside strings and brackets, or -1. */
export function topLevel(source: string, word: string): number {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "'" || c === '"') {
      for (i++; i < source.length && source[i] !== c; i++) if (source[i] === "\\") i++;
    } else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (
      depth === 0 &&
      source.startsWith(word, i) &&
      !/\w/.test(source[i - 1] ?? "") &&
      !/\w/.test(source[i + word.length] ?? "")
    )
      return i;
  }
  return -1;
}
