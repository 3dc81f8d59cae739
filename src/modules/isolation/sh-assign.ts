/**
 * Variable assignments in a POSIX shell file such as /etc/default/grub, read with sh's quoting
 * rules: `'…'`, `"…"` (with `\"`, `\\`, `\$`, `` \` `` and line continuations), backslash
 * escapes, `#` comments, `$NAME` / `${NAME}` references. Each literal character keeps the byte
 * range it came from, so an edit can replace only the bytes of the words it owns.
 *
 * Only what an editor must trust is understood: a statement that is nothing but assignments
 * (optionally after `export`), at the top level of the file. A file that touches a watched
 * variable in any other way (inside `if`, after `&&`, through `eval`, `.`, `read`, `unset`, or
 * with a command substitution in its value) is refused with its line: sh would be the only judge
 * of what it does.
 */

/** One character of a word after quote removal, and the bytes it was written as. */
export interface ShChar {
  ch: string;
  start: number;
  end: number;
  /** Characters of one run are written next to each other in one quoting context. */
  run: number;
  quote: "" | "'" | '"';
}

/** `$NAME` or `${NAME}`. */
export interface ShRef {
  ref: string;
  start: number;
  end: number;
  run: number;
  quote: "" | '"';
}

export type ShPart = ShChar | ShRef;

export interface ShWord {
  start: number;
  end: number;
  line: number;
  parts: ShPart[];
  /** Why the word's value cannot be known without running it (command substitution, `${X:-y}`, `$1`). */
  opaque?: string;
}

interface ShCommand {
  words: ShWord[];
  line: number;
  /** Nesting (if/while/for/case/{ }/( )) when the command starts. */
  depth: number;
  /** Joined to another command by `&&`, `||`, `|`, `&` or carrying a redirection. */
  complex: boolean;
}

/** An assignment of a watched variable, a statement of its own at the file's top level. */
export interface ShAssignment {
  name: string;
  line: number;
  /** The value's bytes (after `=`). */
  valueStart: number;
  valueEnd: number;
  parts: ShPart[];
  opaque?: string;
}

/** A file the parser cannot follow; `line` is 1-based. */
export class ShParseError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(message);
    this.line = line;
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const OPENERS = new Set(["if", "while", "until", "for", "case", "{"]);
const CLOSERS = new Set(["fi", "done", "esac", "}"]);

export function isCharPart(p: ShPart): p is ShChar {
  return "ch" in p;
}

/** The word's text when it is all literal (no reference), else undefined. */
export function literalText(parts: ShPart[]): string | undefined {
  let out = "";
  for (const p of parts) {
    if (!isCharPart(p)) return undefined;
    out += p.ch;
  }
  return out;
}

