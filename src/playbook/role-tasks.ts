/** import_role (read now, as a block) and include_role (an include the engine loads per host). */
import { basename, dirname } from "node:path";
import { ParseError } from "../errors.js";
import { isRecord, type Raw } from "./fields.js";
import { suggestion, unsupportedHint } from "./hints.js";
import { INCLUDE_KEYWORDS } from "./keywords.js";
import { parseKv } from "./kv.js";
import { renderAtLoad } from "./load-vars.js";
import { loopFields } from "./loop-fields.js";
import { common, type NormalizeContext } from "./normalize.js";
import { roleBlock } from "./role-blocks.js";
import { applyKeywords, type RoleIncludeArgs, roleIncludeArgs } from "./roles.js";
import type { Include, TaskNode } from "./types.js";
import type { YamlPath, YamlSource } from "./yaml.js";

const LOOP_KEYS = /^(loop|loop_control|with_.+)$/;

/** include_tasks' `args:`: only `apply` (keywords for every included task), as ansible-core takes it. */
export function includeTasksApply(
  raw: Raw,
  path: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
): { apply?: Raw } {
  if (raw.args === undefined || raw.args === null) return {};
  const at = source.locate([...path, "args"], "value");
  const args = raw.args as Raw;
  const other = Object.keys(args).find((k) => k !== "apply");
  try {
    if (other !== undefined)
      throw new ParseError("MODULE_ARGS", `include_tasks: args does not take "${other}"`, {
        location: at,
        hint: "args: of an include holds apply: only; name the file with include_tasks: FILE",
      });
    const apply = applyKeywords(args.apply, at, "include_tasks");
    return apply ? { apply } : {};
  } catch (err) {
    ctx.errors.push(err as ParseError);
    return {};
  }
}

function kvArgs(text: string): Raw {
  const out: Raw = {};
  for (const w of parseKv(text)) if ("key" in w) out[w.key] = w.value;
  return out;
}

/** Every key besides the action must be an include keyword (import_role takes no loop). */
function checkKeys(
  raw: Raw,
  key: string,
  path: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
  loops: boolean,
) {
  for (const k of Object.keys(raw)) {
    if (k === key) continue;
    if (!loops && LOOP_KEYS.test(k)) {
      ctx.errors.push(
        new ParseError("SCHEMA", "import_role is read when the playbook loads and cannot loop", {
          location: source.locate([...path, k], "key"),
          hint: "use include_role to run a role once per item",
        }),
      );
    } else if (
      !(INCLUDE_KEYWORDS as readonly string[]).includes(k) ||
      k === "include_tasks" ||
      k === "import_tasks" ||
      k === "register" ||
      k === "args" ||
      k === "listen"
    ) {
      ctx.errors.push(
        new ParseError("UNKNOWN_KEY", `unknown key "${k}" in ${key}`, {
          location: source.locate([...path, k], "key"),
          hint:
            k === "register"
              ? "tickless registers include_tasks only; register a task of the role instead"
              : k === "args"
                ? `write the arguments under ${key}: itself`
                : (unsupportedHint(k) ?? suggestion(k, INCLUDE_KEYWORDS, "keys")),
        }),
      );
    }
  }
}

function readArgs(
  action: "include_role" | "import_role",
  raw: Raw,
  key: string,
  path: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
) {
  try {
    return roleIncludeArgs(action, raw[key], source.locate([...path, key], "value"), kvArgs);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    ctx.errors.push(err);
    return undefined;
  }
}

function isStatic(args: RoleIncludeArgs): boolean {
  return ![args.name, args.tasksFrom, args.varsFrom, args.defaultsFrom, args.handlersFrom].some((v) =>
    v?.includes("{{"),
  );
}

function files(args: RoleIncludeArgs) {
  return {
    tasks: args.tasksFrom,
    vars: args.varsFrom,
    defaults: args.defaultsFrom,
    handlers: args.handlersFrom,
  };
}

/**
 * import_role's name and `*_from` rendered now with the load-time variables, as ansible-core
 * templates them while it reads the play (a `*_from` after taking its base name, as it does);
 * undefined when one cannot be (the error is in ctx.errors).
 */
function renderedArgs(
  args: RoleIncludeArgs,
  written: unknown,
  vars: Raw,
  at: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
) {
  const render = (text: string | undefined, arg: string, base: boolean) => {
    if (text === undefined) return undefined;
    const located = isRecord(written) && arg in written ? [...at, arg] : at;
    const name = { what: `import_role's ${arg}`, dynamic: "include_role" } as const;
    return renderAtLoad(base ? basename(text) : text, vars, name, source.locate(located, "value"), ctx);
  };
  const name = render(args.name, isRecord(written) && "role" in written ? "role" : "name", false);
  const fromFiles = {
    tasks: render(args.tasksFrom, "tasks_from", true),
    vars: render(args.varsFrom, "vars_from", true),
    defaults: render(args.defaultsFrom, "defaults_from", true),
    handlers: render(args.handlersFrom, "handlers_from", true),
  };
  const failed = Object.entries(files(args)).some(
    ([k, v]) => v !== undefined && fromFiles[k as keyof typeof fromFiles] === undefined,
  );
  if (name === undefined || failed) return undefined;
  return { name: name.trim(), files: fromFiles };
}

/** import_role: the role's block now, its keywords (when, tags, vars, …) on the block; the play shares its variables. */
export async function importRole(
  raw: Raw,
  key: string,
  path: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
): Promise<TaskNode[]> {
  checkKeys(raw, key, path, source, ctx, false);
  const args = readArgs("import_role", raw, key, path, source, ctx);
  if (!args) return [];
  const keywords: Raw = Object.fromEntries(Object.entries(raw).filter(([k]) => k !== key));
  const vars = (keywords.vars ?? {}) as Raw;
  const rendered = renderedArgs(args, raw[key], vars, [...path, key], source, ctx);
  if (!rendered) return [];
  const block = await roleBlock(
    {
      entry: { name: rendered.name, keywords, vars, params: {} },
      path,
      at: [...path, key],
      source,
      files: rendered.files,
      fromInclude: true,
      allowDuplicates: args.allowDuplicates,
    },
    ctx,
  );
  if (!block) return [];
  if (block.role) ctx.play?.roles.push(block.role);
  return [block];
}

/**
 * include_role: loaded per host at run time (its name and *_from may be templates). A role named
 * plainly is read now too, so that a missing role or a broken file is found before the run and
 * its handlers are known to notify.
 */
export async function includeRole(
  raw: Raw,
  key: string,
  path: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
): Promise<TaskNode[]> {
  checkKeys(raw, key, path, source, ctx, true);
  const args = readArgs("include_role", raw, key, path, source, ctx);
  if (!args) return [];
  if (isStatic(args)) {
    const keywords: Raw = args.apply ?? {};
    await roleBlock(
      {
        entry: { name: args.name, keywords, vars: {}, params: {} },
        path,
        at: [...path, key],
        source,
        files: files(args),
        fromInclude: true,
      },
      ctx,
    );
  }
  const node: Include = {
    kind: "include",
    ...common(raw, path, source),
    ...loopFields(raw, path, source, ctx.errors),
    file: "",
    baseDir: dirname(source.file),
    includeRole: { ...args, playDir: ctx.playDir, rolesPath: ctx.rolesPath },
    ...(ctx.role ? { role: ctx.role } : {}),
  };
  return [node];
}
