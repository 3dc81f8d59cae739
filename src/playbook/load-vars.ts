/**
 * What a name rendered when the playbook loads can use: import_role's name and `*_from`, and
 * import_tasks' file (and import_playbook's), are templated by ansible-core while it reads the play, with the variables
 * known without a host (VariableManager.get_vars with a play and a task, no host): the defaults
 * and vars of the play's roles and of the role being read, the play's vars (the import_playbook's
 * `vars:` under them) and vars_files, the vars of the task and of the blocks and import_tasks
 * around it, role params, extra vars, and the magic variables of the play. Inventory vars, facts
 * and registered values are not known yet: a name using one fails to load.
 */
import { dirname, resolve } from "node:path";
import { ParseError, type SourceLocation, TicklessError } from "../errors.js";
import { isTemplate, renderString } from "../template/index.js";
import type { Raw } from "./fields.js";
import type { NormalizeContext } from "./normalize.js";
import { loadVarsFile } from "./vars-file.js";
import type { YamlPath, YamlSource } from "./yaml.js";

export interface LoadVars {
  /** `-e`: above everything but the magic variables. */
  extra: Raw;
  /**
   * The `vars:` of the import_playbook whose file is being read: under the play's own vars while
   * the play loads (they win once it has, as ansible-core's). Not passed on to a nested import.
   */
  imported: Raw;
  /** The play being read: its vars (over `imported`), then what its vars_files hold. */
  play: Raw;
  /** The vars of the blocks and import_tasks around the task being read, outermost first. */
  scopes: Raw[];
  /** The play's name, for ansible_play_name. */
  playName?: string;
  /** A file included at run time is being read (not the playbook): for the error's words. */
  included?: boolean;
}

export function emptyLoadVars(extra: Raw = {}): LoadVars {
  return { extra, imported: {}, play: {}, scopes: [] };
}

/** The variables a name is rendered with when it loads; `own` is the task's own `vars:`. */
export function loadTimeVars(ctx: NormalizeContext, own: Raw): Raw {
  const lv = ctx.loadVars;
  const roles = ctx.play?.roles ?? [];
  const role = ctx.role;
  return Object.assign(
    {},
    ...roles.map((r) => r.defaults),
    role?.defaults ?? {},
    lv.play,
    ...roles.map((r) => r.vars),
    role?.vars ?? {},
    ...lv.scopes,
    own,
    role?.params ?? {},
    lv.extra,
    {
      playbook_dir: ctx.playDir,
      ...(lv.playName !== undefined ? { ansible_play_name: lv.playName } : {}),
      ...(role ? { role_name: role.name, role_path: role.dir } : {}),
    },
  );
}

/**
 * What a role's name in `roles:` or a role's `dependencies:` is rendered with: the play's level
 * only (ansible-core's RoleDefinition: get_vars with the play, no task): the play's roles' defaults
 * and vars (none yet while `roles:` itself is read), its vars and vars_files, -e.
 */
export function playLevelVars(ctx: NormalizeContext): Raw {
  const lv = ctx.loadVars;
  const roles = ctx.play?.roles ?? [];
  return Object.assign({}, ...roles.map((r) => r.defaults), lv.play, ...roles.map((r) => r.vars), lv.extra, {
    playbook_dir: ctx.playDir,
    ...(lv.playName !== undefined ? { ansible_play_name: lv.playName } : {}),
  });
}

/** What is being rendered, for the error: `import_role's name`, `import_tasks' file`, … */
export interface LoadName {
  what: string;
  /** The action that chooses the same per host, at run time (none for a playbook). */
  dynamic?: "include_role" | "include_tasks";
}

/** renderAtLoad's `own` for a name rendered with the play's level only (playLevelVars). */
export const PLAY_LEVEL: Raw = Object.freeze({});

/**
 * `text` rendered with the load-time variables; a template that cannot be rendered (an undefined
 * variable above all) is a located error in ctx.errors, and undefined comes back.
 */
export function renderAtLoad(
  text: string,
  own: Raw,
  name: LoadName,
  at: SourceLocation,
  ctx: NormalizeContext,
): string | undefined {
  if (!isTemplate(text)) return text;
  try {
    return String(renderString(text, own === PLAY_LEVEL ? playLevelVars(ctx) : loadTimeVars(ctx, own), at));
  } catch (err) {
    if (!(err instanceof TicklessError)) throw err;
    ctx.errors.push(loadError(text, name, at, err, ctx));
    return undefined;
  }
}

function loadError(
  text: string,
  name: LoadName,
  at: SourceLocation,
  err: TicklessError,
  ctx: NormalizeContext,
): ParseError {
  const undefinedName = /'([^']+)' is undefined/.exec(err.message)?.[1];
  if (err.code !== "UNDEFINED_VARIABLE" || undefinedName === undefined)
    return new ParseError(err.code, `${name.what} "${text}" cannot be rendered: ${err.message}`, {
      location: err.location ?? at,
      hint: err.hint,
      cause: err,
    });
  const when = ctx.loadVars.included ? "the included file loads" : "the playbook loads";
  return new ParseError(
    "UNDEFINED_VARIABLE",
    `${name.what} "${text}" is rendered when ${when}, and '${undefinedName}' is undefined`,
    {
      location: at,
      hint: name.dynamic
        ? `define "${undefinedName}" in the play's vars or vars_files, the import_playbook's vars, a role's ` +
          `defaults or vars, the task's or a block's vars, or with -e (inventory vars, facts and registered ` +
          `values are not known yet); or use ${name.dynamic} to choose it per host`
        : `define "${undefinedName}" in the import_playbook's vars or with -e`,
      cause: err,
    },
  );
}

/**
 * vars_files as the play loads: each file that is not a template must exist and hold a mapping
 * (a located error otherwise); a template is rendered with the play's vars and -e, and skipped
 * when it cannot be (a variable of the host) or names no file, as ansible-core does without a
 * host. Returns what the files hold, later files winning.
 */
export async function loadTimeVarsFiles(
  files: string[],
  listPath: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
): Promise<Raw> {
  const merged: Raw = {};
  for (let i = 0; i < files.length; i++) {
    const entry = listPath.at(-1) === "vars_files" ? [...listPath, i] : [...listPath, "vars_files"];
    const from = source.locate(entry, "value");
    const templated = files[i].includes("{{");
    let written = files[i];
    if (templated) {
      try {
        written = String(renderString(written, { ...ctx.loadVars.play, ...ctx.loadVars.extra }, from));
      } catch (err) {
        if (err instanceof TicklessError) continue;
        throw err;
      }
    }
    try {
      Object.assign(merged, await loadVarsFile(resolve(dirname(source.file), written), from));
    } catch (err) {
      if (!(err instanceof TicklessError)) throw err;
      if (!templated) ctx.errors.push(err);
    }
  }
  return merged;
}
