/**
 * Written → resolved: turns a schema-checked YAML value into the Playbook/Play/Task types the
 * engine runs. Defensive about shapes (schema errors are reported separately); collects every
 * problem into `ctx.errors` and keeps going.
 */
import { dirname, join } from "node:path";
import type { TicklessError } from "../errors.js";
import type { ModuleRegistry } from "../modules/registry.js";
import { actionForm } from "./action-form.js";
import { handledBy, handlesFailure, taskTimeArgFailure } from "./arg-failures.js";
import { asyncFields } from "./async-fields.js";
import { delegateDown } from "./delegate-down.js";
import {
  isRecord,
  optionalBoolean,
  optionalString,
  type Raw,
  toConditions,
  toEnvironment,
  toList,
  toTags,
  toVars,
  toVerify,
} from "./fields.js";
import { normalizeHandlers } from "./handlers.js";
import { importPlaybook, importTasks } from "./imports.js";
import { includeFile } from "./kv.js";
import { type LoadVars, loadTimeVarsFiles } from "./load-vars.js";
import { loopFields } from "./loop-fields.js";
import { detectModule, moduleArgsErrors, writtenArgs } from "./module-args.js";
import { playRoles, type RoleLayers } from "./role-blocks.js";
import { importRole, includeRole, includeTasksApply } from "./role-tasks.js";
import type {
  Block,
  FieldLocations,
  Handler,
  Include,
  Play,
  RoleRef,
  SerialStep,
  Task,
  TaskNode,
} from "./types.js";
import type { YamlPath, YamlSource } from "./yaml.js";

export interface NormalizeContext {
  registry: ModuleRegistry;
  errors: TicklessError[];
  warnings: string[];
  /** Absolute paths of the files being loaded, outermost first (import cycle detection). */
  stack: string[];
  /** The configured roles path (ansible.cfg roles_path, ANSIBLE_ROLES_PATH or Ansible's default). */
  rolesPath: string[];
  /** The directory of the playbook whose play is being read: its roles/ is searched first. */
  playDir: string;
  /** The role whose files are being read: its tasks keep it. */
  role?: RoleRef;
  /** The roles being read, outermost first: a dependency inherits their layers. */
  roleChain: RoleLayers[];
  /** The play being read: the roles it shares variables with and their handlers. */
  play?: { roles: RoleRef[]; handlers: Handler[] };
  /** What import_role's name and import_tasks' file are rendered with as they load. */
  loadVars: LoadVars;
  /** The tasks being read sit in a block with `rescue` or `ignore_errors: true` (arg-failures.ts). */
  failureHandled?: boolean;
}

/** The plays of a parsed playbook file, with import_playbook entries expanded. */
export async function normalizePlays(source: YamlSource, ctx: NormalizeContext): Promise<Play[]> {
  const plays: Play[] = [];
  const entries = Array.isArray(source.value) ? source.value : [];
  for (let i = 0; i < entries.length; i++) {
    const raw = entries[i];
    if (!isRecord(raw)) continue;
    if (typeof raw.import_playbook === "string") {
      plays.push(...(await importPlaybook(raw, [i], source, ctx)));
    } else {
      plays.push(await normalizePlay(raw, [i], source, ctx));
    }
  }
  return plays;
}

async function normalizePlay(
  raw: Raw,
  path: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
): Promise<Play> {
  const hosts = Array.isArray(raw.hosts) ? raw.hosts.map(String).join(",") : String(raw.hosts ?? "");
  const varsFiles = toList(raw.vars_files);
  const varsFilesPath: YamlPath = Array.isArray(raw.vars_files) ? [...path, "vars_files"] : [...path];
  const name = raw.name === undefined ? hosts : String(raw.name);
  // the import's vars under the play's own, then vars_files: what import_role/import_tasks render with
  const lv = ctx.loadVars;
  Object.assign(lv, { play: { ...lv.imported, ...toVars(raw.vars) }, scopes: [], playName: name });
  Object.assign(lv.play, await loadTimeVarsFiles(varsFiles, varsFilesPath, source, ctx));
  const tasksOf = (key: string) => normalizeTaskList(raw[key], [...path, key], source, ctx);
  const collected = { roles: [] as RoleRef[], handlers: [] as Task[] };
  ctx.play = collected;
  ctx.playDir = dirname(source.file);
  const roleBlocks = await playRoles(raw.roles, [...path, "roles"], source, ctx);
  for (const b of roleBlocks) if (b.kind === "block" && b.role) collected.roles.push(b.role);
  // roles:' handlers come before the play's own, import_role's after (as Ansible's)
  const rolesHandlers = collected.handlers.length;
  const preTasks = await tasksOf("pre_tasks");
  const tasks = [...roleBlocks, ...(await tasksOf("tasks"))];
  const postTasks = await tasksOf("post_tasks");
  const own = await normalizeHandlers(raw.handlers, [...path, "handlers"], source, ctx);
  const handlers = [
    ...collected.handlers.slice(0, rolesHandlers),
    ...own,
    ...collected.handlers.slice(rolesHandlers),
  ];
  ctx.play = undefined;
  Object.assign(lv, { play: {}, playName: undefined });
  return {
    name,
    hosts,
    vars: toVars(raw.vars),
    varsFiles,
    gatherFacts:
      optionalBoolean(raw.gather_facts) ?? (typeof raw.gather_facts === "string" ? raw.gather_facts : true),
    become: optionalBoolean(raw.become),
    becomeUser: optionalString(raw.become_user),
    remoteUser: optionalString(raw.remote_user),
    serial: raw.serial === undefined || raw.serial === null ? [] : ([raw.serial].flat() as SerialStep[]),
    strategy: raw.strategy === "free" ? "free" : "linear",
    maxFailPercentage: typeof raw.max_fail_percentage === "number" ? raw.max_fail_percentage : undefined,
    anyErrorsFatal: optionalBoolean(raw.any_errors_fatal) ?? false,
    preTasks,
    tasks,
    postTasks,
    handlers,
    roles: collected.roles,
    tags: toTags(raw.tags),
    environment: toEnvironment(raw.environment),
    noLog: optionalBoolean(raw.no_log) ?? false,
    checkMode: optionalBoolean(raw.check_mode),
    diff: optionalBoolean(raw.diff),
    loc: source.locate(path, "value"),
    locs: fieldLocations(raw, path, source),
  };
}

