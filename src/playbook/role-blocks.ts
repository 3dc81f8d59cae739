/**
 * A use of a role → the block the engine runs: its dependencies' blocks first (meta/main.yml),
 * then its tasks; its handlers join the play's. The role's variables are layered as Ansible's
 * Role.get_default_vars / get_vars / get_role_params do (see RoleRef).
 */
import { ParseError, type SourceLocation } from "../errors.js";
import type { Raw } from "./fields.js";
import { normalizeHandlers } from "./handlers.js";
import { PLAY_LEVEL, renderAtLoad } from "./load-vars.js";
import { common, type NormalizeContext, normalizeTaskList } from "./normalize.js";
import { readYamlFile } from "./read-source.js";
import {
  findRole,
  fromBase,
  missingFromFile,
  type RoleEntry,
  roleEntry,
  roleFile,
  roleMeta,
  roleSearchPath,
  roleVarsFile,
} from "./roles.js";
import type { Block, Handler, RoleRef, TaskNode } from "./types.js";
import { taskFileSchemaErrors } from "./validate.js";
import type { YamlPath, YamlSource } from "./yaml.js";

/** A role's own layers, as its dependencies inherit them. */
export interface RoleLayers {
  dir: string;
  defaults: Raw;
  /** The `vars:` it was given, then its vars/main.yml. */
  vars: Raw;
  params: Raw;
}

export interface RoleUse {
  entry: RoleEntry;
  /** Where the entry is written: its keywords are located from here. */
  path: YamlPath;
  /** Where a problem with the role is shown (default: `path`); include_role/import_role: their value. */
  at?: YamlPath;
  source: YamlSource;
  files: { tasks?: string; vars?: string; defaults?: string; handlers?: string };
  /** include_role/import_role: never shared with another use; runs every time unless allow_duplicates is false. */
  fromInclude: boolean;
  allowDuplicates?: boolean;
}

interface Loaded {
  block: Block;
  /** What a role that depends on this one takes from it (get_default_vars / get_vars without a chain). */
  exports: { defaults: Raw; vars: Raw };
}

/** The block of one role use; problems go to ctx.errors and give undefined. */
export async function roleBlock(use: RoleUse, ctx: NormalizeContext): Promise<Block | undefined> {
  try {
    return (await loadRole(use, ctx))?.block;
  } catch (err) {
    if (err instanceof ParseError) {
      ctx.errors.push(err);
      return undefined;
    }
    throw err;
  }
}

/** The entries of a play's `roles:`, each as a block (in order), recorded as the play's roles. */
export async function playRoles(value: unknown, path: YamlPath, source: YamlSource, ctx: NormalizeContext) {
  if (!Array.isArray(value)) return [];
  const blocks: TaskNode[] = [];
  for (let i = 0; i < value.length; i++) {
    try {
      const entry = roleEntry(value[i], [...path, i], source);
      const block = await roleBlock(
        { entry, path: [...path, i], source, files: {}, fromInclude: false },
        ctx,
      );
      if (block) blocks.push(block);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      ctx.errors.push(err);
    }
  }
  return blocks;
}

function merge(...layers: Raw[]): Raw {
  return Object.assign({}, ...layers);
}

async function loadRole(use: RoleUse, ctx: NormalizeContext): Promise<Loaded | undefined> {
  const from = use.source.locate(use.at ?? use.path, "value");
  const chain = ctx.roleChain;
  const search = roleSearchPath(ctx.playDir, ctx.rolesPath, chain.at(-1)?.dir);
  // a role of roles: or a dependency named by a template: rendered now, with the play's variables
  const what = { what: "the role's name", dynamic: "include_role" } as const;
  const name = renderAtLoad(use.entry.name, PLAY_LEVEL, what, from, ctx);
  if (name === undefined) return undefined;
  const found = await findRole(name.trim(), search, from);
  if (chain.some((r) => r.dir === found.dir)) {
    throw new ParseError(
      "SCHEMA",
      `role "${found.name}" depends on itself: ${[...chain.map((r) => r.dir), found.dir].join(" → ")}`,
      {
        location: from,
        hint: "a role must not depend on a role that depends on it",
      },
    );
  }
  const dir = found.dir;
  const defaults = await roleVarsFile(dir, "defaults", from, fromBase(use.files.defaults));
  const roleVars = await roleVarsFile(dir, "vars", from, fromBase(use.files.vars));
  const meta = await roleMeta(dir, from);
  const own: RoleLayers = { dir, defaults, vars: merge(use.entry.vars, roleVars), params: use.entry.params };

  ctx.roleChain = [...chain, own];
  const deps: Loaded[] = [];
  try {
    for (const dep of meta.dependencies) {
      const source = meta.source as YamlSource;
      const entry = roleEntry(dep.value, dep.path, source);
      const loaded = await loadRole({ entry, path: dep.path, source, files: {}, fromInclude: false }, ctx);
      if (loaded) deps.push(loaded);
    }
  } finally {
    ctx.roleChain = chain;
  }
  const depDefaults = deps.map((d) => d.exports.defaults);
  const depVars = deps.map((d) => d.exports.vars);
  const ref: RoleRef = {
    name: found.name,
    dir,
    defaults: merge(...depDefaults, ...chain.map((p) => p.defaults), defaults),
    vars: merge(...chain.flatMap((p) => [p.vars]), ...depVars, own.vars),
    params: merge(...chain.map((p) => p.params), own.params),
  };
  const once = onceKey(use, dir, from, meta.allowDuplicates);
  if (once !== undefined) ref.once = once;

  ctx.roleChain = [...chain, own];
  let tasks: TaskNode[];
  try {
    tasks = await roleTasks(ref, use, ctx, from);
    await roleHandlers(ref, use, ctx, from);
  } finally {
    ctx.roleChain = chain;
  }
  const block: Block = {
    kind: "block",
    ...common(use.entry.keywords, use.path, use.source),
    block: [...deps.map((d) => d.block), ...tasks],
    rescue: [],
    always: [],
    role: ref,
  };
  return { block, exports: { defaults: merge(...depDefaults, defaults), vars: merge(...depVars, own.vars) } };
}

