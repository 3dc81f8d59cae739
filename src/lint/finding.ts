/** What `tickless lint` reports: a construct tickless does not run, where it is written, and what to write instead. */
import { type ErrorCode, formatError, ParseError, TicklessError } from "../errors.js";

export interface Finding {
  file: string;
  line?: number;
  column?: number;
  /** The loader's error code; `CONFIG_IGNORED` for an ansible.cfg key tickless does not read. */
  code: ErrorCode | "CONFIG_IGNORED";
  /** What is refused, as the loader words it. */
  message: string;
  /** What tickless does instead, or what to write. */
  hint?: string;
}

/** A finding from one of the loader's located errors. */
export function findingOf(err: TicklessError): Finding {
  return {
    file: err.location?.file ?? "",
    ...(err.location?.line === undefined ? {} : { line: err.location.line }),
    ...(err.location?.column === undefined ? {} : { column: err.location.column }),
    code: err.code,
    message: err.message,
    ...(err.hint === undefined ? {} : { hint: err.hint }),
  };
}

/** One line, as `tickless validate` prints an error: `file:line:column: message (hint: …)`. */
export function formatFinding(f: Finding): string {
  const location = f.file ? { file: f.file, line: f.line, column: f.column } : undefined;
  return formatError(new ParseError("SCHEMA", f.message, { location, hint: f.hint }));
}

/** Collects findings once each (a template checked from its task and from the sweep of templates/). */
export class Findings {
  private readonly byKey = new Map<string, Finding>();

  add(finding: Finding): void {
    const key = formatFinding(finding);
    if (!this.byKey.has(key)) this.byKey.set(key, finding);
  }

  /** Records a TicklessError; anything else is a bug and propagates. */
  error(err: unknown): void {
    if (err instanceof TicklessError) this.add(findingOf(err));
    else throw err;
  }

  /** By file, then line, then column. */
  sorted(): Finding[] {
    return [...this.byKey.values()].sort(
      (a, b) =>
        a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
    );
  }
}