/** A list of tasks/blocks/includes; import_tasks entries are replaced by the imported tasks. */
export async function normalizeTaskList(
  value: unknown,
  path: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
): Promise<TaskNode[]> {
  if (!Array.isArray(value)) return [];
  const nodes: TaskNode[] = [];
  for (let i = 0; i < value.length; i++) {
    const raw = value[i];
    if (isRecord(raw)) nodes.push(...(await normalizeTaskNode(raw, [...path, i], source, ctx)));
  }
  return nodes;
}

async function normalizeTaskNode(
  raw: Raw,
  path: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
): Promise<TaskNode[]> {
  if ("block" in raw) return [await normalizeBlock(raw, path, source, ctx)];
  if ("import_tasks" in raw) return importTasks(raw, path, source, ctx);
  if ("include_tasks" in raw) return [normalizeInclude(raw, path, source, ctx)];
  const roleKey = Object.keys(raw).find((k) => /^(ansible\.builtin\.)?(include|import)_role$/.test(k));
  if (roleKey?.endsWith("import_role")) return importRole(raw, roleKey, path, source, ctx);
  if (roleKey !== undefined) return includeRole(raw, roleKey, path, source, ctx);
  const task = normalizeTask(raw, path, source, ctx);
  return task ? [task] : [];
}

export function common(raw: Raw, path: YamlPath, source: YamlSource) {
  return {
    name: optionalString(raw.name),
    when: toConditions(raw.when) ?? [],
    tags: toTags(raw.tags),
    vars: toVars(raw.vars),
    become: optionalBoolean(raw.become),
    becomeUser: optionalString(raw.become_user),
    remoteUser: optionalString(raw.remote_user),
    ignoreErrors:
      typeof raw.ignore_errors === "boolean" || typeof raw.ignore_errors === "string"
        ? raw.ignore_errors
        : undefined,
    environment: toEnvironment(raw.environment),
    noLog: optionalBoolean(raw.no_log) ?? false,
    checkMode: optionalBoolean(raw.check_mode),
    diff: optionalBoolean(raw.diff),
    runOnce: optionalBoolean(raw.run_once) ?? false,
    anyErrorsFatal: optionalBoolean(raw.any_errors_fatal),
    loc: source.locate(path, "value"),
    locs: fieldLocations(raw, path, source),
  };
}

async function normalizeBlock(
  raw: Raw,
  path: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
): Promise<Block> {
  const base = common(raw, path, source);
  const list = (key: string) => normalizeTaskList(raw[key], [...path, key], source, ctx);
  ctx.loadVars.scopes.push(base.vars);
  try {
    const node: Block = {
      kind: "block",
      ...base,
      block: await handledBy(raw, ctx, () => list("block")),
      rescue: await list("rescue"),
      always: await list("always"),
    };
    delegateDown([node], raw, path, source, ctx.errors);
    return node;
  } finally {
    ctx.loadVars.scopes.pop();
  }
}

function normalizeInclude(raw: Raw, path: YamlPath, source: YamlSource, ctx: NormalizeContext): Include {
  reportModuleKeys(raw, path, source, ctx);
  return {
    kind: "include",
    ...common(raw, path, source),
    ...loopFields(raw, path, source, ctx.errors),
    file: includeFile(raw.include_tasks) ?? "",
    baseDir: dirname(source.file),
    ...(typeof raw.register === "string" ? { register: raw.register } : {}),
    ...(raw.listen === undefined ? {} : { listen: toList(raw.listen) }),
    ...includeTasksApply(raw, path, source, ctx),
    ...(ctx.role ? { role: ctx.role } : {}),
  };
}

