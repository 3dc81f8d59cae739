/**
 * Jinja's and Ansible's filters on text, as Jinja 3.1 and ansible-core 2.14 write them: indent,
 * center, format (Python's `%`), capitalize, title, wordcount, truncate, comment, regex_findall
 * and regex_escape.
 */
import { TicklessError } from "../errors.js";
import { Keyword } from "./filters.js";
import { pyRepr, pyStr } from "./python.js";

type Transform = (value: any, ...args: any[]) => unknown;

function fail(message: string, hint: string): never {
  throw new TicklessError("EXPRESSION", message, { hint });
}

/** Python's str.splitlines(): every line break Python knows, the breaks dropped. */
function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Jinja's indent: every line but the first (and blank ones) gets the indent. */
function indent(value: unknown, width: unknown = 4, first: unknown = false, blank: unknown = false): string {
  const pad = typeof width === "string" ? width : " ".repeat(Number(width));
  const lines = splitLines(`${pyStr(value)}\n`);
  let out: string;
  if (blank) out = lines.join(`\n${pad}`);
  else {
    out = lines.shift() ?? "";
    if (lines.length > 0) out += `\n${lines.map((l) => (l ? pad + l : l)).join("\n")}`;
  }
  return first ? pad + out : out;
}

/** Python's str.center(width). */
function center(value: unknown, width: unknown = 80): string {
  const text = pyStr(value);
  const margin = Number(width) - text.length;
  if (margin <= 0) return text;
  const left = Math.floor(margin / 2) + (margin & Number(width) & 1);
  return " ".repeat(left) + text + " ".repeat(margin - left);
}

