/**
 * Argument errors Ansible judges when the task runs, not when the playbook loads: a missing
 * required argument, two mutually exclusive ones, none of a required group, or what a module's
 * action checks first (copy: "dest is required"). tickless refuses them at load time with file:line,
 * unless the task handles its own failure (`ignore_errors: true`, `failed_when`, or a block with
 * `rescue` around it); then the task fails when it runs, with Ansible's words.
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import type { Module } from "../modules/types.js";
import { withoutVault } from "./module-args.js";
import { schemaValidator } from "./schema/validators.js";

const validators = new WeakMap<Module, ValidateFunction>();

/**
 * Ansible's message for `args` whose only problem is one it judges in the task; undefined when they
 * are valid or have another problem (a wrong type, an unknown argument). With `allowTemplates`, a
 * `{{ … }}` string stands for any value (the load-time view).
 */
export function taskTimeArgFailure(
  module: Module,
  args: Record<string, unknown>,
  allowTemplates = false,
): string | undefined {
  const own = module.argsFailure?.(args);
  if (own !== undefined) return own;
  let validate = validators.get(module);
  if (!validate) {
    validate = schemaValidator("module-args", module.args);
    validators.set(module, validate);
  }
  if (validate(withoutVault(args))) return undefined;
  const errors = (validate.errors ?? []).filter(
    (e) => !(allowTemplates && typeof e.data === "string" && e.data.includes("{{")),
  );
  // the branches of a union of `required` are its own error's detail
  const top = errors.filter((e) => !/\/anyOf\/\d+\/required$/.test(e.schemaPath));
  if (top.length === 0 || !top.every(isPresenceError)) return undefined;
  // in the order of Ansible's ArgumentSpecValidator
  const exclusive = top.filter((e) => e.keyword === "not").map((e) => requiredOf(e.parentSchema?.not));
  if (exclusive.length > 0) {
    return `parameters are mutually exclusive: ${exclusive.map((names) => names.join("|")).join(", ")}`;
  }
  const missing = top
    .filter((e) => e.keyword === "required")
    .map((e) => String((e.params as { missingProperty: string }).missingProperty));
  const named = top.flatMap((e) => {
    // a union of an argument and its aliases names the argument in its title (pathArg)
    const name = (e.parentSchema as { title?: string } | undefined)?.title;
    return e.keyword === "anyOf" && name !== undefined ? [name] : [];
  });
  if (missing.length + named.length > 0) {
    return `missing required arguments: ${[...new Set([...missing, ...named])].sort().join(", ")}`;
  }
  const group = top.find((e) => e.keyword === "anyOf");
  return `one of the following is required: ${unionNames(group?.parentSchema).join(", ")}`;
}

/** An error at the args' top level about which arguments are there, not about their values. */
function isPresenceError(e: ErrorObject): boolean {
  if (e.instancePath !== "") return false;
  if (e.keyword === "required") return e.schemaPath === "#/required";
  if (e.keyword === "not") return requiredOf(e.parentSchema?.not).length > 1;
  if (e.keyword === "anyOf") return unionNames(e.parentSchema).length > 0;
  return false;
}

function requiredOf(schema: unknown): string[] {
  const keys = Object.keys((schema ?? {}) as object);
  const required = (schema as { required?: unknown } | undefined)?.required;
  return keys.length === 1 && Array.isArray(required) ? required.map(String) : [];
}

/** The names of a union whose every branch requires one argument (`requireOneOf`), else []. */
function unionNames(schema: unknown): string[] {
  const branches = (schema as { anyOf?: unknown[] } | undefined)?.anyOf ?? [];
  const names = branches.map(requiredOf);
  return names.every((n) => n.length === 1) ? names.flat() : [];
}

/** A task or block that handles its tasks' failures: `ignore_errors: true`, `failed_when`, `rescue`. */
export function handlesFailure(raw: Record<string, unknown>): boolean {
  return (
    raw.ignore_errors === true ||
    raw.failed_when !== undefined ||
    (Array.isArray(raw.rescue) && raw.rescue.length > 0)
  );
}

/** Reads `inner` with the tasks' failures handled when `raw` handles them. */
export async function handledBy<T>(
  raw: Record<string, unknown>,
  ctx: { failureHandled?: boolean },
  inner: () => Promise<T>,
): Promise<T> {
  const outer = ctx.failureHandled;
  ctx.failureHandled = outer || handlesFailure(raw);
  try {
    return await inner();
  } finally {
    ctx.failureHandled = outer;
  }
}
