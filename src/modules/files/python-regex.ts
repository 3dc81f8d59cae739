/**
 * Python regular expressions (as Ansible's line modules take them) run with JS RegExp:
 * named groups `(?P<n>…)`/`(?P=n)`, leading inline flags `(?im)`, `\A`/`\Z`, Python's `$`
 * (which also matches before a final "\n"), and `match.expand()` for backrefs.
 */
import { TicklessError } from "../../errors.js";

export interface PythonRegex {
  source: string;
  regex: RegExp;
  multiline: boolean;
}

/** Compiles a Python pattern; a bad pattern is a MODULE_ARGS error naming the argument. */
export function compilePython(pattern: string, argName: string): PythonRegex {
  let source = pattern;
  let flags = "";
  const inline = /^\(\?([aiLmsux]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    for (const f of inline[1]) if (f === "i" || f === "m" || f === "s") flags += f;
  }
  source = source
    .replace(/\(\?P</g, "(?<")
    .replace(/\(\?P=(\w+)\)/g, "\\k<$1>")
    .replace(/\\A/g, "^")
    .replace(/\\Z/g, "$(?![\\s\\S])");
  try {
    return { source: pattern, regex: new RegExp(source, flags), multiline: flags.includes("m") };
  } catch (err) {
    throw new TicklessError(
      "MODULE_ARGS",
      `${argName}: invalid regular expression ${JSON.stringify(pattern)}`,
      {
        cause: err,
        hint: "tickless takes Python-style regular expressions, as Ansible does",
      },
    );
  }
}

/** Python's `re.search(line)`; without the m flag `$` also matches before a final "\n". */
export function searchLine(re: PythonRegex, line: string): RegExpExecArray | null {
  if (re.multiline) return re.regex.exec(line);
  return re.regex.exec(line) ?? (line.endsWith("\n") ? re.regex.exec(line.slice(0, -1)) : null);
}

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  f: "\f",
  v: "\v",
  a: "\x07",
  b: "\b",
  "\\": "\\",
};

/** Python's `match.expand(template)`: `\1`, `\g<1>`, `\g<name>`, and character escapes. */
export function expandMatch(match: RegExpExecArray, template: string): string {
  return template.replace(/\\(g<([^>]+)>|\d{1,2}|.)/g, (whole, esc: string, group?: string) => {
    if (group !== undefined) {
      const value = /^\d+$/.test(group) ? match[Number(group)] : match.groups?.[group];
      return value ?? "";
    }
    if (/^\d+$/.test(esc)) return match[Number(esc)] ?? "";
    return ESCAPES[esc] ?? whole;
  });
}
