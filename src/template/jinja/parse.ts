/**
 * Jinja statements as a tree: `if / elif / else`, `for … in … [if …] / else`, `set` (a value or
 * a block), output and text. Every expression is checked here by the expression engine of
 * `when:` (syntax, filter and test names), so a template's mistakes are found when the playbook
 * loads. Statements tickless does not run (macro, include, import, extends, call, filter …)
 * are refused with where they stand and what to write instead.
 */
import { ParseError, type SourceLocation } from "../../errors.js";
import type { Position, Tag, Token } from "./lex.js";

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
  | { kind: "set_block"; target: string; body: JinjaNode[] };

export interface ParseContext {
  /** Where a position of the template is, for errors and expressions. */
  locate: (at: Position) => SourceLocation | undefined;
  /** Checks an expression (throws a located ParseError). */
  check: (source: string, loc?: SourceLocation) => void;
}

const NAMES = String.raw`[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*`;
const FOR = new RegExp(String.raw`^\(?\s*(${NAMES})\s*,?\s*\)?\s+in\s+([\s\S]+)$`);
const SET = new RegExp(String.raw`^(${NAMES})\s*=(?!=)\s*([\s\S]+)$`);
const METHOD = /^([\s\S]+)\.(items|keys|values)\(\s*\)$/;

const INLINE = "write the text out where it is used, or loop over a list of values";
/** Statements Jinja has that tickless does not run, with what to write instead. */
const REFUSED: Record<string, string> = {
  macro: `macros are not supported: ${INLINE}`,
  call: `macro calls are not supported: ${INLINE}`,
  include: "one template renders one file: put the included text in this template",
  import: "macros are not supported: put the imported text in this template",
  from: "macros are not supported: put the imported text in this template",
  extends: "template inheritance is not supported: render one whole file",
  block: "template inheritance is not supported: render one whole file",
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
  const expr = (source: string, at: Position): Expr => {
    const loc = ctx.locate(at);
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
    return fail(`unknown statement {% ${word} %}`, tag.at, "statements: if, elif, else, for, set, raw");
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

  return body([]).nodes;
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
