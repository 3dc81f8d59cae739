/** Python's str methods (split, strip, startswith, replace, find, center, …) for methods.ts. */
import { bounds, fail, intArg, type Method, plain, pyType } from "./method-args.js";

/** Python's whitespace (str.isspace), which split() and strip() without arguments use. */
const WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
/** Python's line boundaries (str.splitlines). */
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/g;

const isSpace = (c: string) => WHITESPACE.test(c);

function str(value: unknown, method: string, what = "argument"): string {
  if (typeof value !== "string") fail(`${method}() ${what} must be str, not ${pyType(value)}`);
  return value;
}

function maxsplitOf(value: unknown): number {
  return intArg(value, "maxsplit") ?? -1;
}

function split(s: string, sep: unknown, maxsplit: unknown): string[] {
  const max = maxsplitOf(maxsplit);
  if (sep === null || sep === undefined) {
    const out: string[] = [];
    let i = 0;
    for (;;) {
      while (i < s.length && isSpace(s[i])) i++;
      if (i >= s.length) return out;
      if (max >= 0 && out.length === max) return [...out, s.slice(i)];
      let j = i;
      while (j < s.length && !isSpace(s[j])) j++;
      out.push(s.slice(i, j));
      i = j;
    }
  }
  const by = str(sep, "split", "separator");
  if (by === "") fail("empty separator");
  const parts = s.split(by);
  if (max < 0 || parts.length <= max + 1) return parts;
  return [...parts.slice(0, max), parts.slice(max).join(by)];
}

function rsplit(s: string, sep: unknown, maxsplit: unknown): string[] {
  const max = maxsplitOf(maxsplit);
  if (sep === null || sep === undefined) {
    const out: string[] = [];
    let i = s.length;
    for (;;) {
      while (i > 0 && isSpace(s[i - 1])) i--;
      if (i <= 0) return out;
      if (max >= 0 && out.length === max) return [s.slice(0, i), ...out];
      let j = i;
      while (j > 0 && !isSpace(s[j - 1])) j--;
      out.unshift(s.slice(j, i));
      i = j;
    }
  }
  const by = str(sep, "rsplit", "separator");
  if (by === "") fail("empty separator");
  const parts = s.split(by);
  if (max < 0 || parts.length <= max + 1) return parts;
  return [parts.slice(0, parts.length - max).join(by), ...parts.slice(parts.length - max)];
}

/** Python's str.splitlines: no empty line after a final line break. */
function splitLines(s: string, keepends: unknown): string[] {
  const out: string[] = [];
  let last = 0;
  for (const m of s.matchAll(LINE_BREAK)) {
    const end = (m.index ?? 0) + m[0].length;
    out.push(s.slice(last, keepends ? end : m.index));
    last = end;
  }
  if (last < s.length) out.push(s.slice(last));
  return out;
}

function stripper(method: string, left: boolean, right: boolean): Method {
  return plain(["chars"], 0, (s: string, chars: unknown) => {
    const strip =
      chars === null || chars === undefined ? isSpace : (c: string) => str(chars, method).includes(c);
    let i = 0;
    let j = s.length;
    if (left) while (i < j && strip(s[i])) i++;
    if (right) while (j > i && strip(s[j - 1])) j--;
    return s.slice(i, j);
  });
}

/** startswith / endswith: a str or a tuple of str (a list here: Python's tuples are lists). */
function affix(method: "startswith" | "endswith"): Method {
  return plain(["prefix", "start", "end"], 1, (s: string, what: unknown, start: unknown, end: unknown) => {
    const options = Array.isArray(what) ? what : [what];
    if (options.some((o) => typeof o !== "string")) {
      fail(
        `${method} first arg must be str or a tuple of str, not ${pyType(Array.isArray(what) ? what.find((o) => typeof o !== "string") : what)}`,
      );
    }
    const [from, to] = bounds(s.length, start, end);
    if (from > s.length || from > to) return false;
    const part = s.slice(from, to);
    return options.some((o: string) => (method === "startswith" ? part.startsWith(o) : part.endsWith(o)));
  });
}

function finder(method: string, fromRight: boolean, raises: boolean): Method {
  return plain(["sub", "start", "end"], 1, (s: string, sub: unknown, start: unknown, end: unknown) => {
    const text = str(sub, method);
    const [from, to] = bounds(s.length, start, end);
    const part = s.slice(from, to);
    const at = from <= to ? (fromRight ? part.lastIndexOf(text) : part.indexOf(text)) : -1;
    if (at < 0 && raises) fail("substring not found");
    return at < 0 ? -1 : at + from;
  });
}

