/** Validates the written playbook against the JSON Schema and turns every ajv error into a located ParseError. */

import type { ErrorObject, ValidateFunction } from "ajv";
import { ParseError } from "../errors.js";
import { UnsafeText } from "../template/unsafe.js";
import { describe, isRecord } from "./fields.js";
import { suggestion, unsupportedHint } from "./hints.js";
import { BLOCK_KEYWORDS, INCLUDE_KEYWORDS, PLAY_KEYWORDS, TASK_KEYWORDS } from "./keywords.js";
import playbookSchema from "./schema/playbook.schema.json" with { type: "json" };
import { schemaValidator } from "./schema/validators.js";
import { parsePointer, type YamlPath, type YamlSource } from "./yaml.js";

let playbookValidator: ValidateFunction | undefined;
let taskListValidator: ValidateFunction | undefined;

/** Schema errors of a whole playbook file. */
export function playbookSchemaErrors(source: YamlSource): ParseError[] {
  playbookValidator ??= schemaValidator("playbook", playbookSchema);
  return schemaErrors(playbookValidator, source, []);
}

/** Schema errors of a task file (import_tasks / include_tasks): a list of tasks. */
export function taskFileSchemaErrors(source: YamlSource): ParseError[] {
  taskListValidator ??= schemaValidator("playbook", playbookSchema, "#/$defs/taskList");
  return schemaErrors(taskListValidator, source, ["tasks"]);
}

