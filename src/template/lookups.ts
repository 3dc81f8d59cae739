/**
 * Ansible's `lookup(name, …)`, `query(name, …)` and `q(…)` in expressions and templates: the
 * plugin runs on the controller (template/lookup-plugins.ts) with the keyword arguments as its
 * options, then ansible-core's Templar._lookup: `wantlist`, `errors=strict|warn|ignore`, a list
 * of strings joined with "," for lookup(), and the result marked unsafe (never templated again).
 */
import { dirname } from "node:path";
import { type SourceLocation, TicklessError } from "../errors.js";
import { Keyword } from "./filters.js";
import { truthy } from "./helpers.js";
import { LOOKUP_PLUGINS, LookupError, runPlugin } from "./lookup-plugins.js";
import { renderNested } from "./render.js";
import { Scope, toPlain } from "./scope.js";
import { markUnsafe } from "./unsafe.js";

/** The functions Ansible's templates call a lookup plugin with. */
export const LOOKUP_FUNCTIONS = new Set(["lookup", "query", "q"]);

/** A plugin's short name: `ansible.builtin.env` is `env`. */
export function pluginName(name: string): string {
  return name.replace(/^ansible\.(builtin|legacy)\./, "");
}

/** Whether tickless runs the lookup plugin of that name. */
export function isLookupPlugin(name: string): boolean {
  return LOOKUP_PLUGINS.has(pluginName(name));
}

/** A lookup's term written as a string holding a template: rendered in the caller's scope first. */
export class TermTemplate {
  constructor(readonly source: string) {}
}

let warn: ((message: string) => void) | undefined;

/** Where `errors='warn'` sends its warning while a playbook runs (undefined: nowhere). */
export function setLookupWarnings(listener: ((message: string) => void) | undefined): void {
  warn = listener;
}

/** Calls a lookup plugin as `fn(name, *terms, **options)` does in an Ansible template. */
export function callLookup(fn: string, scope: Scope, args: unknown[]): unknown {
  const options: Record<string, unknown> = {};
  const positional: unknown[] = [];
  for (const arg of args) {
    if (arg instanceof Keyword) options[arg.name] = toPlain(term(arg.value, scope));
    else positional.push(toPlain(term(arg, scope)));
  }
  const [written, ...terms] = positional;
  const name = pluginName(String(written));
  const wantlist = fn !== "lookup" || truthy(options.wantlist ?? false);
  const errors = String(options.errors ?? "strict");
  const allowUnsafe = truthy(options.allow_unsafe ?? false);
  for (const key of ["wantlist", "errors", "allow_unsafe"]) delete options[key];
  if (!["strict", "warn", "ignore"].includes(errors))
    throw new TicklessError(
      "TASK",
      `Invalid value "${errors}" for "errors", valid values are strict, warn, ignore`,
    );
  let ran: unknown[];
  try {
    ran = runPlugin(name, terms, {
      options,
      scope,
      searchDirs: searchDirs(scope),
      playbookDir: playbookDir(scope),
    });
  } catch (err) {
    if (!(err instanceof LookupError)) throw err;
    const unhandled = `An unhandled exception occurred while running the lookup plugin '${name}'. Error was a <class 'ansible.errors.AnsibleError'>, original message: ${err.message}`;
    if (errors === "strict") {
      // AnsibleError(msg, orig_exc=e) prints the original message once more
      const message = err.handled ? err.message : `${unhandled}. ${err.message}`;
      throw new TicklessError("TASK", message, { cause: err });
    }
    const reported = err.handled ? `Lookup failed but the error is being ignored: ${err.message}` : unhandled;
    if (errors === "warn") warn?.(reported);
    return wantlist ? [] : null;
  }
  if (ran.length === 0) return ran;
  if (!allowUnsafe) scope.markUnsafe();
  if (wantlist) return ran;
  if (ran.every((r) => typeof r === "string")) return ran.join(",");
  return ran.length === 1 ? ran[0] : ran;
}

function term(value: unknown, scope: Scope): unknown {
  return value instanceof TermTemplate ? renderNested(value.source, scope) : value;
}

/**
 * The items of a `with_<plugin>` loop over a plugin of lookup-plugins.ts: the written terms
 * (rendered) as the plugin's terms, each item unsafe (ansible-core's wrap_var); a plugin's error
 * fails the task in its own words, as ansible-core's loop reports it.
 */
export function withLookupItems(
  name: string,
  rendered: unknown,
  vars: Record<string, unknown>,
  loc: SourceLocation,
  action = "",
): unknown[] {
  const scope = new Scope(vars, renderNested, loc);
  try {
    const terms = Array.isArray(rendered) ? rendered : [rendered];
    const items = runPlugin(name, terms, {
      options: {},
      scope,
      searchDirs: searchDirs(scope),
      playbookDir: playbookDir(scope),
      // ansible-core's TaskExecutor gives a loop's lookup the task's kind of file
      subdir: `${["template", "var"].find((kind) => action.includes(kind)) ?? "file"}s`,
    });
    return items.map(markUnsafe);
  } catch (err) {
    if (err instanceof LookupError) throw new TicklessError("TASK", err.message, { cause: err });
    throw err;
  }
}

/** ansible_search_path of the calling task: its role's directory, then the task file's. */
function searchDirs(scope: Scope): string[] {
  const dirs: string[] = [];
  const role = scope.raw.role_path;
  if (typeof role === "string") dirs.push(role);
  const file = scope.loc?.file;
  if (file !== undefined && /\.ya?ml$/i.test(file) && !dirs.includes(dirname(file))) dirs.push(dirname(file));
  return dirs;
}

function playbookDir(scope: Scope): string {
  const dir = scope.raw.playbook_dir;
  return typeof dir === "string" ? dir : process.cwd();
}

const VALUE_INSTEAD = "pass the value with -e name=value (or -e @file.yml), or set it in vars";

/** What to write instead of a lookup plugin tickless does not run, for the common ones. */
const INSTEAD: Record<string, string> = {
  password: `tickless does not generate or store passwords: ${VALUE_INSTEAD} from a file only you can read`,
  url: "read it with lookup('pipe', 'curl -fsS URL'), or fetch it in a task (delegate_to: localhost) and register it",
  ini: `put the value in vars (group_vars/ or -e @file.yml), or read the file with lookup('file', …)`,
  csvfile: `put the value in vars (group_vars/ or -e @file.yml), or read the file with lookup('file', …)`,
};

/** The refusal's hint for a lookup(…) whose plugin tickless does not run. */
export function lookupInstead(plugin: string | undefined): string {
  const known = `tickless runs the lookup plugins ${[...LOOKUP_PLUGINS].sort().join(", ")}`;
  if (plugin === undefined)
    return `write the plugin's name as a quoted string, as lookup('env', 'HOME'); ${known}`;
  const instead = INSTEAD[pluginName(plugin)];
  if (instead !== undefined) return `${instead}; ${known}`;
  return `${known}; for another, compute the value in a task and register it, or ${VALUE_INSTEAD}`;
}
