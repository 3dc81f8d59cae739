/**
 * Text as Ansible's line modules see it: bytes, one JS char per byte ("latin1"), so that
 * edits give the same bytes as Python's bytes operations, whatever the encoding.
 */

/** Bytes → binary string. */
export function toBinary(value: Buffer | string): string {
  return (typeof value === "string" ? Buffer.from(value) : value).toString("latin1");
}

/** Binary string → bytes. */
export function fromBinary(text: string): Buffer {
  return Buffer.from(text, "latin1");
}

/** Python's `f.readlines()` on a binary file: split after each "\n", ends kept. */
export function readLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Python's `bytes.splitlines(True)`: split after "\r\n", "\r" or "\n", ends kept. */
export function splitLines(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

/** Python's `line.rstrip(b"\r\n")`. */
export function stripEol(line: string): string {
  return line.replace(/[\r\n]+$/, "");
}
