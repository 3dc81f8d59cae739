/** Where in a source file something is: 1-based line and column. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

/** Stable error codes; the CLI maps each family to an exit code (see exitCodeFor). */
export type ErrorCode =
  | "YAML_SYNTAX"
  | "SCHEMA"
  | "UNKNOWN_KEY"
  | "UNKNOWN_MODULE"
  | "MODULE_ARGS"
  | "UNKNOWN_HANDLER"
  | "TEMPLATE"
  | "UNDEFINED_VARIABLE"
  | "EXPRESSION"
  | "FILE_NOT_FOUND"
  | "INVENTORY"
  | "PATTERN"
  | "EXTRA_VARS"
  | "BAD_OPTION"
  | "CONNECTION"
  | "HOST_KEY"
  | "TASK"
  | "VAULT"
  | "INTERNAL";

export interface TicklessErrorOptions {
  hint?: string;
  location?: SourceLocation;
  cause?: unknown;
  /** A failed command's output (rc, stdout, stderr): the failed task's result carries it. */
  output?: CommandOutput;
  /** Fields a module's failure adds to the task's result beside `msg` (Ansible's `dest`, `src`, …). */
  fields?: Record<string, unknown>;
}

export interface CommandOutput {
  rc: number;
  stdout: string;
  stderr: string;
}

/** Every error tickless raises on purpose: a stable code, a message, where, and a hint. */
export class TicklessError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly location?: SourceLocation;
  readonly output?: CommandOutput;
  readonly fields?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: TicklessErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TicklessError";
    this.code = code;
    this.hint = options.hint;
    this.location = options.location;
    if (options.output) this.output = options.output;
    if (options.fields) this.fields = options.fields;
  }

  /** One paragraph: `file:line:column: message (hint: …)`. */
  format(): string {
    return formatError(this);
  }
}

/** Raised for problems in what the user wrote: playbooks, inventories, templates, options. */
export class ParseError extends TicklessError {
  constructor(code: ErrorCode, message: string, options: TicklessErrorOptions = {}) {
    super(code, message, options);
    this.name = "ParseError";
  }
}

/** Raised for bad command-line options and extra vars. */
export class OptionError extends TicklessError {
  constructor(message: string, options: TicklessErrorOptions = {}) {
    super("BAD_OPTION", message, options);
    this.name = "OptionError";
  }
}

/** Raised when a host cannot be reached or its connection drops. */
export class ConnectionError extends TicklessError {
  constructor(message: string, options: TicklessErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? "CONNECTION", message, options);
    this.name = "ConnectionError";
  }
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return "";
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.line !== undefined && loc.column !== undefined) s += `:${loc.column}`;
  return s;
}

/** Formats any error as one paragraph, without a stack trace. */
export function formatError(err: unknown): string {
  if (err instanceof TicklessError) {
    const where = formatLocation(err.location);
    let s = where ? `${where}: ${err.message}` : err.message;
    if (err.hint) s += ` (hint: ${err.hint})`;
    return s;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Exit codes as ansible-playbook has them. */
export const EXIT = {
  OK: 0,
  ERROR: 1,
  HOST_FAILED: 2,
  HOST_UNREACHABLE: 4,
  PARSE_ERROR: 4,
  BAD_OPTIONS: 5,
  INTERRUPTED: 99,
} as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof OptionError) return EXIT.BAD_OPTIONS;
  if (err instanceof TicklessError) {
    switch (err.code) {
      case "BAD_OPTION":
      case "EXTRA_VARS":
        return EXIT.BAD_OPTIONS;
      case "CONNECTION":
      case "HOST_KEY":
        return EXIT.HOST_UNREACHABLE;
      case "TASK":
      case "VAULT":
      case "INTERNAL":
        return EXIT.ERROR;
      default:
        return EXIT.PARSE_ERROR;
    }
  }
  return EXIT.ERROR;
}