/** Splits a source into commands of words. Throws ShParseError on what sh would reject or we cannot follow. */
export function lexShell(src: string): ShCommand[] {
  const commands: ShCommand[] = [];
  const stack: string[] = [];
  let i = 0;
  let line = 1;
  let run = 0;
  let cmd: ShCommand | undefined;
  let word: ShWord | undefined;
  let joined = false;

  const startWord = () => {
    cmd ??= { words: [], line, depth: stack.length, complex: joined };
    word ??= { start: i, end: i, line, parts: [] };
    return word;
  };
  const endWord = () => {
    if (!word || !cmd) return;
    word.end = i;
    cmd.words.push(word);
    const first = cmd.words.length === 1 ? literalText(word.parts) : undefined;
    if (first !== undefined && word.parts.every((p) => p.quote === "")) {
      if (OPENERS.has(first)) stack.push(first);
      else if (CLOSERS.has(first)) stack.pop();
    }
    word = undefined;
  };
  const endCommand = (joinNext: boolean) => {
    endWord();
    if (cmd) commands.push(cmd);
    cmd = undefined;
    joined = joinNext;
  };
  const char = (ch: string, start: number, end: number, quote: ShChar["quote"]) =>
    startWord().parts.push({ ch, start, end, run, quote });
  const opaque = (why: string) => {
    const w = startWord();
    w.opaque ??= why;
  };

  /** Skips a `$(…)` / `` `…` `` body; returns the index after it. */
  const skipBody = (from: number, close: string, open?: string): number => {
    let j = from;
    let nest = 0;
    while (j < src.length) {
      const c = src[j];
      if (c === "\\") j += 2;
      else if (c === "'" && close !== "`") {
        const k = src.indexOf("'", j + 1);
        if (k < 0) break;
        j = k + 1;
      } else if (open && c === open) {
        nest++;
        j++;
      } else if (c === close) {
        if (nest === 0) return j + 1;
        nest--;
        j++;
      } else {
        if (c === "\n") line++;
        j++;
      }
    }
    throw new ShParseError(line, `unterminated ${close === "`" ? "`…` command substitution" : "$(…)"}`);
  };

  /** `$…` at i (quote: the context); returns the index after it. */
  const dollar = (quote: "" | '"'): number => {
    const next = src[i + 1];
    if (next === "(") {
      opaque("a command substitution $(…)");
      return skipBody(i + 2, ")", "(");
    }
    if (next === "{") {
      const close = src.indexOf("}", i + 2);
      if (close < 0) throw new ShParseError(line, "unterminated $" + "{…}");
      const inner = src.slice(i + 2, close);
      if (NAME.test(inner)) {
        startWord().parts.push({ ref: inner, start: i, end: close + 1, run, quote });
      } else opaque(`the expansion \${${inner}}`);
      return close + 1;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i + 1, i + 256));
    if (m) {
      startWord().parts.push({ ref: m[0], start: i, end: i + 1 + m[0].length, run, quote });
      return i + 1 + m[0].length;
    }
    if (next !== undefined && /[0-9@*#?$!-]/.test(next)) {
      opaque(`the special parameter $${next}`);
      return i + 2;
    }
    char("$", i, i + 1, quote);
    return i + 1;
  };

  while (i < src.length) {
    const c = src[i];
    if (c === " " || c === "\t") {
      endWord();
      i++;
    } else if (c === "\n") {
      endCommand(false);
      line++;
      i++;
    } else if (c === "#" && !word) {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "\\") {
      if (src[i + 1] === "\n") {
        line++;
        i += 2;
      } else if (i + 1 < src.length) {
        char(src[i + 1], i, i + 2, "");
        i += 2;
      } else throw new ShParseError(line, "a backslash at the end of the file");
    } else if (c === "'") {
      const opened = line;
      run++;
      startWord();
      let j = i + 1;
      while (j < src.length && src[j] !== "'") {
        if (src[j] === "\n") line++;
        char(src[j], j, j + 1, "'");
        j++;
      }
      if (j >= src.length) throw new ShParseError(opened, "unbalanced single quote (no closing ')");
      run++;
      i = j + 1;
    } else if (c === '"') {
      const opened = line;
      run++;
      startWord();
      i++;
      for (;;) {
        if (i >= src.length) throw new ShParseError(opened, 'unbalanced double quote (no closing ")');
        const d = src[i];
        if (d === '"') break;
        if (d === "\\" && src[i + 1] === "\n") {
          line++;
          i += 2;
        } else if (d === "\\" && /[$`"\\]/.test(src[i + 1] ?? "")) {
          char(src[i + 1], i, i + 2, '"');
          i += 2;
        } else if (d === "$") {
          const after = dollar('"');
          run++;
          i = after;
        } else if (d === "`") {
          opaque("a command substitution `…`");
          i = skipBody(i + 1, "`");
        } else {
          if (d === "\n") line++;
          char(d, i, i + 1, '"');
          i++;
        }
      }
      run++;
      i++;
    } else if (c === "$") {
      run++;
      i = dollar("");
      run++;
    } else if (c === "`") {
      opaque("a command substitution `…`");
      i = skipBody(i + 1, "`");
    } else if (c === ";") {
      endCommand(false);
      i += src[i + 1] === ";" ? 2 : 1;
    } else if (c === "&" || c === "|") {
      if (cmd || word) startWord();
      if (cmd) cmd.complex = true;
      endCommand(true);
      i += src[i + 1] === c ? 2 : 1;
    } else if (c === "(" || c === ")") {
      if (cmd) cmd.complex = true;
      endCommand(c === ")");
      if (c === "(") stack.push("(");
      else if (stack[stack.length - 1] === "(") stack.pop();
      i++;
    } else if (c === "<" || c === ">") {
      if (src[i + 1] === "<" && c === "<") throw new ShParseError(line, "a here-document (<<)");
      startWord();
      if (cmd) cmd.complex = true;
      char(c, i, i + 1, "");
      i++;
    } else {
      char(c, i, i + 1, "");
      i++;
    }
  }
  endCommand(false);
  return commands;
}

/** `NAME=` at the start of a word (unquoted), or undefined. */
function assignmentName(w: ShWord): { name: string; valueIndex: number } | undefined {
  let name = "";
  for (let k = 0; k < w.parts.length; k++) {
    const p = w.parts[k];
    if (!isCharPart(p) || p.quote !== "" || p.end - p.start !== 1) return undefined;
    if (p.ch === "=") return NAME.test(name) ? { name, valueIndex: k + 1 } : undefined;
    name += p.ch;
  }
  return undefined;
}

function mentions(w: ShWord, name: string): boolean {
  const text = w.parts.map((p) => (isCharPart(p) ? p.ch : " ")).join("");
  return new RegExp(`(^|[^A-Za-z0-9_])${name}([^A-Za-z0-9_]|$)`).test(text);
}

export interface ShFile {
  /**
   * Every assignment (any variable), in order; one the parser cannot follow (or whose value runs
   * a command) has `opaque` set: its variable reads as unknown from there on.
   */
  assignments: ShAssignment[];
}

/**
 * Parses a file and checks that it touches the `watched` variables only through top-level
 * assignments. Throws ShParseError (with the line) otherwise.
 */
export function parseShFile(src: string, watched: readonly string[]): ShFile {
  const assignments: ShAssignment[] = [];
  for (const cmd of lexShell(src)) {
    const first = cmd.words[0] ? literalText(cmd.words[0].parts) : undefined;
    const exported = first === "export" && cmd.words[0].parts.every((p) => p.quote === "");
    const rest = exported ? cmd.words.slice(1) : cmd.words;
    const parsed = rest.map(assignmentName);
    const simple =
      cmd.depth === 0 &&
      !cmd.complex &&
      rest.length > 0 &&
      rest.every((w, k) => parsed[k] || (exported && NAME.test(literalText(w.parts) ?? "")));
    if (first === "." || first === "source" || first === "eval") {
      throw new ShParseError(cmd.line, `\`${first}\` can set any variable: cannot tell what this line does`);
    }
    rest.forEach((w, k) => {
      const a = parsed[k];
      if (simple && a) {
        assignments.push({
          name: a.name,
          line: w.line,
          valueStart: w.parts[a.valueIndex - 1].end,
          valueEnd: w.end,
          parts: w.parts.slice(a.valueIndex),
          ...(w.opaque ? { opaque: w.opaque } : {}),
        });
        return;
      }
      if (a) {
        assignments.push({
          name: a.name,
          line: w.line,
          valueStart: w.end,
          valueEnd: w.end,
          parts: [],
          opaque: "an assignment the parser cannot follow (conditional, or joined to a command)",
        });
      }
      if (simple) return; // `export NAME`
      const name = watched.find((n) => mentions(w, n));
      if (name) {
        const where = cmd.depth > 0 ? "inside a compound command (if/for/case/{ })" : "in a command";
        throw new ShParseError(
          w.line,
          `${name} is set or used ${where}, not by a plain assignment: cannot tell what this line does to it`,
        );
      }
    });
  }
  return { assignments };
}

/** Characters sh keeps literal inside double quotes only when escaped. */
function dq(ch: string): string {
  return /[$`"\\]/.test(ch) ? `\\${ch}` : ch;
}

/** The parts written again as one double-quoted word (references kept as `${NAME}`). */
export function serializeParts(parts: readonly ShPart[]): string {
  return `"${parts.map((p) => (isCharPart(p) ? dq(p.ch) : `\${${p.ref}}`)).join("")}"`;
}