const CONVERSION = /%(?:\(([^)]*)\))?([-+ 0#]*)(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])/g;

/** Python's `text % args`, for the conversions templates use. */
export function percentFormat(format: string, args: unknown[]): string {
  let next = 0;
  const mapping = args.length === 1 && isMapping(args[0]) ? args[0] : undefined;
  const take = (): unknown => {
    if (next >= args.length) fail("format: not enough arguments for format string", "one argument per %");
    return args[next++];
  };
  const out = format.replace(CONVERSION, (_all, key, flags: string, width, precision, type: string) => {
    if (type === "%") return "%";
    const value = key !== undefined ? mapping?.[key] : take();
    const w = width === "*" ? Number(take()) : width === undefined ? 0 : Number(width);
    const p = precision === "*" ? Number(take()) : precision === undefined ? undefined : Number(precision);
    return pad(convert(value, type, flags, p), w, flags);
  });
  if (next < args.length && !mapping)
    fail("format: not all arguments converted during string formatting", "one argument per %");
  return out;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function number(value: unknown, type: string): number {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return Number(value);
  return fail(
    `format: %${type} format: a real number is required, not ${pyType(value)}`,
    "%d and %f take numbers",
  );
}

function pyType(value: unknown): string {
  if (value === null || value === undefined) return "NoneType";
  if (Array.isArray(value)) return "list";
  return typeof value === "string" ? "str" : typeof value === "object" ? "dict" : typeof value;
}

function signed(text: string, negative: boolean, flags: string): string {
  if (negative) return `-${text}`;
  if (flags.includes("+")) return `+${text}`;
  return flags.includes(" ") ? ` ${text}` : text;
}

function convert(value: unknown, type: string, flags: string, precision?: number): string {
  switch (type) {
    case "s":
    case "r":
    case "a": {
      const text = type === "s" ? pyStr(value) : pyRepr(value);
      return precision === undefined ? text : text.slice(0, precision);
    }
    case "c":
      return typeof value === "number" ? String.fromCodePoint(value) : pyStr(value);
    case "d":
    case "i":
    case "u": {
      const n = Math.trunc(number(value, type));
      return signed(String(Math.abs(n)), n < 0, flags);
    }
    case "o":
    case "x":
    case "X": {
      const n = Math.trunc(number(value, type));
      let digits = Math.abs(n).toString(type === "o" ? 8 : 16);
      if (flags.includes("#")) digits = (type === "o" ? "0o" : "0x") + digits;
      return signed(type === "X" ? digits.toUpperCase() : digits, n < 0, flags);
    }
    case "e":
    case "E": {
      const n = number(value, type);
      const text = Math.abs(n)
        .toExponential(precision ?? 6)
        .replace(/e([+-])(\d)$/, "e$10$2");
      return signed(type === "E" ? text.toUpperCase() : text, n < 0 || Object.is(n, -0), flags);
    }
    case "f":
    case "F": {
      const n = number(value, type);
      return signed(Math.abs(n).toFixed(precision ?? 6), n < 0 || Object.is(n, -0), flags);
    }
    default:
      return fail(`format: %${type} is not supported`, "use %s, %d, %f, %x, %o, %e or %r");
  }
}

function pad(text: string, width: number, flags: string): string {
  if (text.length >= width) return text;
  if (flags.includes("-")) return text.padEnd(width);
  if (flags.includes("0") && /^[-+ ]?[\d.]/.test(text)) {
    const sign = /^[-+ ]/.test(text) ? text[0] : "";
    return sign + text.slice(sign.length).padStart(width - sign.length, "0");
  }
  return text.padStart(width);
}

/** Python's re.escape: the characters it escapes. */
const RE_SPECIAL = /[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g;

/** Ansible's comment filter: the text framed as a comment of a style. */
function comment(text: unknown, ...args: unknown[]): string {
  const styles: Record<string, Record<string, string>> = {
    plain: { decoration: "# " },
    erlang: { decoration: "% " },
    c: { decoration: "// " },
    cblock: { beginning: "/*", decoration: " * ", end: " */" },
    xml: { beginning: "<!--", decoration: " - ", end: "-->" },
  };
  const keywords = Object.fromEntries(
    args.filter((a): a is Keyword => a instanceof Keyword).map((k) => [k.name, k.value]),
  );
  const style = String(args.find((a) => !(a instanceof Keyword)) ?? keywords.style ?? "plain");
  const params = styles[style];
  if (!params) fail(`comment: unknown style "${style}"`, `styles: ${Object.keys(styles).join(", ")}`);
  const around = String(keywords.decoration ?? params.decoration).trimEnd();
  const p: Record<string, unknown> = {
    newline: "\n",
    beginning: "",
    prefix: around,
    prefix_count: 1,
    decoration: "",
    postfix: around,
    postfix_count: 1,
    end: "",
    ...params,
    ...keywords,
  };
  delete p.style;
  const nl = String(p.newline);
  const deco = String(p.decoration);
  const beginning = p.beginning ? `${p.beginning}${nl}` : "";
  const prefix = p.prefix ? (p.prefix !== nl ? `${p.prefix}${nl}` : nl).repeat(Number(p.prefix_count)) : "";
  const body = `${deco}${pyStr(text).split(nl).join(`${nl}${deco}`)}`
    .split(`${deco}${nl}`)
    .join(`${deco.trimEnd()}${nl}`);
  const postfix = ["", ...Array.from({ length: Number(p.postfix_count) }, () => String(p.postfix))].join(nl);
  const end = p.end ? `${nl}${p.end}` : "";
  return beginning + prefix + body + postfix + end;
}

/** Python's re.findall: the whole matches, or the group, or the groups of each match. */
function regexFindall(value: unknown, pattern: unknown, multiline = false, ignorecase = false): unknown[] {
  let re: RegExp;
  try {
    re = new RegExp(String(pattern), `g${multiline ? "m" : ""}${ignorecase ? "i" : ""}`);
  } catch (err) {
    const why = (err as Error).message.split(": ").pop();
    return fail(`invalid regular expression: ${why}`, "regex_findall takes a regular expression");
  }
  return [...pyStr(value).matchAll(re)].map((m) =>
    m.length === 1 ? m[0] : m.length === 2 ? (m[1] ?? "") : m.slice(1).map((g) => g ?? ""),
  );
}

export const TEXT_FILTERS: Record<string, Transform> = {
  indent,
  center,
  format: (value, ...args) => {
    const named = args.filter((a): a is Keyword => a instanceof Keyword);
    const values = named.length ? [Object.fromEntries(named.map((k) => [k.name, k.value]))] : args;
    return percentFormat(pyStr(value), values);
  },
  capitalize: (value) => {
    const text = pyStr(value);
    return text.slice(0, 1).toUpperCase() + text.slice(1).toLowerCase();
  },
  title: (value) =>
    pyStr(value)
      .split(/([-\s({[<]+)/)
      .map((part) => part.slice(0, 1).toUpperCase() + part.slice(1).toLowerCase())
      .join(""),
  wordcount: (value) => (pyStr(value).match(/[\p{L}\p{N}_]+/gu) ?? []).length,
  truncate: (value, length = 255, killwords = false, end = "...", leeway = 5) => {
    const text = pyStr(value);
    const n = Number(length);
    const tail = String(end);
    if (n < tail.length) fail(`truncate: expected length >= ${tail.length}, got ${n}`, "a longer length");
    if (text.length <= n + Number(leeway)) return text;
    if (killwords) return text.slice(0, n - tail.length) + tail;
    const cut = text.slice(0, n - tail.length);
    const space = cut.lastIndexOf(" ");
    return (space < 0 ? cut : cut.slice(0, space)) + tail;
  },
  comment,
  regex_findall: regexFindall,
  regex_escape: (value, reType = "python") => {
    const text = pyStr(value);
    if (reType === "python") return text.replace(RE_SPECIAL, (c) => `\\${c}`);
    if (reType === "posix_basic") return text.replace(/[\].[^$*\\]/g, (c) => `\\${c}`);
    return fail(`regex_escape: invalid regex type (${reType})`, "python or posix_basic");
  },
};

/** Keyword arguments of the text filters, by position. */
export const TEXT_SIGNATURES: Record<string, string[]> = {
  indent: ["width", "first", "blank"],
  center: ["width"],
  truncate: ["length", "killwords", "end", "leeway"],
  regex_findall: ["regex", "multiline", "ignorecase"],
  regex_escape: ["re_type"],
};
