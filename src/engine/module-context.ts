/** Controller-side helpers handed to modules (ModuleContext). */
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { TicklessError } from "../errors.js";
import { addDynamicGroup, addDynamicHost } from "../inventory/dynamic.js";
import type { Inventory } from "../inventory/types.js";
import type { ModuleContext, TemplateFileOptions } from "../modules/types.js";
import { packageRoot } from "../package-root.js";
import type { Task } from "../playbook/types.js";
import { managedSetting } from "../template/ansible-managed.js";
import { evaluate, renderTemplateFile } from "../template/index.js";
import type { JinjaOptions } from "../template/jinja/lex.js";
import { openVaultFile } from "../vault/index.js";
import { nowSeconds, templateVars } from "./template-vars.js";

export interface ModuleContextInput {
  host: string;
  vars: Record<string, unknown>;
  diff: boolean;
  task: Task;
  playbookDir: string;
  reconnect?: ModuleContext["reconnect"];
  signal?: AbortSignal;
  /** The run's inventory, which group_by and add_host change. */
  inventory?: Inventory;
}

/** Ansible's default `poll` (seconds between two reads of an async job). */
const DEFAULT_POLL = 15;

export function moduleContext(input: ModuleContextInput): ModuleContext {
  const { task, vars } = input;
  // a role's task looks in the role first (<role>/templates, <role>/files), as Ansible's
  const dirs = [...(task.role ? [task.role.dir] : []), path.dirname(task.loc.file), input.playbookDir];
  const runDate = nowSeconds(); // template_run_date: one per task
  return {
    host: input.host,
    vars,
    diff: input.diff,
    location: task.loc,
    renderFile: async (p, options) => {
      const file = await findControllerFile(p, dirs, "templates", task);
      const own = await templateVars(p, file, options, runDate, managedSetting(vars));
      return renderTemplateFile(file, { ...vars, ...own }, jinjaOptions(options), dirs);
    },
    readControllerFile: async (p, options) => {
      const file = await findControllerFile(p, dirs, "files", task);
      const bytes = await readFile(file);
      return options?.decrypt === false ? bytes : openVaultFile(bytes, file);
    },
    evaluate: async (expression) => evaluate(expression, vars, task.locs.args ?? task.loc),
    findFile: (p, kind) => findControllerFile(p, dirs, kind, task),
    taskDir: path.dirname(task.loc.file),
    ...(input.signal ? { signal: input.signal } : {}),
    ...(task.async ? { async: { seconds: task.async, poll: task.poll ?? DEFAULT_POLL } } : {}),
    ...(input.reconnect ? { reconnect: input.reconnect } : {}),
    ...(input.inventory ? { inventory: inventoryEdits(input.inventory, input.host) } : {}),
  };
}

function inventoryEdits(inv: Inventory, host: string): ModuleContext["inventory"] {
  return {
    addToGroup: (group, parents) => addDynamicGroup(inv, host, group, parents),
    addHost: (name, groups, vars) => addDynamicHost(inv, name, groups, vars),
  };
}

/** The template module's trim_blocks, lstrip_blocks, newline_sequence and delimiters, where the task sets them. */
function jinjaOptions(options: TemplateFileOptions = {}): Partial<JinjaOptions> {
  const out: Partial<JinjaOptions> = {};
  if (options.trimBlocks !== undefined) out.trimBlocks = options.trimBlocks;
  if (options.lstripBlocks !== undefined) out.lstripBlocks = options.lstripBlocks;
  if (options.newlineSequence !== undefined) out.newlineSequence = options.newlineSequence;
  if (options.delimiters !== undefined) out.delimiters = options.delimiters;
  return out;
}

/**
 * Ansible's search order: `<dir>/<kind>/<path>` then `<dir>/<path>`, for the task's role's dir,
 * the task's dir, then the playbook's; last, tickless's own `templates/` or `files/`, so the built-in playbooks find their templates.
 */
async function findControllerFile(p: string, dirs: string[], kind: string, task: Task): Promise<string> {
  if (path.isAbsolute(p)) return p;
  const candidates = [...new Set(dirs)].flatMap((d) => [path.join(d, kind, p), path.join(d, p)]);
  candidates.push(path.join(packageRoot(), kind, p));
  for (const c of candidates) {
    try {
      await access(c);
      return c;
    } catch {}
  }
  throw new TicklessError("FILE_NOT_FOUND", `could not find ${p}`, {
    location: task.locs.args ?? task.loc,
    hint: `looked in ${candidates.join(", ")}`,
  });
}
