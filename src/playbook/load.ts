/** Loading a playbook: YAML with positions → schema → normalize → rules, collecting every error. */
import { dirname, resolve } from "node:path";
import { formatError, ParseError, type SourceLocation, TicklessError } from "../errors.js";
import { defaultRegistry, type ModuleRegistry } from "../modules/registry.js";
import { emptyLoadVars } from "./load-vars.js";
import { common, type NormalizeContext, normalizePlays, normalizeTaskList } from "./normalize.js";
import { readYamlFile } from "./read-source.js";
import { roleBlock } from "./role-blocks.js";
import { defaultRolesPath } from "./roles.js";
import { checkPlaybook, checkTaskNodes } from "./rules.js";
import type { Block, Handler, IncludeRoleSpec, Playbook, RoleRef, TaskNode } from "./types.js";
import { playbookSchemaErrors, taskFileSchemaErrors } from "./validate.js";
import type { YamlSource } from "./yaml.js";

export interface LoadOptions {
  /** Modules tasks may use (default: the built-in ones). */
  registry?: ModuleRegistry;
  /**
   * Where roles are looked for after `roles/` beside the playbook (ansible.cfg's roles_path);
   * default: ANSIBLE_ROLES_PATH, else Ansible's default roles path.
   */
  rolesPath?: string[];
  /**
   * Extra vars (`-e`): import_role's name and import_tasks' file are rendered as the playbook
   * loads, with these over the play's vars (load-vars.ts).
   */
  extraVars?: Record<string, unknown>;
  /** ansible.cfg `library` / ANSIBLE_LIBRARY: where users' own modules are looked for after library/ beside the playbooks and roles. */
  libraryPath?: string[];
}

/** What a task file or role read at run time needs of the play it runs in. */
export interface RunTimeLoadOptions extends LoadOptions {
  /** The directory of the play's playbook (roles/ beside it). */
  playDir?: string;
  /** The role the including task belongs to: the loaded tasks keep it. */
  role?: RoleRef;
  /** The play's roles and handlers: import_role/include_role add theirs. */
  play?: { roles: RoleRef[]; handlers: Handler[] };
  /**
   * include_tasks' `apply` keywords and where the include is written: the file's tasks come in a
   * block that carries them, as ansible-core's.
   */
  apply?: { keywords: Record<string, unknown>; from: SourceLocation };
  /**
   * What an import in the loaded file renders its name with besides -e: the play's vars and the
   * include's (ansible-core: get_vars with the play and the include, without a host).
   */
  playVars?: Record<string, unknown>;
}

export interface ValidationResult {
  playbook?: Playbook;
  /** What loaded despite the errors (absent when nothing could be read): `tickless lint` goes on from it. */
  partial?: Playbook;
  errors: TicklessError[];
  warnings: string[];
}

/** A task file or an included role as loaded, with every problem found (`tickless lint`). */
export interface Loaded<T> {
  value?: T;
  errors: TicklessError[];
}

/**
 * Every located problem of a load. One problem: its message, location and hint. Several: the
 * first one's code, and a message listing them all, one per line (each with its location).
 */
export class PlaybookErrors extends ParseError {
  readonly errors: TicklessError[];

  constructor(errors: TicklessError[]) {
    const [first] = errors;
    if (errors.length === 1) {
      super(first.code, first.message, { location: first.location, hint: first.hint, cause: first });
    } else {
      super(first.code, `${errors.length} problems:\n${errors.map((e) => formatError(e)).join("\n")}`, {
        cause: first,
      });
    }
    this.name = "PlaybookErrors";
    this.errors = errors;
  }
}

/** Loads, validates and normalizes a playbook; throws PlaybookErrors holding every problem. */
export async function loadPlaybook(file: string, options: LoadOptions = {}): Promise<Playbook> {
  const result = await validatePlaybook(file, options);
  if (result.errors.length > 0 || !result.playbook) throw new PlaybookErrors(result.errors);
  return result.playbook;
}

/** Like loadPlaybook, but returns the problems instead of throwing them (for --syntax-check). */
export async function validatePlaybook(file: string, options: LoadOptions = {}): Promise<ValidationResult> {
  const path = resolve(file);
  const ctx = context(options, path);
  try {
    const source = await readYamlFile(path, "playbook");
    ctx.errors.push(...playbookSchemaErrors(source));
    const playbook: Playbook = { file: path, dir: dirname(path), plays: await normalizePlays(source, ctx) };
    const found = checkPlaybook(playbook);
    ctx.errors.push(...found.errors);
    ctx.warnings.push(...found.warnings);
    if (ctx.errors.length > 0)
      return { partial: playbook, errors: sortErrors(ctx.errors), warnings: ctx.warnings };
    return { playbook, errors: [], warnings: ctx.warnings };
  } catch (err) {
    if (!(err instanceof TicklessError)) throw err;
    return { errors: [...sortErrors(ctx.errors), err], warnings: ctx.warnings };
  }
}