/**
 * Ansible keeps one instance per play of each role listed under roles: or as a dependency with the
 * same params, when, tags and vars; it runs once per host unless its meta allows duplicates.
 * include_role/import_role make a new instance each time (allow_duplicates: false: once per use).
 */
function onceKey(use: RoleUse, dir: string, from: SourceLocation, metaAllows: boolean): string | undefined {
  const k = use.entry.keywords;
  const id = JSON.stringify([
    dir,
    use.entry.params,
    k.when ?? null,
    k.tags ?? null,
    use.entry.vars,
    use.files,
  ]);
  if (use.fromInclude)
    return use.allowDuplicates === false ? `${id}@${from.file}:${from.line}:${from.column}` : undefined;
  return metaAllows ? undefined : id;
}

/** The role's tasks/main.yml (or tasks_from): absent main is no tasks, as in Ansible. */
async function roleTasks(ref: RoleRef, use: RoleUse, ctx: NormalizeContext, from: SourceLocation) {
  const base = fromBase(use.files.tasks);
  const file = await roleFile(ref.dir, "tasks", base ?? "main");
  if (file === undefined) {
    if (base !== undefined) throw missingFromFile(ref.dir, "tasks", base, from);
    return [];
  }
  const source = await readRoleSource(file, "role task file", from, ctx);
  if (!source) return [];
  ctx.errors.push(...taskFileSchemaErrors(source));
  return withRole(ctx, ref, file, () => normalizeTaskList(source.value, [], source, ctx));
}

/** The role's handlers/main.yml (or handlers_from), added to the play's handlers once. */
async function roleHandlers(ref: RoleRef, use: RoleUse, ctx: NormalizeContext, from: SourceLocation) {
  const base = fromBase(use.files.handlers);
  const file = await roleFile(ref.dir, "handlers", base ?? "main");
  if (file === undefined) {
    if (base !== undefined) throw missingFromFile(ref.dir, "handlers", base, from);
    return;
  }
  const play = ctx.play;
  if (!play || play.handlers.some((h) => h.loc.file === file)) return;
  const source = await readRoleSource(file, "role handler file", from, ctx);
  if (!source) return;
  ctx.errors.push(...taskFileSchemaErrors(source));
  const handlers: Handler[] = await withRole(ctx, ref, file, () =>
    normalizeHandlers(source.value, [], source, ctx),
  );
  play.handlers.push(...handlers);
}

async function readRoleSource(file: string, what: string, from: SourceLocation, ctx: NormalizeContext) {
  if (ctx.stack.includes(file)) {
    ctx.errors.push(
      new ParseError(
        "SCHEMA",
        `import cycle: ${[...ctx.stack.slice(ctx.stack.indexOf(file)), file].join(" → ")}`,
        {
          location: from,
          hint: "a role's tasks must not import the role again",
        },
      ),
    );
    return undefined;
  }
  return readYamlFile(file, what, from);
}

async function withRole<T>(
  ctx: NormalizeContext,
  ref: RoleRef,
  file: string,
  fn: () => Promise<T>,
): Promise<T> {
  const outer = ctx.role;
  ctx.role = ref;
  ctx.stack.push(file);
  try {
    return await fn();
  } finally {
    ctx.stack.pop();
    ctx.role = outer;
  }
}
