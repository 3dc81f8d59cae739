/**
 * `ansible_managed` as ansible-core 2.14's generate_ansible_template_vars makes it: ansible.cfg's
 * `[defaults] ansible_managed` (DEFAULT_MANAGED_STR) through Python's str.format with `{host}`,
 * `{uid}` and `{file}`, then time.strftime at the template file's mtime, in local time.
 */
import { TicklessError } from "../errors.js";
import { pyFormat } from "./py-format.js";
import { pyStrftime } from "./py-strftime.js";

/** Ansible's default (DEFAULT_MANAGED_STR). */
export const DEFAULT_ANSIBLE_MANAGED = "Ansible managed";

/** Where a run's configured string rides along with a task's variables (not a variable itself). */
export const ANSIBLE_MANAGED_SETTING: unique symbol = Symbol("ansible.cfg ansible_managed");

const WHERE = "ansible.cfg [defaults] ansible_managed";

/** What Python's str.format raised on the setting (`KeyError`, `'nope'`), and where the setting is. */
export class ManagedFormatError extends TicklessError {
  constructor(
    readonly pyClass: string,
    readonly pyMessage: string,
    readonly note: string,
  ) {
    super("TASK", `${pyClass}: ${pyMessage} (${note})`);
  }
}

/** The configured string a task's variables carry; Ansible's default without one. */
export function managedSetting(vars: Record<string | symbol, unknown>): string {
  const v = vars[ANSIBLE_MANAGED_SETTING];
  return typeof v === "string" ? v : DEFAULT_ANSIBLE_MANAGED;
}

/** The `ansible_managed` of a template: `mtime` in seconds since the epoch. */
export function ansibleManaged(
  setting: string,
  fields: { host: string; uid: string; file: string },
  mtime: number,
): string {
  return pyStrftime(formatManaged(setting, fields), mtime);
}

/**
 * The setting through Python's str.format (py-format.ts) with the fields as keywords. What Python
 * would raise fails the task in Python's words (`KeyError: 'nope'`, as Ansible reports it), with
 * the setting and the fields it may name.
 */
export function formatManaged(text: string, fields: Record<string, string>): string {
  try {
    return pyFormat(text, [], fields);
  } catch (err) {
    if (!(err instanceof TicklessError)) throw err;
    const known = `it may name ${Object.keys(fields)
      .map((k) => `{${k}}`)
      .join(", ")}; write {{ and }} for a brace`;
    throw new ManagedFormatError(pythonClass(err.message), err.message, `from ${WHERE} = ${text}; ${known}`);
  }
}

/** The exception str.format raises with the message. */
function pythonClass(message: string): string {
  if (/^'.*'$/.test(message)) return "KeyError";
  if (/out of range/.test(message)) return "IndexError";
  if (/has no attribute/.test(message)) return "AttributeError";
  return "ValueError";
}