/** Includes take no module; report any stray key. */
export function reportModuleKeys(raw: Raw, path: YamlPath, source: YamlSource, ctx: NormalizeContext) {
  const loc = source.locate(path, "value");
  ctx.errors.push(...detectModule(raw, ctx.registry, (k) => source.locate([...path, k], "key"), loc).errors);
}

function normalizeTask(
  written: Raw,
  path: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
): Task | undefined {
  const base = common(written, path, source);
  const action = actionForm(written, ctx.registry, source.locate([...path, "action"], "value"));
  ctx.errors.push(...action.errors);
  const raw = action.raw;
  // where a key is written: the module key of `action:` is `action`
  const at = (k: string) => (k === action.module ? "action" : k);
  // Ansible adds each playbook's and role's library/ to its module search path as they load
  ctx.registry.addLibraryDir(join(ctx.playDir, "library"));
  if (ctx.role) ctx.registry.addLibraryDir(join(ctx.role.dir, "library"));
  const detected = detectModule(raw, ctx.registry, (k) => source.locate([...path, at(k)], "key"), base.loc);
  ctx.errors.push(...detected.errors);
  const { module, key } = detected;
  if (!module || key === undefined) return undefined;
  const moduleLoc = source.locate([...path, at(key)], "value");
  const { args, errors } = writtenArgs(module, raw[key], raw.args, moduleLoc);
  ctx.errors.push(...errors);
  const argLocs = argLocations(raw, key, at(key), path, source, args);
  if (errors.length === 0) {
    const locate = (name: string | undefined, target: "key" | "value") => {
      if (name === undefined) return source.locate([...path, at(key)], "key");
      if (target === "key" && isRecord(raw[key]) && name in (raw[key] as Raw))
        return source.locate([...path, at(key), name], "key");
      if (target === "key" && isRecord(raw.args) && name in raw.args)
        return source.locate([...path, "args", name], "key");
      return argLocs[`args.${name}`] ?? source.locate([...path, at(key)], "value");
    };
    // an argument error Ansible judges in the task fails the task when it runs, if it handles that
    const handled = ctx.failureHandled || handlesFailure(raw);
    if (!handled || taskTimeArgFailure(module, args, true) === undefined) {
      ctx.errors.push(...moduleArgsErrors(module, args, locate, true));
    }
  }
  return {
    kind: "task",
    ...base,
    ...loopFields(raw, path, source, ctx.errors),
    locs: { ...base.locs, ...argLocs },
    module: module.name,
    args,
    register: optionalString(raw.register),
    notify: toList(raw.notify),
    changedWhen: toConditions(raw.changed_when),
    failedWhen: toConditions(raw.failed_when),
    retries: typeof raw.retries === "number" ? raw.retries : undefined,
    delay: typeof raw.delay === "number" ? raw.delay : undefined,
    ...asyncFields(raw, module.name, path, source, ctx.errors),
    until: toConditions(raw.until)?.[0],
    verify: toVerify(raw.verify),
    listen: toList(raw.listen),
    delegateTo: optionalString(raw.delegate_to),
    delegateFacts: optionalBoolean(raw.delegate_facts),
    ...(ctx.role ? { role: ctx.role } : {}),
  };
}

/** `args.<name>` → where the arg is written (its value), in the module mapping (under `written`) or under `args:`. */
function argLocations(
  raw: Raw,
  key: string,
  written: string,
  path: YamlPath,
  source: YamlSource,
  args: Raw,
): FieldLocations {
  const locs: FieldLocations = {};
  const moduleValue = raw[key];
  for (const name of Object.keys(args)) {
    if (isRecord(moduleValue) && name in moduleValue)
      locs[`args.${name}`] = source.locate([...path, written, name], "value");
    else if (isRecord(raw.args) && name in raw.args)
      locs[`args.${name}`] = source.locate([...path, "args", name], "value");
    else locs[`args.${name}`] = source.locate([...path, written], "value");
  }
  return locs;
}

/**
 * Where each written field's value is, by its written name; list items of conditions also as
 * `when.1`, and verify's expressions as `verify.that.0` whatever form verify was written in.
 */
function fieldLocations(raw: Raw, path: YamlPath, source: YamlSource): FieldLocations {
  const locs: FieldLocations = {};
  for (const k of Object.keys(raw)) locs[k] = source.locate([...path, k], "value");
  for (const k of ["when", "changed_when", "failed_when"]) {
    const v = raw[k];
    if (!Array.isArray(v)) continue;
    for (let i = 0; i < v.length; i++) locs[`${k}.${i}`] = source.locate([...path, k, i], "value");
  }
  const verify = raw.verify;
  const that = isRecord(verify) ? verify.that : verify;
  const thatPath = isRecord(verify) ? [...path, "verify", "that"] : [...path, "verify"];
  if (Array.isArray(that)) {
    for (let i = 0; i < that.length; i++) locs[`verify.that.${i}`] = source.locate([...thatPath, i], "value");
  } else if (that !== undefined) locs["verify.that.0"] = source.locate(thatPath, "value");
  if (isRecord(verify) && "command" in verify)
    locs["verify.command"] = source.locate([...path, "verify", "command"], "value");
  return locs;
}
