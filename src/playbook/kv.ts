/**
 * `k=v` argument strings split as Ansible splits them (lib/ansible/parsing/splitter.py:
 * split_args, parse_kv, unquote): on spaces and newlines, but not inside quotes or `{{ }}`,
 * `{% %}`, `{# #}`; Python escapes (`\n`, `\t`, `\\`, `\"`, `\x41`, `\u00e9`) decoded; a value
 * loses its quotes only when it is wholly quoted. Anything else in a value stays as written
 * (`regexp=^foo\s+` keeps its backslash, `$HOME` and `;` are plain text). `\N{NAME}` escapes
 * are refused rather than left undecoded.
 */

/** Ansible's split_args; throws a message when quotes or template blocks do not balance. */
export function splitArgs(args: string): string[] {
  const params: string[] = [];
  const items = args.split("\n");
  let quoteChar: string | undefined;
  let insideQuotes = false;
  const depth = { print: 0, block: 0, comment: 0 };
  const inBlock = () => depth.print > 0 || depth.block > 0 || depth.comment > 0;
  for (const [itemIdx, item] of items.entries()) {
    const tokens = item.split(" ");
    let lineContinuation = false;
    for (const [idx, token] of tokens.entries()) {
      if (token.length === 0 && idx !== 0) {
        params[params.length - 1] += " ";
        continue;
      }
      if (token === "\\" && !insideQuotes) {
        lineContinuation = true;
        continue;
      }
      const wasInsideQuotes = insideQuotes;
      quoteChar = quoteState(token, quoteChar);
      insideQuotes = quoteChar !== undefined;
      let appended = false;
      if (insideQuotes && !wasInsideQuotes && !inBlock()) {
        params.push(token);
        appended = true;
      } else if (inBlock() || insideQuotes || wasInsideQuotes) {
        const last = params.length - 1;
        if (idx === 0 && wasInsideQuotes) params[last] += token;
        else if (tokens.length > 1) params[last] += (idx > 0 ? " " : "") + token;
        else params[last] += `\n${token}`;
        appended = true;
      }
      for (const [kind, open, close] of BLOCKS) {
        const before = depth[kind];
        depth[kind] = blockDepth(token, before, open, close);
        if (depth[kind] !== before && !appended) {
          params.push(token);
          appended = true;
        }
      }
      if (!inBlock() && !insideQuotes && !appended && token !== "") params.push(token);
    }
    if (items.length > 1 && itemIdx !== items.length - 1 && !lineContinuation) {
      params[params.length - 1] += "\n";
    }
  }
  if (inBlock() || insideQuotes) {
    throw new Error("a quote or a {{ }} / {% %} / {# #} block is not closed");
  }
  return params;
}

const BLOCKS = [
  ["print", "{{", "}}"],
  ["block", "{%", "%}"],
  ["comment", "{#", "#}"],
] as const;

function quoteState(token: string, quoteChar: string | undefined): string | undefined {
  let q = quoteChar;
  for (let i = 0; i < token.length; i++) {
    const c = token[i];
    if ((c === '"' || c === "'") && token[i - 1] !== "\\") {
      if (q === undefined) q = c;
      else if (c === q) q = undefined;
    }
  }
  return q;
}

function blockDepth(token: string, current: number, open: string, close: string): number {
  const opens = token.split(open).length - 1;
  const closes = token.split(close).length - 1;
  return opens === closes ? current : Math.max(0, current + opens - closes);
}

/** One word of a `k=v` string: a key and its value, or a word without `=`. */
export type KvWord = { key: string; value: string } | { raw: string };

/** Ansible's parse_kv word by word: the first `=` not escaped splits key from value. */
export function parseKv(args: string): KvWord[] {
  return splitArgs(args).map((word) => {
    const x = decodeEscapes(word);
    let pos = 0;
    for (;;) {
      pos = x.indexOf("=", pos + 1);
      if (pos < 0) return { raw: x.includes("=") ? x.replace(/\\=/g, "=") : word };
      if (x[pos - 1] !== "\\") break;
    }
    return { key: x.slice(0, pos).trim(), value: unquote(x.slice(pos + 1).trim()) };
  });
}

/** The `k=v` words Ansible takes out of a command's free-form text (parse_kv's check_raw list). */
export const RAW_PARAM_KEYS = [
  "creates",
  "removes",
  "chdir",
  "executable",
  "warn",
  "stdin",
  "stdin_add_newline",
  "strip_empty_ends",
] as const;

/**
 * Ansible's parse_kv with check_raw (command, shell, script): `k=v` words whose key is one of
 * `keys` become params; every other word stays as written in the free-form text, the words joined
 * as join_args joins them (a space, or nothing after a newline). `raw` is undefined when no word is left.
 */
export function parseRawKv(
  args: string,
  keys: readonly string[],
): { params: Record<string, string>; raw: string | undefined } {
  const params: Record<string, string> = {};
  const raw: string[] = [];
  for (const word of splitArgs(args)) {
    const x = decodeEscapes(word);
    let pos = 0;
    let escapedOnly = false;
    for (;;) {
      pos = x.indexOf("=", pos + 1);
      if (pos < 0) {
        escapedOnly = x.includes("=");
        break;
      }
      if (x[pos - 1] !== "\\") break;
    }
    if (pos < 0) raw.push(escapedOnly ? x.replace(/\\=/g, "=") : word);
    else if (!keys.includes(x.slice(0, pos))) raw.push(word);
    else params[x.slice(0, pos).trim()] = unquote(x.slice(pos + 1).trim());
  }
  return { params, raw: raw.length === 0 ? undefined : joinArgs(raw) };
}

/** Ansible's join_args: words joined by a space, except after a word that ends a line. */
function joinArgs(words: string[]): string {
  let out = "";
  for (const w of words) out += out === "" || out.endsWith("\n") ? w : ` ${w}`;
  return out;
}

/** Drops the quotes around a value that is wholly quoted (and whose closing quote is not escaped). */
export function unquote(data: string): string {
  const quoted =
    data.length > 1 && data[0] === data[data.length - 1] && `"'`.includes(data[0]) && data.at(-2) !== "\\";
  return quoted ? data.slice(1, -1) : data;
}

const ESCAPE = /\\U[0-9a-fA-F]{8}|\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|\\N\{[^}]+\}|\\[\\'"abfnrtv]/g;
const SINGLE: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/** Python's unicode-escape decoding of the escapes Ansible decodes in `k=v` words. */
function decodeEscapes(s: string): string {
  return s.replace(ESCAPE, (m) => {
    const kind = m[1];
    if (kind === "U" || kind === "u" || kind === "x")
      return String.fromCodePoint(Number.parseInt(m.slice(2), 16));
    if (kind === "N") throw new Error(`the escape ${m} (a Unicode character by name) is not supported`);
    return SINGLE[kind] ?? m;
  });
}

/**
 * The file of an include_tasks / import_tasks as written: a name, `file=NAME` (Ansible's parse_kv,
 * without check_raw for includes) or a mapping with `file:`.
 */
export function includeFile(value: unknown): string | undefined {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const file = (value as Record<string, unknown>).file;
    return typeof file === "string" ? file : undefined;
  }
  if (typeof value !== "string" || !/(^|\s)file=/.test(value))
    return typeof value === "string" ? value : undefined;
  try {
    const words = parseKv(value);
    const file = words.find((w): w is { key: string; value: string } => "key" in w && w.key === "file");
    return file?.value ?? value;
  } catch {
    return value;
  }
}
