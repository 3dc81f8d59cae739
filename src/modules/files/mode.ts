/**
 * File modes as modules accept them, resolved to "0644" strings:
 * - a string of octal digits: "0644", "644", "1777", "04755" (at most 07777);
 * - a number: YAML 1.1 reads an unquoted `0644` as the octal number 420, which is 0644 here;
 *   an unquoted `644` is the decimal number 644 (= 01204), as in Ansible — quote your modes;
 * - a symbolic mode as chmod(1) takes it: "u=rw,g=r,o=r", "u+x", "go-w", "a+X".
 *   Symbolic modes apply to the current mode, or to 0644 (files) / 0755 (directories) for new paths.
 */
import { TicklessError } from "../../errors.js";

export type ModeArg = string | number;

const WHO_BITS: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007 };

/** Resolves a mode argument against the current mode ("0644" or undefined) to four octal digits. */
export function resolveMode(mode: ModeArg, current: string | undefined, isDirectory = false): string {
  if (typeof mode === "number") {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw badMode(mode);
    return format(mode);
  }
  const text = mode.trim();
  if (/^[0-7]+$/.test(text)) {
    // leading zeros as Python's int(mode, 8): "04444" is the setuid bit and 0444
    const bits = Number.parseInt(text, 8);
    if (bits > 0o7777) throw badMode(mode);
    return format(bits);
  }
  const base = current !== undefined ? Number.parseInt(current, 8) : isDirectory ? 0o755 : 0o644;
  return format(applySymbolic(text, base, isDirectory, mode));
}

function format(bits: number): string {
  return bits.toString(8).padStart(4, "0");
}

function applySymbolic(text: string, base: number, isDirectory: boolean, original: ModeArg): number {
  let bits = base;
  for (const clause of text.split(",")) {
    const m = /^([ugoa]*)([-+=][rwxXstugo]*)+$/.exec(clause);
    if (!m) throw badMode(original);
    const who = m[1] === "" || m[1].includes("a") ? "ugo" : m[1];
    const mask = [...who].reduce((acc, w) => acc | WHO_BITS[w], 0);
    for (const op of clause.slice(m[1].length).match(/[-+=][rwxXstugo]*/g) ?? []) {
      const perms = permBits(op.slice(1), bits, isDirectory) & mask;
      if (op[0] === "+") bits |= perms;
      else if (op[0] === "-") bits &= ~perms;
      else bits = (bits & ~mask) | perms;
    }
  }
  return bits;
}

/** Bits for a permission list, spread over all of u, g, o (the caller masks by `who`). */
function permBits(perms: string, current: number, isDirectory: boolean): number {
  let bits = 0;
  for (const p of perms) {
    if (p === "r") bits |= 0o444;
    else if (p === "w") bits |= 0o222;
    else if (p === "x") bits |= 0o111;
    else if (p === "X" && (isDirectory || current & 0o111)) bits |= 0o111;
    else if (p === "s") bits |= 0o6000;
    else if (p === "t") bits |= 0o1000;
    else if (p === "u") bits |= spread((current >> 6) & 7);
    else if (p === "g") bits |= spread((current >> 3) & 7);
    else if (p === "o") bits |= spread(current & 7);
  }
  return bits;
}

function spread(rwx: number): number {
  return (rwx << 6) | (rwx << 3) | rwx;
}

function badMode(mode: ModeArg): TicklessError {
  return new TicklessError("MODULE_ARGS", `invalid mode ${JSON.stringify(mode)}`, {
    hint: 'use a quoted octal string such as "0644", or a symbolic mode such as "u=rw,g=r,o=r"',
  });
}
