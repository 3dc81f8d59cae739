/**
 * The `action:` form of a task, as ansible-core reads it: `action: copy dest=/x content=y` (the
 * module, then its arguments as written) or `action: { module: copy, dest: /x }`. The task is
 * rewritten to the usual form (`copy: dest=/x content=y`); a module key beside `action` is refused
 * with ansible-core's words.
 */
import { ParseError, type SourceLocation } from "../errors.js";
import type { ModuleRegistry } from "../modules/registry.js";
import { isRecord, type Raw } from "./fields.js";

export interface ActionForm {
  /** The task with `action` replaced by its module key (the task itself when there is no `action`). */
  raw: Raw;
  /** The module key that stands for `action` (locations point at `action`). */
  module?: string;
  errors: ParseError[];
}

export function actionForm(raw: Raw, registry: ModuleRegistry, at: SourceLocation): ActionForm {
  if (!("action" in raw)) return { raw, errors: [] };
  const { action, ...rest } = raw;
  let module: string | undefined;
  let args: unknown;
  if (typeof action === "string") {
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(action);
    module = m?.[1];
    args = m?.[2] === "" ? undefined : m?.[2];
  } else if (isRecord(action) && typeof action.module === "string") {
    const { module: name, ...mapping } = action;
    module = name as string;
    args = mapping;
  }
  if (module === undefined) {
    const error = new ParseError("SCHEMA", "action: expected a module and its arguments", {
      location: at,
      hint: "write action: copy dest=/x content=y, or action: { module: copy, dest: /x }",
    });
    return { raw: rest, errors: [error] };
  }
  const other = Object.keys(rest).find((k) => registry.has(k));
  if (other !== undefined) {
    const error = new ParseError("SCHEMA", `conflicting action statements: action, ${other}`, {
      location: at,
      hint: "write the module once: as the task's key or under action:",
    });
    return { raw: rest, errors: [error] };
  }
  return { raw: { ...rest, [module]: args ?? null }, module, errors: [] };
}
