/**
 * Ansible's lookup plugins (`lookup('env', 'HOME')`, `query(…)`, `q(…)`): tickless runs none of
 * them inside expressions. The refusal names the plugin and what to write instead.
 */
import { WITH_LOOKUPS } from "../playbook/keywords.js";

/** The functions Ansible's templates call a lookup plugin with. */
export const LOOKUP_FUNCTIONS = new Set(["lookup", "query", "q"]);

const VALUE_INSTEAD = "pass the value with -e name=value (or -e @file.yml), or set it in vars";

/** What to write instead of each lookup plugin an Ansible playbook commonly calls. */
const INSTEAD: Record<string, string> = {
  env: `tickless does not read the controller's environment in templates: ${VALUE_INSTEAD}, e.g. -e home="$HOME"`,
  file: "read the file in a task: include_vars for YAML, or copy: src=… to put it on the host; pass text with -e @file.yml",
  template: "render it on the host with the template module, or pass the text with -e @file.yml",
  pipe: "run the command in a task (delegate_to: localhost) and register its output",
  lines: "run the command in a task (delegate_to: localhost), register it and use result.stdout_lines",
  password: `tickless does not generate or store passwords: ${VALUE_INSTEAD} from a file only you can read`,
  vars: "name the variable directly, or vars[name] | default(…)",
  first_found: "name the file directly, or choose it in vars with a condition",
  url: "fetch it in a task with command: curl … (delegate_to: localhost) and register its output",
  ini: "put the value in vars (group_vars/ or -e @file.yml)",
  csvfile: "put the value in vars (group_vars/ or -e @file.yml)",
  dict: "loop over mapping | dict2items",
};

/** The refusal's hint for a call of lookup/query with this plugin name (undefined when not a string literal). */
export function lookupInstead(plugin: string | undefined): string {
  if (plugin !== undefined && Object.hasOwn(INSTEAD, plugin)) return INSTEAD[plugin];
  if (plugin !== undefined && (WITH_LOOKUPS as readonly string[]).includes(plugin))
    return `loop over the list with loop:, or write with_${plugin}: on the task`;
  return `tickless has no lookup plugins: ${VALUE_INSTEAD}, or compute it in a task and register it`;
}
