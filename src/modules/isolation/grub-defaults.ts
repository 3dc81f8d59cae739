/**
 * The GRUB defaults as grub-mkconfig reads them: /etc/default/grub, then every
 * /etc/default/grub.d/*.cfg in glob order, sourced by sh. The normal boot entry's command line is
 * `${GRUB_CMDLINE_LINUX} ${GRUB_CMDLINE_LINUX_DEFAULT}`, the recovery entry's `${GRUB_CMDLINE_LINUX}`.
 *
 * `planDefaults` decides, from what the kernel will get after every file is sourced, which words
 * to edit so that each parameter occurs exactly once (in GRUB_CMDLINE_LINUX) with the wanted value,
 * and edits only those words' bytes (sh-assign.ts keeps every character's byte range).
 */
import { TicklessError } from "../../errors.js";
import { formatParam, type KernelParam, parseParams } from "./grub-cmdline.js";
import {
  isCharPart,
  literalText,
  parseShFile,
  type ShAssignment,
  type ShChar,
  ShParseError,
  type ShPart,
  serializeParts,
} from "./sh-assign.js";

export const LINUX = "GRUB_CMDLINE_LINUX";
export const LINUX_DEFAULT = "GRUB_CMDLINE_LINUX_DEFAULT";
const WATCHED = [LINUX, LINUX_DEFAULT] as const;

/** One file grub-mkconfig sources, in its order. */
export interface GrubSource {
  path: string;
  content: string;
}

interface ParsedSource extends GrubSource {
  assignments: ShAssignment[];
}

export function sourceError(path: string, line: number, message: string, hint?: string): TicklessError {
  return new TicklessError("TASK", `${path}:${line}: ${message}`, {
    hint:
      hint ??
      "tickless edits only plain top-level assignments of GRUB_CMDLINE_LINUX(_DEFAULT); simplify the line, or use method: snippet",
  });
}

export function parseSources(sources: readonly GrubSource[]): ParsedSource[] {
  return sources.map((s) => {
    try {
      return { ...s, assignments: parseShFile(s.content, WATCHED).assignments };
    } catch (err) {
      if (err instanceof ShParseError) throw sourceError(s.path, err.line, err.message);
      throw err;
    }
  });
}

/** The variables after sourcing every file (sh semantics: unset reads as ""); throws on an unknown watched one. */
export function evaluate(parsed: readonly ParsedSource[]): Record<(typeof WATCHED)[number], string> {
  const env = new Map<string, string | { path: string; line: number; why: string }>();
  for (const src of parsed) {
    for (const a of src.assignments) {
      env.set(
        a.name,
        a.opaque ? { path: src.path, line: a.line, why: a.opaque } : expand(a.parts, env, src.path, a.line),
      );
    }
  }
  const value = (name: string) => {
    const v = env.get(name) ?? "";
    if (typeof v !== "string") throw sourceError(v.path, v.line, `${name}'s value depends on ${v.why}`);
    return v;
  };
  return { [LINUX]: value(LINUX), [LINUX_DEFAULT]: value(LINUX_DEFAULT) } as Record<
    (typeof WATCHED)[number],
    string
  >;
}

type Env = Map<string, string | { path: string; line: number; why: string }>;

function expand(parts: readonly ShPart[], env: Env, path: string, line: number) {
  let out = "";
  for (const p of parts) {
    if (isCharPart(p)) out += p.ch;
    else {
      const v = env.get(p.ref) ?? "";
      if (typeof v !== "string") return { path, line, why: `$${p.ref} (${v.path}:${v.line}: ${v.why})` };
      out += v;
    }
  }
  return out;
}

/** Whitespace-separated pieces of a value, as index ranges into its parts. */
interface Token {
  from: number;
  to: number;
  /** The text when every part is a literal character. */
  text?: string;
}

function isSpace(p: ShPart | undefined): p is ShChar {
  return p !== undefined && isCharPart(p) && /\s/.test(p.ch);
}

function tokens(parts: readonly ShPart[]): Token[] {
  const out: Token[] = [];
  let k = 0;
  while (k < parts.length) {
    if (isSpace(parts[k])) {
      k++;
      continue;
    }
    const from = k;
    while (k < parts.length && !isSpace(parts[k])) k++;
    out.push({ from, to: k, text: literalText(parts.slice(from, k)) });
  }
  return out;
}