/** Validates and converts errors; `prefix` names where the root sits (for naming contexts). */
function schemaErrors(validate: ValidateFunction, source: YamlSource, prefix: YamlPath): ParseError[] {
  if (validate(source.value)) return [];
  const errors = surfaceObjectBranches(
    (validate.errors ?? []).filter((e) => e.keyword !== "if" && e.keyword !== "propertyNames"),
  );
  const outermost = new Map<string, ErrorObject>();
  for (const e of errors) if (e.keyword === "anyOf") outermost.set(e.instancePath, e);
  const seen = new Set<string>();
  const out: ParseError[] = [];
  for (const err of errors) {
    const shadowed = [...outermost.entries()].some(
      ([p, union]) => err.instancePath.startsWith(`${p}/`) || (err.instancePath === p && err !== union),
    );
    if (shadowed) continue;
    const converted = convert(err, source, prefix);
    const key = `${converted.code}:${converted.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(converted);
  }
  return out;
}

/**
 * When a mapping fails an anyOf whose only mapping branch rejects an unknown key (`verify: {cmd:
 * …}`), report that key rather than the whole union.
 */
function surfaceObjectBranches(errors: ErrorObject[]): ErrorObject[] {
  const replaced = new Set<ErrorObject>();
  const surfaced: ErrorObject[] = [];
  for (const union of errors) {
    if (union.keyword !== "anyOf" || !isRecord(union.data)) continue;
    const inside = errors.filter((e) => e.schemaPath.startsWith(`${union.schemaPath}/`));
    const unknownKeys = inside.filter(
      (e) => e.keyword === "additionalProperties" && e.instancePath === union.instancePath,
    );
    const branches = new Set(
      unknownKeys.map((e) => e.schemaPath.slice(union.schemaPath.length + 1).split("/")[0]),
    );
    if (branches.size !== 1) continue;
    replaced.add(union);
    for (const e of inside) replaced.add(e);
    surfaced.push(...unknownKeys);
  }
  return [...errors.filter((e) => !replaced.has(e)), ...surfaced];
}

function convert(err: ErrorObject, source: YamlSource, prefix: YamlPath): ParseError {
  const path = parsePointer(err.instancePath);
  const context = contextName(source.value, path, prefix);
  const unknown =
    (err.params as { additionalProperty?: string; unevaluatedProperty?: string }).additionalProperty ??
    (err.params as { unevaluatedProperty?: string }).unevaluatedProperty;
  if (unknown !== undefined) {
    return new ParseError("UNKNOWN_KEY", `unknown key "${unknown}" in ${context}`, {
      location: source.locate([...path, unknown], "key"),
      hint: unsupportedHint(unknown) ?? suggestion(unknown, keywordsOf(context), "keys"),
    });
  }
  const badKey = err.propertyName;
  if (badKey !== undefined) {
    const expected = (err.parentSchema as { "x-expected"?: string } | undefined)?.["x-expected"];
    return new ParseError(
      "SCHEMA",
      `key "${badKey}" in ${fieldName(path) ?? context}: expected ${expected}`,
      {
        location: source.locate([...path, badKey], "key"),
        hint: `rename it, e.g. ${badKey.replace(/^(?=\d)/, "_").replace(/\W/g, "_")}`,
      },
    );
  }
  if (err.keyword === "required") {
    const missing = (err.params as { missingProperty: string }).missingProperty;
    return new ParseError("SCHEMA", `${context} is missing "${missing}"`, {
      location: source.locate(path, "value"),
      hint: missing === "hosts" ? "add hosts: with a host pattern, e.g. hosts: all" : `add ${missing}:`,
    });
  }
  const field = fieldName(path);
  if (path.length === 0 && prefix.length === 0) {
    return new ParseError("SCHEMA", `a playbook must be a list of plays, got ${describe(err.data)}`, {
      location: source.locate([], "value"),
      hint: "start each play with a dash: - hosts: all",
    });
  }
  const expected = (err.parentSchema as { "x-expected"?: string } | undefined)?.["x-expected"];
  const what = expected ?? (err.message ?? "valid").replace(/^must (be )?/, "");
  const got = describe(err.data);
  const subject = field ? `"${field}" in ${context}` : context;
  return new ParseError("SCHEMA", `${subject}: expected ${what}, got ${got}`, {
    location: source.locate(path, "value"),
    hint: schemaHint(field, what, err.data),
  });
}

/** What kind of node a path points into: play, task, block, handler, loop_control, … */
function contextName(root: unknown, path: YamlPath, prefix: YamlPath): string {
  const full = [...prefix, ...path];
  let node: unknown = root;
  let context = prefix.length > 0 ? "task list" : "playbook";
  for (let i = 0; i < path.length; i++) {
    const step = String(path[i]);
    node = isRecord(node) || Array.isArray(node) ? (node as Record<string, unknown>)[step] : undefined;
    const isIndex = /^\d+$/.test(step);
    const listKey = String(full[prefix.length + i - 1]);
    if (isIndex && i === 0 && prefix.length === 0)
      context = isRecord(node) && "import_playbook" in node ? "import_playbook" : "play";
    else if (isIndex && TASK_LISTS.has(listKey)) context = taskContext(node, listKey);
    else if (NAMED_CONTEXTS.has(step)) context = step;
  }
  return context;
}

const NAMED_CONTEXTS = new Set(["loop_control", "verify", "include_tasks", "import_tasks"]);
const TASK_LISTS = new Set(["tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"]);

function taskContext(node: unknown, listKey: string): string {
  if (isRecord(node) && "block" in node) return "block";
  if (isRecord(node) && ("include_tasks" in node || "import_tasks" in node)) return "include";
  return listKey === "handlers" ? "handler" : "task";
}

function keywordsOf(context: string): readonly string[] {
  switch (context) {
    case "play":
      return PLAY_KEYWORDS;
    case "import_playbook":
      return ["import_playbook", "name", "vars", "tags", "when"];
    case "block":
      return BLOCK_KEYWORDS;
    case "include":
      return INCLUDE_KEYWORDS;
    case "loop_control":
      return ["label", "loop_var", "index_var", "extended", "extended_allitems", "pause"];
    case "verify":
      return ["that", "command"];
    case "include_tasks":
    case "import_tasks":
      return ["file"];
    default:
      return TASK_KEYWORDS;
  }
}

/** The last mapping key of a path (the field a value belongs to). */
function fieldName(path: YamlPath): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    if (!/^\d+$/.test(String(path[i]))) return String(path[i]);
  }
  return undefined;
}

function schemaHint(field: string | undefined, expected: string, value: unknown): string {
  const name = field ?? "the value";
  if (value instanceof UnsafeText)
    return `!unsafe is taken on variables and module arguments only: remove it from ${name}`;
  if (isRecord(value) && /string|expression/.test(expected))
    return `${name} holds a mapping: check the indentation, or quote the value`;
  if (typeof value === "string" && /^(\d+|true|false|yes|no|on|off)$/i.test(value))
    return `write ${name} without quotes, or as a {{ template }}`;
  if (typeof value === "string" && /mapping/.test(expected))
    return "a mapping needs key: value pairs (a colon and a space), e.g. - command: uptime";
  if ((value === null || value === undefined) && /list/.test(expected))
    return `give ${name} at least one item, or remove the key`;
  return `${name} takes ${expected}`;
}
