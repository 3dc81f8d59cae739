/**
 * Ansible's `omit`: a variable whose value is a placeholder unique to the run; a module argument
 * that renders to exactly that value (`mode: "{{ m | default(omit) }}"`) is dropped as if not
 * given. As in Ansible, mappings are searched at any depth (a list's mappings too), but a list
 * item that is the placeholder stays, and so does text that only contains it.
 */
import { randomBytes } from "node:crypto";

/** The value of `omit` for this run. */
export const OMIT_TOKEN = `__omit_place_holder__${randomBytes(20).toString("hex")}`;

/** Where removeOmit drops a key. */
const OMITTED = Symbol("omitted");

/** A mapping as YAML or an expression gives it; not a value of a class (an unsafe string, a datetime). */
function isMapping(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * The arguments without those that rendered to `omit`. What holds no `omit` comes back as the same
 * object (the arguments themselves when none is present): only the mappings and lists on the way
 * to one are copied.
 */
export function removeOmit<T>(args: T): T {
  if (!isMapping(args)) return args;
  let out: Record<string, unknown> | undefined;
  const entries = Object.entries(args);
  for (const [i, [key, value]] of entries.entries()) {
    const kept =
      value === OMIT_TOKEN ? OMITTED : Array.isArray(value) ? withoutOmitInList(value) : removeOmit(value);
    if (out === undefined) {
      if (kept === value) continue;
      out = {};
      for (const [k, v] of entries.slice(0, i)) out[k] = v;
    }
    if (kept !== OMITTED) out[key] = kept;
  }
  return (out ?? args) as T;
}

/** A list with `omit` taken out of its mappings (an item that is the placeholder itself stays). */
function withoutOmitInList(list: unknown[]): unknown[] {
  let out: unknown[] | undefined;
  for (const [i, item] of list.entries()) {
    const kept = removeOmit(item);
    if (kept === item) continue;
    out ??= [...list];
    out[i] = kept;
  }
  return out ?? list;
}
