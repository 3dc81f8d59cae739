/**
 * Jinja's lexer rules for the three kinds of tags, as Jinja 3 applies them: `{{ … }}` output,
 * `{% … %}` statements, `{# … #}` comments, `{% raw %}…{% endraw %}`; whitespace control with
 * `-` (strip every space and newline on that side) and `+` (keep them); `trim_blocks` (the
 * newline right after a statement or comment goes) and `lstrip_blocks` (spaces before a
 * statement alone on its line go). What is inside `{{ }}` and `{% %}` stays text here: the
 * expression engine of `when:` reads it. (Written here rather than taken from nunjucks, whose
 * parser turns expressions into its own tree with JavaScript's semantics: tickless needs each
 * expression's text for the one engine, and Jinja's lexer rules are these few.)
 */
export interface JinjaOptions {
  trimBlocks: boolean;
  lstripBlocks: boolean;
  keepTrailingNewline: boolean;
  /** The template module's `variable_start_string` … `comment_end_string`; Jinja's by default. */
  delimiters?: Partial<Delimiters>;
  /** What each newline of the template's text becomes (the template module's `newline_sequence`). */
  newlineSequence?: string;
  /** Jinja's `line_statement_prefix`: a line starting with it (after blanks) is one statement. */
  lineStatementPrefix?: string;
}

/** The six strings that open and close Jinja's tags. */
export interface Delimiters {
  variableStart: string;
  variableEnd: string;
  blockStart: string;
  blockEnd: string;
  commentStart: string;
  commentEnd: string;
}

export const JINJA_DELIMITERS: Delimiters = {
  variableStart: "{{",
  variableEnd: "}}",
  blockStart: "{%",
  blockEnd: "%}",
  commentStart: "{#",
  commentEnd: "#}",
};

/** Where something starts in the template: 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** A `{{ … }}` or `{% … %}`: its inside (trimmed), where the tag and its inside start. */
export interface Tag {
  kind: "output" | "statement";
  source: string;
  at: Position;
  inner: Position;
}

export type Token = { kind: "text"; text: string } | Tag;

/** A syntax error at a position of the template; the caller adds the file. */
export class JinjaSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: Position,
    readonly hint: string,
  ) {
    super(message);
  }
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's ${#var}, shown to the user
const COMMENT_HINT = "close it with #}; a literal {# (as in the shell's ${#var}) is written {{ '{#' }}";
const CLOSERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
type TagKind = "output" | "statement" | "comment";

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The delimiters of a render, and the raw block's patterns written with them. */
function delimitersOf(options: JinjaOptions) {
  const d = { ...JINJA_DELIMITERS, ...options.delimiters };
  const [bs, be] = [escapeRe(d.blockStart), escapeRe(d.blockEnd)];
  const opens: [string, TagKind][] = [
    [d.variableStart, "output"],
    [d.blockStart, "statement"],
    [d.commentStart, "comment"],
  ];
  opens.sort((a, b) => b[0].length - a[0].length);
  return {
    ...d,
    opens,
    rawBegin: new RegExp(`${bs}([-+]?)\\s*raw\\s*(-${be}\\s*|${be})`, "y"),
    rawEnd: new RegExp(`${bs}([-+]?)\\s*endraw\\s*(\\+${be}|-${be}\\s*|${be}\\n?)`, "g"),
  };
}

/** Splits a template (newlines already `\n`) into text, output and statement tokens. */
export function tokenize(text: string, options: JinjaOptions): Token[] {
  const kept = !options.keepTrailingNewline && text.endsWith("\n") ? text.slice(0, -1) : text;
  const d = delimitersOf(options);
  const source = options.lineStatementPrefix ? lineStatements(kept, options.lineStatementPrefix, d) : kept;
  const position = positions(source);
  const newline = options.newlineSequence ?? "\n";
  const tokens: Token[] = [];
  let pos = 0;
  let lineStarting = true;
  const pushText = (t: string) => {
    if (t) tokens.push({ kind: "text", text: newline === "\n" ? t : t.replace(/\n/g, newline) });
  };
  while (pos < source.length) {
    const next = nextTag(source, pos, d.opens);
    if (!next) break;
    const { start, open, kind } = next;
    const sign = "-+".includes(source[start + open.length] ?? "") ? source[start + open.length] : "";
    pushText(stripBefore(source.slice(pos, start), sign, kind, options.lstripBlocks, lineStarting));
    d.rawBegin.lastIndex = start;
    const raw = d.rawBegin.exec(source);
    if (raw) {
      d.rawEnd.lastIndex = d.rawBegin.lastIndex;
      const end = d.rawEnd.exec(source);
      if (!end) throw new JinjaSyntaxError("missing {% endraw %}", position(start), "close the raw block");
      const body = source.slice(d.rawBegin.lastIndex, end.index);
      pushText(stripBefore(body, end[1], "statement", options.lstripBlocks, /\n$/.test(raw[0])));
      pos = end.index + end[0].length - (!options.trimBlocks && end[2] === `${d.blockEnd}\n` ? 1 : 0);
      lineStarting = source[pos - 1] === "\n";
      continue;
    }
    const from = start + open.length + sign.length;
    if (kind === "comment") {
      const end = commentEnd(source, from, options.trimBlocks, d.commentEnd);
      if (!end) throw new JinjaSyntaxError("missing end of comment tag", position(start), COMMENT_HINT);
      pos = end.after;
    } else {
      const closer = kind === "output" ? d.variableEnd : d.blockEnd;
      const end = tagEnd(source, from, kind, closer, options.trimBlocks, position);
      if (!end) {
        throw new JinjaSyntaxError(
          `unexpected end of template: ${source.slice(start, start + 2)} is not closed`,
          position(start),
          `close it with ${closer}`,
        );
      }
      const inner = source.slice(from, end.at);
      const lead = inner.length - inner.trimStart().length;
      tokens.push({ kind, source: inner.trim(), at: position(start), inner: position(from + lead) });
      pos = end.after;
    }
    lineStarting = source[pos - 1] === "\n";
  }
  pushText(source.slice(pos));
  return tokens;
}