function keyOf(word: string): string {
  const eq = word.indexOf("=");
  return eq < 0 ? word : word.slice(0, eq);
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Whether parts [from, to) sit next to each other in one quoting run (their bytes are one range). */
function oneRun(parts: readonly ShPart[], from: number, to: number): boolean {
  const run = parts[from]?.run;
  for (let k = from; k < to; k++) if (!isCharPart(parts[k]) || parts[k].run !== run) return false;
  return true;
}

/**
 * The byte edits that drop the tokens `remove`, give `replace` its new text and append `append`
 * to one assignment's value. Bytes of the words only, when each one (and a space next to it) is in
 * one quoting run; otherwise the whole value is written again as one double-quoted word.
 */
function editAssignment(
  a: ShAssignment,
  remove: readonly Token[],
  replace: readonly { token: Token; text: string }[],
  append: string[],
): Edit[] {
  const { parts } = a;
  const dropped = new Set<number>();
  const edits: Edit[] = [];
  let surgical = true;
  for (const t of remove) {
    for (let k = t.from; k < t.to; k++) dropped.add(k);
    const before = t.from - 1;
    const sep =
      isSpace(parts[before]) && !dropped.has(before) ? before : isSpace(parts[t.to]) ? t.to : undefined;
    if (sep !== undefined) dropped.add(sep);
    const from = Math.min(t.from, sep ?? t.from);
    const to = Math.max(t.to, sep === undefined ? t.to : sep + 1);
    if (!oneRun(parts, from, to)) surgical = false;
    else edits.push({ start: parts[from].start, end: parts[to - 1].end, text: "" });
  }
  for (const { token, text } of replace) {
    if (!oneRun(parts, token.from, token.to) || (parts[token.from] as ShChar).quote === "") surgical = false;
    else edits.push({ start: parts[token.from].start, end: parts[token.to - 1].end, text });
  }
  const kept = parts.filter((_, k) => !dropped.has(k));
  if (append.length > 0) {
    const last = kept[kept.length - 1];
    const closing = a.valueEnd - 1;
    if (last && isCharPart(last) && last.quote !== "" && last.end === closing) {
      edits.push({ start: closing, end: closing, text: `${isSpace(last) ? "" : " "}${append.join(" ")}` });
    } else if (parts.length === 0 && a.valueEnd - a.valueStart === 2) {
      edits.push({ start: a.valueStart + 1, end: a.valueStart + 1, text: append.join(" ") }); // "" or ''
    } else surgical = false;
  }
  if (surgical) return edits;
  const rebuilt: ShPart[] = [];
  parts.forEach((p, k) => {
    if (dropped.has(k)) return;
    const r = replace.find((x) => k >= x.token.from && k < x.token.to);
    if (!r) rebuilt.push(p);
    else if (k === r.token.from) rebuilt.push(...charsOf(r.text));
  });
  if (append.length > 0) {
    const last = rebuilt[rebuilt.length - 1];
    rebuilt.push(...charsOf(`${last === undefined || isSpace(last) ? "" : " "}${append.join(" ")}`));
  }
  return [{ start: a.valueStart, end: a.valueEnd, text: serializeParts(rebuilt) }];
}

function charsOf(text: string): ShChar[] {
  return [...text].map((ch) => ({ ch, start: 0, end: 0, run: -1, quote: '"' as const }));
}

function applyEdits(content: string, edits: Edit[]): string {
  let out = content;
  for (const e of [...edits].sort((x, y) => y.start - x.start)) {
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
  }
  return out;
}

/** Occurrences of each key on the normal entry's line, split by variable. */
function occurrences(values: Record<string, string>, key: string) {
  const pick = (v: string) => parseParams(v).filter((w) => w.key === key);
  return { linux: pick(values[LINUX]), linuxDefault: pick(values[LINUX_DEFAULT]) };
}

/** Whether the sourced defaults give the kernel exactly one `p`, in GRUB_CMDLINE_LINUX (so the recovery entry has it too). */
export function exactlyOnce(values: Record<string, string>, p: KernelParam): boolean {
  const o = occurrences(values, p.key);
  return o.linux.length === 1 && o.linux[0].value === p.value && o.linuxDefault.length === 0;
}

export interface DefaultsTarget {
  /** The file that gets the parameters. */
  path: string;
  /**
   * `snippet`: the file is tickless's own, rendered whole from its params ("" = no file);
   * `assignment`: the last top-level assignment of GRUB_CMDLINE_LINUX in the file gets them.
   */
  kind: "snippet" | "assignment";
  render?: (params: KernelParam[]) => string;
}

/**
 * Pure: new contents by path (only files whose bytes change; "" for a snippet with nothing to
 * carry) that make every param occur exactly once on the kernel's line. A param that the sourced
 * files already give exactly once with the wanted value is left where it is. Otherwise every
 * literal word of its key in GRUB_CMDLINE_LINUX(_DEFAULT) of every file is dropped, and the param
 * goes to the target: the snippet, or the target assignment (its own first word of the key
 * replaced in place, else appended; a new line when the file has no such assignment).
 * `sources` lists every file grub-mkconfig sources, in order, the snippet included ("" when absent).
 * Throws (file:line) when a file cannot be followed or the edit would not give exactly one of each.
 */
export function planDefaults(
  sources: readonly GrubSource[],
  target: DefaultsTarget,
  params: readonly KernelParam[],
): Map<string, string> {
  const snippet = target.kind === "snippet";
  const all = parseSources(sources.filter((s) => !(snippet && s.path === target.path)));
  const move = params.filter((p) => !exactlyOnce(evaluate(all), p));
  const keys = new Set(move.map((p) => p.key));
  const targetFile = all.find((s) => s.path === target.path);
  const targetAssignment = snippet
    ? undefined
    : targetFile?.assignments.filter((a) => a.name === LINUX && !a.opaque).pop();
  const files = new Map<string, string>();
  for (const src of all) {
    const edits: Edit[] = [];
    for (const a of src.assignments) {
      if (!(WATCHED as readonly string[]).includes(a.name) || a.opaque) continue;
      const placed = new Set<string>();
      const remove: Token[] = [];
      const replace: { token: Token; text: string }[] = [];
      for (const t of tokens(a.parts)) {
        const key = t.text === undefined ? undefined : keyOf(t.text);
        if (key === undefined || !keys.has(key)) continue;
        if (a !== targetAssignment || placed.has(key)) {
          remove.push(t);
          continue;
        }
        placed.add(key);
        const want = formatParam(move.find((m) => m.key === key) as KernelParam);
        if (t.text !== want) replace.push({ token: t, text: want });
      }
      const append = a === targetAssignment ? move.filter((p) => !placed.has(p.key)).map(formatParam) : [];
      if (remove.length || replace.length || append.length)
        edits.push(...editAssignment(a, remove, replace, append));
    }
    if (edits.length) files.set(src.path, applyEdits(src.content, edits));
  }
  if (snippet) {
    const current = sources.find((s) => s.path === target.path)?.content ?? "";
    const rendered = target.render?.(move) ?? "";
    if (rendered !== current) files.set(target.path, rendered);
  } else if (!targetAssignment && move.length > 0) {
    const content = files.get(target.path) ?? targetFile?.content ?? "";
    const sep = content === "" || content.endsWith("\n") ? "" : "\n";
    files.set(target.path, `${content}${sep}${LINUX}="${move.map(formatParam).join(" ")}"\n`);
  }
  checkOnce(sources, files, params);
  return files;
}

/** The sources with new contents in place. */
export function withContents(
  sources: readonly GrubSource[],
  files: ReadonlyMap<string, string>,
): GrubSource[] {
  return sources.map((s) => ({ path: s.path, content: files.get(s.path) ?? s.content }));
}

/** After the edit every param must be there exactly once; else name the assignments that carry its key. */
function checkOnce(
  sources: readonly GrubSource[],
  files: ReadonlyMap<string, string>,
  params: readonly KernelParam[],
) {
  const parsed = parseSources(withContents(sources, files));
  const values = evaluate(parsed);
  for (const p of params) {
    if (exactlyOnce(values, p)) continue;
    const where = parsed.flatMap((s) =>
      s.assignments
        .filter((a) => (WATCHED as readonly string[]).includes(a.name))
        .filter((a) => a.parts.some((x) => !isCharPart(x)) || literalText(a.parts)?.includes(`${p.key}`))
        .map((a) => `${s.path}:${a.line}`),
    );
    const o = occurrences(values, p.key);
    const got = [...o.linux, ...o.linuxDefault].map(formatParam).join(" ") || "none";
    throw new TicklessError(
      "TASK",
      `cannot give the kernel exactly one ${formatParam(p)}: after the edit the defaults would give ${got}${
        where.length ? ` (assignments involved: ${where.join(", ")})` : ""
      }`,
      {
        hint: "a later grub.d snippet may set GRUB_CMDLINE_LINUX again, or a value may carry the key through a variable: edit that line, or use method: snippet",
      },
    );
  }
}

/** Pure: the target's words of the keys dropped (state absent), only in the target file. */
export function removeFromFile(source: GrubSource, keys: ReadonlySet<string>): string {
  const [parsed] = parseSources([source]);
  const edits: Edit[] = [];
  for (const a of parsed.assignments) {
    if (!(WATCHED as readonly string[]).includes(a.name) || a.opaque) continue;
    const remove = tokens(a.parts).filter((t) => t.text !== undefined && keys.has(keyOf(t.text)));
    if (remove.length) edits.push(...editAssignment(a, remove, [], []));
  }
  return applyEdits(source.content, edits);
}
