/**
 * `validate:` of copy, template, lineinfile and blockinfile: the argument, and the failed result
 * in Ansible's words when the command rejects the new content (the file is then left as it was;
 * the command runs in the connection's write, src/connection/validate.ts).
 */
import { ValidateError } from "../../connection/validate.js";
import type { ModuleResult } from "../types.js";

/**
 * A command holding %s. One without it is accepted when the playbook loads, as Ansible's: the
 * write fails the task ("validate must contain %s: …") when the file needs writing, before
 * anything is written.
 */
export const VALIDATE_PROPERTY = {
  validate: { type: "string", description: "a command holding %s for the new file's path" },
} as const;

/** How the module words a failed validation: copy and template's, or lineinfile and blockinfile's. */
export type ValidateStyle = "copy" | "edit";

/** A rejected validation as the module's failed result; any other error is thrown again. */
export function validateFailed(err: unknown, style: ValidateStyle): ModuleResult {
  if (!(err instanceof ValidateError)) throw err;
  if (style === "edit") return { failed: true, msg: `failed to validate: rc:${err.rc} error:${err.stderr}` };
  return {
    failed: true,
    msg: "failed to validate",
    exit_status: err.rc,
    stdout: err.stdout,
    stderr: err.stderr,
  };
}

/** lineinfile's and blockinfile's validate option for the write. */
export function editValidate(args: { validate?: string }) {
  return args.validate === undefined ? undefined : { command: args.validate, style: "edit" as const };
}