/**
 * Line statements written as statement tags: `: if x` (blanks before it dropped) becomes
 * `{%+ if x` and its newline `+%}`, so the line's newline goes with it (Jinja's
 * linestatement_end), neither trim_blocks nor lstrip_blocks applies, and lines keep their numbers.
 */
function lineStatements(source: string, prefix: string, d: Delimiters): string {
  const line = new RegExp(`^[ \\t\\v]*${escapeRe(prefix)}(.*)(\\n|$)`, "gm");
  return source.replace(line, (_, body: string, nl: string) => `${d.blockStart}+${body}${nl}+${d.blockEnd}`);
}

/**
 * The next tag from `pos` on: the first delimiter found, the longest where two start at the same
 * place (as Jinja's lexer orders its rules).
 */
function nextTag(
  source: string,
  pos: number,
  opens: [string, TagKind][],
): { start: number; open: string; kind: TagKind } | undefined {
  let found: { start: number; open: string; kind: TagKind } | undefined;
  for (const [open, kind] of opens) {
    const start = source.indexOf(open, pos);
    if (start >= 0 && (!found || start < found.start)) found = { start, open, kind };
  }
  return found;
}

/** The text before a tag, with `-` or lstrip_blocks applied. */
function stripBefore(
  text: string,
  sign: string,
  kind: string,
  lstrip: boolean,
  lineStarting: boolean,
): string {
  if (sign === "-") return text.trimEnd();
  if (sign === "+" || !lstrip || kind === "output") return text;
  const lineStart = text.lastIndexOf("\n") + 1;
  if ((lineStart > 0 || lineStarting) && /^[^\S\n]+$/.test(text.slice(lineStart)))
    return text.slice(0, lineStart);
  return text;
}

/** The end of a comment: the first `#}`, with its `-` or `+` and trim_blocks. */
function commentEnd(
  source: string,
  from: number,
  trimBlocks: boolean,
  closer: string,
): { after: number } | undefined {
  const close = source.indexOf(closer, from);
  if (close < 0) return undefined;
  const sign = close > from ? source[close - 1] : "";
  return { after: afterClose(source, close + closer.length, sign, trimBlocks) };
}

/** Past a closing delimiter: `-` eats all following whitespace, trim_blocks one newline. */
function afterClose(source: string, after: number, sign: string, trimBlocks: boolean): number {
  if (sign === "-") {
    let i = after;
    while (i < source.length && /\s/.test(source[i])) i++;
    return i;
  }
  if (sign !== "+" && trimBlocks && source[after] === "\n") return after + 1;
  return after;
}

/**
 * The end of an output or statement tag: its closer outside strings and brackets (as Jinja's
 * lexer balances them), with `-` / `+` before it.
 */
function tagEnd(
  source: string,
  from: number,
  kind: "output" | "statement",
  closer: string,
  trimBlocks: boolean,
  position: (i: number) => Position,
): { at: number; after: number } | undefined {
  const open: string[] = [];
  for (let i = from; i < source.length; i++) {
    const c = source[i];
    if (open.length === 0) {
      const signed = (c === "-" || (c === "+" && kind === "statement")) && source.startsWith(closer, i + 1);
      if (signed || source.startsWith(closer, i)) {
        const close = signed ? i + 1 : i;
        const after = afterClose(
          source,
          close + closer.length,
          signed ? c : "",
          kind === "statement" && trimBlocks,
        );
        return { at: i, after };
      }
    }
    if (c === "'" || c === '"') {
      const end = stringEnd(source, i);
      if (end < 0) return undefined;
      i = end;
    } else if (c in CLOSERS) {
      open.push(CLOSERS[c]);
    } else if (c === ")" || c === "]" || c === "}") {
      const expected = open.pop();
      if (expected !== c) {
        const want = expected ? `, expected '${expected}'` : "";
        throw new JinjaSyntaxError(`unexpected '${c}'${want}`, position(i), "the brackets do not balance");
      }
    }
  }
  return undefined;
}

/** The index of the quote that closes the string opened at `start`, or -1. */
function stringEnd(source: string, start: number): number {
  const quote = source[start];
  for (let i = start + 1; i < source.length; i++) {
    if (source[i] === "\\") i++;
    else if (source[i] === quote) return i;
  }
  return -1;
}

/** A function from an index of the source to its line and column. */
function positions(source: string): (index: number) => Position {
  const starts = [0];
  for (let i = source.indexOf("\n"); i >= 0; i = source.indexOf("\n", i + 1)) starts.push(i + 1);
  return (index) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: index - starts[lo] + 1 };
  };
}
