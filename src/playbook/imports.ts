/**
 * What is read while the playbook loads: import_playbook (the plays of another file) and
 * import_tasks (a task file, inlined). A template in import_tasks' file is rendered with the
 * load-time variables (load-vars.ts), as ansible-core does; so is import_playbook's (with its own
 * vars and -e).
 */
import { dirname, resolve } from "node:path";
import { ParseError, type SourceLocation, TicklessError } from "../errors.js";
import { handledBy } from "./arg-failures.js";
import { delegateDown } from "./delegate-down.js";
import { type Raw, toConditions, toTags, toVars } from "./fields.js";
import { includeFile } from "./kv.js";
import { renderAtLoad } from "./load-vars.js";
import {
  common,
  type NormalizeContext,
  normalizePlays,
  normalizeTaskList,
  reportModuleKeys,
} from "./normalize.js";
import { readYamlFile } from "./read-source.js";
import type { Play, TaskNode } from "./types.js";
import { playbookSchemaErrors, taskFileSchemaErrors } from "./validate.js";
import type { YamlPath, YamlSource } from "./yaml.js";

/**
 * import_playbook: the plays of the file, with the import's vars (over the plays' own), tags and
 * `when`. While the file's plays load, the import's vars are under each play's own vars (what
 * import_role and import_tasks see), as ansible-core passes them to Play.load.
 */
export async function importPlaybook(
  raw: Raw,
  path: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
): Promise<Play[]> {
  const from = source.locate([...path, "import_playbook"], "value");
  const vars = toVars(raw.vars);
  // rendered with its own vars, -e and playbook_dir (ansible-core: get_vars() without a play)
  const name = { what: "import_playbook's file" } as const;
  const rendered = renderAtLoad(String(raw.import_playbook), vars, name, from, ctx);
  if (rendered === undefined) return [];
  const file = resolve(dirname(source.file), rendered);
  const imported = await loadImported(file, "playbook", from, ctx, playbookSchemaErrors);
  if (!imported) return [];
  const outer = ctx.loadVars.imported;
  ctx.stack.push(file);
  ctx.loadVars.imported = vars;
  let plays: Play[];
  try {
    plays = await normalizePlays(imported, ctx);
  } finally {
    ctx.loadVars.imported = outer;
    ctx.stack.pop();
  }
  const tags = toTags(raw.tags);
  const when = toConditions(raw.when) ?? [];
  return plays.map((p) => ({
    ...p,
    vars: { ...p.vars, ...vars },
    tags: [...p.tags, ...tags],
    ...(when.length > 0 ? { importWhen: [...when, ...(p.importWhen ?? [])] } : {}),
    varsFiles: p.varsFiles.map((f) => (f.includes("{{") ? f : resolve(dirname(file), f))),
  }));
}

/** Reads, parses and schema-checks an imported file; reports cycles and problems, undefined then. */
async function loadImported(
  file: string,
  what: string,
  from: SourceLocation,
  ctx: NormalizeContext,
  schemaErrors: (s: YamlSource) => ParseError[],
): Promise<YamlSource | undefined> {
  if (ctx.stack.includes(file)) {
    const chain = [...ctx.stack.slice(ctx.stack.indexOf(file)), file].join(" → ");
    ctx.errors.push(
      new ParseError("SCHEMA", `import cycle: ${chain}`, {
        location: from,
        hint: "a file must not import itself, directly or through other files",
      }),
    );
    return undefined;
  }
  try {
    const source = await readYamlFile(file, what, from);
    const errors = schemaErrors(source);
    ctx.errors.push(...errors);
    return source;
  } catch (err) {
    if (!(err instanceof TicklessError)) throw err;
    ctx.errors.push(err);
    return undefined;
  }
}

/**
 * import_tasks: the file's tasks, inlined now (in a block when the import sets when/tags/vars/…);
 * the import's vars are seen by what the file's imports render.
 */
export async function importTasks(
  raw: Raw,
  path: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
): Promise<TaskNode[]> {
  reportModuleKeys(raw, path, source, ctx);
  const from = source.locate([...path, "import_tasks"], "value");
  const written = includeFile(raw.import_tasks);
  if (written === undefined) return [];
  const vars = toVars(raw.vars);
  const name = { what: "import_tasks' file", dynamic: "include_tasks" } as const;
  const rendered = renderAtLoad(written, vars, name, from, ctx);
  if (rendered === undefined) return [];
  const file = resolve(dirname(source.file), rendered);
  const imported = await loadImported(file, "task file", from, ctx, taskFileSchemaErrors);
  if (!imported) return [];
  ctx.stack.push(file);
  ctx.loadVars.scopes.push(vars);
  let tasks: TaskNode[];
  try {
    const read = await handledBy(raw, ctx, () => normalizeTaskList(imported.value, [], imported, ctx));
    tasks = delegateDown(read, raw, path, source, ctx.errors);
  } finally {
    ctx.loadVars.scopes.pop();
    ctx.stack.pop();
  }
  const wrapper = common(raw, path, source);
  const onlyNamed = Object.keys(raw).every((k) => k === "import_tasks" || k === "name");
  if (onlyNamed) return tasks;
  return [{ kind: "block", ...wrapper, block: tasks, rescue: [], always: [] }];
}
