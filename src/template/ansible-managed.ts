/**
 * `ansible_managed` as ansible-core 2.14's generate_ansible_template_vars makes it: ansible.cfg's
 * `[defaults] ansible_managed` (DEFAULT_MANAGED_STR) through Python's str.format with `{host}`,
 * `{uid}` and `{file}`, then time.strftime at the template file's mtime, in local time.
 */
import { TicklessError } from "../errors.js";
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
  return pyStrftime(pyFormat(setting, fields), mtime);
}

/**
 * Python's str.format with keyword arguments only: `{name}`, `{{`, `}}`. What Python would raise
 * fails the task in Python's words (as Ansible reports it), with the setting named.
 */
export function pyFormat(text: string, fields: Record<string, string>): string {
  const fail = (python: string, hint: string) => {
    const [pyClass, ...rest] = python.split(": ");
    return new ManagedFormatError(pyClass, rest.join(": "), `from ${WHERE} = ${text}; ${hint}`);
  };
  const known = `it may name ${Object.keys(fields)
    .map((k) => `{${k}}`)
    .join(", ")}; write {{ and }} for a brace`;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "}") {
      if (text[i + 1] !== "}") throw fail("ValueError: Single '}' encountered in format string", known);
      out += "}";
      i++;
    } else if (c === "{") {
      if (text[i + 1] === "{") {
        out += "{";
        i++;
        continue;
      }
      const end = text.indexOf("}", i);
      if (end < 0) throw fail("ValueError: Single '{' encountered in format string", known);
      const field = text.slice(i + 1, end);
      if (field === "")
        throw fail("IndexError: Replacement index 0 out of range for positional args tuple", known);
      if (!/^[A-Za-z_]\w*$/.test(field))
        throw fail(
          `ValueError: unsupported format field {${field}}`,
          `tickless reads plain fields: ${known}`,
        );
      if (!Object.hasOwn(fields, field)) throw fail(`KeyError: '${field}'`, known);
      out += fields[field];
      i = end;
    } else out += c;
  }
  return out;
}
