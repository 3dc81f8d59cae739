/**
 * Ansible's `omit`: a variable whose value is a placeholder unique to the run; a module argument
 * that renders to exactly that value (`mode: "{{ m | default(omit) }}"`) is dropped as if not
 * given. As in Ansible, mappings are searched at any depth (a list's mappings too), but a list
 * item that is the placeholder stays, and so does text that only contains it.
 */
import { randomBytes } from "node:crypto";

/** The value of `omit` for this run. */
export const OMIT_TOKEN = `__omit_place_holder__${randomBytes(20).toString("hex")}`;

/** A mapping as YAML or an expression gives it; not a value of a class (an unsafe string, a datetime). */
function isMapping(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The arguments without those that rendered to `omit`. */
export function removeOmit<T>(args: T): T {
  if (!isMapping(args)) return args;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (value === OMIT_TOKEN) continue;
    out[key] = Array.isArray(value) ? value.map(removeOmit) : removeOmit(value);
  }
  return out as T;
}
