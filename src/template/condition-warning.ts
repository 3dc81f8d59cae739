/**
 * Ansible's warning for a conditional (`when`, `changed_when`, `failed_when`, an assert's `that`)
 * written with template delimiters. ansible-core evaluates conditions in the worker process of one
 * task on one host, whose Display shows a text once: so once per task and host (a loop's items
 * share it), again for the next task or host.
 */
import type { SourceLocation } from "../errors.js";

let warn: ((message: string, key: string) => void) | undefined;

/** Where the warning goes while a playbook runs, with the key of its task and host (undefined: nowhere). */
export function setConditionWarnings(listener: ((message: string, key: string) => void) | undefined): void {
  warn = listener;
}

/** Warns when a condition holds `{{`, `{%` or `{#`, as ansible-core's Conditional does. */
export function warnTemplatedCondition(
  condition: unknown,
  vars: Record<string, unknown>,
  loc: SourceLocation | undefined,
): void {
  if (warn === undefined || typeof condition !== "string" || !/\{[{%#]/.test(condition)) return;
  const where = loc === undefined ? "" : `${loc.file}:${loc.line}:${loc.column}`;
  warn(
    "conditional statements should not include jinja2 templating delimiters such as {{ }} or {% %}. " +
      `Found: ${condition}`,
    `${String(vars.inventory_hostname)}\0${where}`,
  );
}