/** Loads a task file (include_tasks at run time); its import_tasks are inlined. Throws PlaybookErrors. */
export async function loadTaskFile(file: string, options: RunTimeLoadOptions = {}): Promise<TaskNode[]> {
  const loaded = await validateTaskFile(file, options);
  if (loaded.errors.length > 0) throw new PlaybookErrors(loaded.errors);
  return loaded.value ?? [];
}

/** Like loadTaskFile, but returns what loaded and every problem instead of throwing them. */
export async function validateTaskFile(
  file: string,
  options: RunTimeLoadOptions = {},
): Promise<Loaded<TaskNode[]>> {
  const path = resolve(file);
  const ctx = context(options, path);
  ctx.role = options.role;
  ctx.play = options.play;
  let nodes: TaskNode[] = [];
  try {
    const source = await readYamlFile(path, "task file");
    ctx.errors.push(...taskFileSchemaErrors(source));
    nodes = await normalizeTaskList(source.value, [], source, ctx);
    ctx.errors.push(...checkTaskNodes(nodes).errors);
    if (options.apply) nodes = [appliedBlock(options.apply, nodes)];
  } catch (err) {
    if (!(err instanceof TicklessError)) throw err;
    ctx.errors.push(err);
  }
  return { value: nodes, errors: sortErrors(ctx.errors) };
}

/**
 * include_role at run time: the role's block (its name and *_from rendered), its handlers added to
 * the play's. `from` is where the include_role is written. Throws PlaybookErrors.
 */
export async function loadIncludedRole(
  spec: IncludeRoleSpec,
  rendered: IncludedRoleFiles,
  vars: Record<string, unknown>,
  from: SourceLocation,
  options: RunTimeLoadOptions,
): Promise<Block> {
  const loaded = await validateIncludedRole(spec, rendered, vars, from, options);
  if (loaded.errors.length > 0 || !loaded.value) throw new PlaybookErrors(loaded.errors);
  return loaded.value;
}

/** include_role's name and *_from files, rendered. */
export interface IncludedRoleFiles {
  name: string;
  tasks?: string;
  vars?: string;
  defaults?: string;
  handlers?: string;
}

/** Like loadIncludedRole, but returns what loaded and every problem instead of throwing them. */
export async function validateIncludedRole(
  spec: IncludeRoleSpec,
  rendered: IncludedRoleFiles,
  vars: Record<string, unknown>,
  from: SourceLocation,
  options: RunTimeLoadOptions,
): Promise<Loaded<Block>> {
  const ctx = context({ ...options, rolesPath: spec.rolesPath }, from.file);
  ctx.playDir = spec.playDir;
  ctx.play = options.play;
  ctx.role = options.role;
  if (options.role)
    ctx.roleChain = [
      {
        dir: options.role.dir,
        defaults: options.role.defaults,
        vars: options.role.vars,
        params: options.role.params,
      },
    ];
  const source: YamlSource = { file: from.file, value: null, locate: () => from };
  const { name, ...files } = rendered;
  const block = await roleBlock(
    {
      entry: { name, keywords: spec.apply ?? {}, vars, params: {} },
      path: [],
      source,
      files,
      fromInclude: true,
      allowDuplicates: spec.allowDuplicates,
    },
    ctx,
  );
  return { value: block, errors: sortErrors(ctx.errors) };
}

/** The block include_tasks' `apply` puts around the file's tasks. */
function appliedBlock(apply: NonNullable<RunTimeLoadOptions["apply"]>, nodes: TaskNode[]): Block {
  const at: YamlSource = { file: apply.from.file, value: null, locate: () => apply.from };
  return { kind: "block", ...common(apply.keywords, [], at), block: nodes, rescue: [], always: [] };
}

function context(options: RunTimeLoadOptions & { libraryPath?: string[] }, file: string): NormalizeContext {
  const registry = options.registry ?? defaultRegistry();
  if (options.libraryPath) registry.libraryPath = options.libraryPath;
  return {
    registry,
    errors: [],
    warnings: [],
    stack: [file],
    rolesPath: options.rolesPath ?? defaultRolesPath(),
    playDir: options.playDir ?? dirname(file),
    roleChain: [],
    loadVars: {
      ...emptyLoadVars(options.extraVars),
      ...(options.playVars ? { play: options.playVars, included: true } : {}),
    },
  };
}

/** By file, then line, then column; errors without a location last. */
function sortErrors(errors: TicklessError[]): TicklessError[] {
  const key = (e: TicklessError) =>
    [e.location?.file ?? "\uffff", e.location?.line ?? 0, e.location?.column ?? 0] as const;
  return [...errors].sort((a, b) => {
    const [fa, la, ca] = key(a);
    const [fb, lb, cb] = key(b);
    return fa.localeCompare(fb) || la - lb || ca - cb;
  });
}
