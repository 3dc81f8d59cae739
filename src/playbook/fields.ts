/** Converters from written field values to their resolved forms; shapes were checked by the schema. */
import { UnsafeText } from "../template/unsafe.js";
import type { Task } from "./types.js";

export type Raw = Record<string, unknown>;

export function isRecord(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `verify:` as an expression, a list of them, or `{ that, command }`. */
export function toVerify(value: unknown): Task["verify"] {
  if (typeof value === "string") return { that: [value] };
  if (Array.isArray(value)) return { that: value.map(String) };
  if (isRecord(value)) {
    return { that: toList(value.that), command: optionalString(value.command) };
  }
  return undefined;
}

/** `when`-like fields: an expression, a boolean, or a list of them → a list of expressions. */
export function toConditions(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  return [value].flat().map((v) => (typeof v === "boolean" ? String(v) : String(v).trim()));
}

/**
 * `vars:` as Ansible's `_load_vars` reads it: a mapping, or a list of mappings merged in order
 * (a later one's names win), or nothing.
 */
export function toVars(value: unknown): Raw {
  if (isRecord(value)) return value;
  if (Array.isArray(value)) return Object.assign({}, ...value.filter(isRecord));
  return {};
}

/** A string or a list of strings (anything else was reported by the schema). */
export function toList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return [value].flat().filter((v): v is string => typeof v === "string");
}

/** tags: a list, or a comma-separated string. */
export function toTags(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map((t) => String(t).trim()).filter((t) => t !== "");
  return String(value)
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
}

export function toEnvironment(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

/** A boolean, or a quoted word Ansible reads as one ("yes", "off", …). */
export function optionalBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value !== "string") return undefined;
  if (/^(yes|true|on)$/i.test(value)) return true;
  if (/^(no|false|off)$/i.test(value)) return false;
  return undefined;
}

export function optionalString(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

/** A few words on what a value is, without printing it (it may be a secret). */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (value instanceof UnsafeText) return "an !unsafe string";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return "a string";
  if (typeof value === "number") return "a number";
  if (typeof value === "boolean") return "a boolean";
  return typeof value;
}