function pad(method: string, fn: (s: string, width: number, fill: string) => string): Method {
  return plain(["width", "fillchar"], 1, (s: string, width: unknown, fill: unknown = " ") => {
    const w = intArg(width, "width") ?? 0;
    if (typeof fill !== "string" || [...fill].length !== 1) {
      fail(`${method}() argument 2 must be a unicode character, not ${pyType(fill)}`);
    }
    return w <= s.length ? s : fn(s, w, fill);
  });
}

/** Python's str.title: a letter after a non-letter starts a word ("they're" → "They'Re"). */
function title(s: string): string {
  let out = "";
  let previousCased = false;
  for (const c of s) {
    const cased = c.toLowerCase() !== c.toUpperCase();
    out += cased ? (previousCased ? c.toLowerCase() : c.toUpperCase()) : c;
    previousCased = cased;
  }
  return out;
}

/** A test over every character (isdigit, isalpha, …): false for the empty string, as Python's. */
function every(test: RegExp): Method {
  return plain([], 0, (s: string) => s.length > 0 && [...s].every((c) => test.test(c)));
}

function cased(s: string, want: "lower" | "upper"): boolean {
  const letters = [...s].filter((c) => c.toLowerCase() !== c.toUpperCase());
  return (
    letters.length > 0 &&
    letters.every((c) => (want === "lower" ? c === c.toLowerCase() : c === c.toUpperCase()))
  );
}

export const STR_METHODS: Record<string, Method> = {
  split: plain(["sep", "maxsplit"], 0, split, true),
  rsplit: plain(["sep", "maxsplit"], 0, rsplit, true),
  splitlines: plain(["keepends"], 0, splitLines, true),
  strip: stripper("strip", true, true),
  lstrip: stripper("lstrip", true, false),
  rstrip: stripper("rstrip", false, true),
  startswith: affix("startswith"),
  endswith: affix("endswith"),
  lower: plain([], 0, (s: string) => s.toLowerCase()),
  upper: plain([], 0, (s: string) => s.toUpperCase()),
  swapcase: plain([], 0, (s: string) =>
    [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(""),
  ),
  title: plain([], 0, title),
  capitalize: plain([], 0, (s: string) => s.slice(0, 1).toUpperCase() + s.slice(1).toLowerCase()),
  replace: plain(["old", "new", "count"], 2, (s: string, old: unknown, repl: unknown, count: unknown) => {
    const from = str(old, "replace", "argument 1");
    const to = str(repl, "replace", "argument 2");
    const max = intArg(count, "count") ?? -1;
    const parts = from === "" ? ["", ...[...s], ""] : s.split(from);
    if (max < 0 || parts.length <= max + 1) return parts.join(to);
    return parts.slice(0, max + 1).join(to) + from + parts.slice(max + 1).join(from);
  }),
  find: finder("find", false, false),
  rfind: finder("rfind", true, false),
  index: finder("index", false, true),
  count: plain(["sub", "start", "end"], 1, (s: string, sub: unknown, start: unknown, end: unknown) => {
    const text = str(sub, "count");
    const [from, to] = bounds(s.length, start, end);
    if (from > to) return 0;
    const part = s.slice(from, to);
    return text === "" ? part.length + 1 : part.split(text).length - 1;
  }),
  join: plain(["iterable"], 1, (s: string, items: unknown) => {
    const list =
      typeof items === "string" ? [...items] : Array.isArray(items) ? items : Object.keys(items ?? {});
    list.forEach((item, i) => {
      if (typeof item !== "string") fail(`sequence item ${i}: expected str instance, ${pyType(item)} found`);
    });
    return list.join(s);
  }),
  isdigit: every(/\p{Nd}/u),
  isdecimal: every(/\p{Nd}/u),
  isnumeric: every(/\p{N}/u),
  isalpha: every(/\p{L}/u),
  isalnum: every(/[\p{L}\p{N}]/u),
  isspace: every(WHITESPACE),
  islower: plain([], 0, (s: string) => cased(s, "lower")),
  isupper: plain([], 0, (s: string) => cased(s, "upper")),
  istitle: plain([], 0, (s: string) => /\p{L}/u.test(s) && title(s) === s),
  zfill: plain(["width"], 1, (s: string, width: unknown) => {
    const w = intArg(width, "width") ?? 0;
    if (w <= s.length) return s;
    const sign = s[0] === "+" || s[0] === "-" ? s[0] : "";
    return sign + "0".repeat(w - s.length) + s.slice(sign.length);
  }),
  ljust: pad("ljust", (s, w, fill) => s + fill.repeat(w - s.length)),
  rjust: pad("rjust", (s, w, fill) => fill.repeat(w - s.length) + s),
  // CPython's centre: the extra character of an odd padding goes left when the width is odd
  center: pad("center", (s, w, fill) => {
    const total = w - s.length;
    const left = Math.floor(total / 2) + (total & w & 1);
    return fill.repeat(left) + s + fill.repeat(total - left);
  }),
};
