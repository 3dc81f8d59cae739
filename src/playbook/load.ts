/** Loading a playbook: YAML with positions → schema → normalize → rules, collecting every error. */
import { dirname, resolve } from "node:path";
import { formatError, ParseError, TicklessError } from "../errors.js";
import { defaultRegistry, type ModuleRegistry } from "../modules/registry.js";
import { type NormalizeContext, normalizePlays, normalizeTaskList } from "./normalize.js";
import { readYamlFile } from "./read-source.js";
import { checkPlaybook, checkTaskNodes } from "./rules.js";
import type { Playbook, TaskNode } from "./types.js";
import { playbookSchemaErrors, taskFileSchemaErrors } from "./validate.js";

export interface LoadOptions {
  /** Modules tasks may use (default: the built-in ones). */
  registry?: ModuleRegistry;
}

export interface ValidationResult {
  playbook?: Playbook;
  errors: TicklessError[];
  warnings: string[];
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
      return { playbook: undefined, errors: sortErrors(ctx.errors), warnings: ctx.warnings };
    return { playbook, errors: [], warnings: ctx.warnings };
  } catch (err) {
    if (!(err instanceof TicklessError)) throw err;
    return { errors: [...sortErrors(ctx.errors), err], warnings: ctx.warnings };
  }
}

/** Loads a task file (include_tasks at run time); its import_tasks are inlined. Throws PlaybookErrors. */
export async function loadTaskFile(file: string, options: LoadOptions = {}): Promise<TaskNode[]> {
  const path = resolve(file);
  const ctx = context(options, path);
  let nodes: TaskNode[] = [];
  try {
    const source = await readYamlFile(path, "task file");
    ctx.errors.push(...taskFileSchemaErrors(source));
    nodes = await normalizeTaskList(source.value, [], source, ctx);
    ctx.errors.push(...checkTaskNodes(nodes).errors);
  } catch (err) {
    if (!(err instanceof TicklessError)) throw err;
    ctx.errors.push(err);
  }
  if (ctx.errors.length > 0) throw new PlaybookErrors(sortErrors(ctx.errors));
  return nodes;
}

function context(options: LoadOptions, file: string): NormalizeContext {
  return { registry: options.registry ?? defaultRegistry(), errors: [], warnings: [], stack: [file] };
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
