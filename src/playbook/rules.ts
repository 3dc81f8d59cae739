/**
 * Checks over the resolved playbook, as a list of small rules. Each returns what it found;
 * none throws for a user's mistake.
 */
import { ParseError, type SourceLocation, TicklessError } from "../errors.js";
import { checkExpression, checkTemplate } from "../template/index.js";
import { hasTemplate } from "../template/jinja/classify.js";
import { UnsafeText } from "../template/unsafe.js";
import { didYouMean } from "./hints.js";
import { loopKey } from "./loop-fields.js";
import { checkTemplateFile } from "./template-files.js";
import type { Handler, Play, Playbook, TaskNode } from "./types.js";

export interface RuleFindings {
  errors: TicklessError[];
  warnings: string[];
}

/** A rule over one task-like node (its children are visited separately). */
type NodeRule = (node: TaskNode, found: RuleFindings) => void;
/** A rule over a whole play. */
type PlayRule = (play: Play, found: RuleFindings) => void;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every task, block and include of a list, depth first. */
export function* walkNodes(nodes: readonly TaskNode[]): Generator<TaskNode> {
  for (const node of nodes) {
    yield node;
    if (node.kind === "block") {
      yield* walkNodes(node.block);
      yield* walkNodes(node.rescue);
      yield* walkNodes(node.always);
    }
  }
}

function playNodes(play: Play): TaskNode[] {
  return [...walkNodes([...play.preTasks, ...play.tasks, ...play.postTasks, ...play.handlers])];
}

function locOf(
  node: { loc: SourceLocation; locs: Record<string, SourceLocation> },
  field: string,
): SourceLocation {
  return node.locs[field] ?? node.loc;
}

/** Runs a checker that throws ParseError and records what it throws. */
function attempt(found: RuleFindings, check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof TicklessError) found.errors.push(err);
    else throw err;
  }
}

/** Where a check that reports every problem of a string puts them. */
const report = (found: RuleFindings) => (err: TicklessError) => found.errors.push(err);

/** What a handler answers to: its name, "role : name" for a role's, and its listen topics. */
function handlerNames(h: Handler): string[] {
  const listen = h.listen ?? [];
  if (h.name === undefined) return listen;
  return [h.name, ...(h.role ? [`${h.role.name} : ${h.name}`] : []), ...listen];
}

const handlersExist: PlayRule = (play, found) => {
  const known = new Set(play.handlers.flatMap(handlerNames));
  for (const node of playNodes(play)) {
    if (node.kind !== "task") continue;
    for (const name of node.notify) {
      if (known.has(name) || name.includes("{{")) continue;
      found.errors.push(
        new ParseError("UNKNOWN_HANDLER", `notify names no handler: "${name}"`, {
          location: locOf(node, "notify"),
          hint: didYouMean(name, known) ?? `add a handler named "${name}" under the play's handlers:`,
        }),
      );
    }
  }
};

const handlersNotified: PlayRule = (play, found) => {
  const notified = new Set(playNodes(play).flatMap((n) => (n.kind === "task" ? n.notify : [])));
  for (const handler of play.handlers) {
    // a role's handler may be notified by a role included at run time: no warning
    if (handler.role) continue;
    const names = handlerNames(handler);
    if (
      names.length > 0 &&
      !names.some((n) => notified.has(n)) &&
      ![...notified].some((n) => n.includes("{{"))
    ) {
      found.warnings.push(`${where(handler.loc)}: handler "${names[0]}" is never notified`);
    }
  }
};

const handlerNamesUnique: PlayRule = (play, found) => {
  const seen = new Set<string>();
  for (const handler of play.handlers) {
    if (handler.name === undefined) continue;
    if (seen.has(handler.name)) {
      found.warnings.push(
        `${where(handler.loc)}: handler "${handler.name}" is defined twice; only the last one runs`,
      );
    }
    seen.add(handler.name);
  }
};

const serialSane: PlayRule = (play, found) => {
  for (const step of play.serial) {
    if (typeof step !== "string" || step.includes("{{")) continue;
    const percent = Number.parseFloat(step);
    if (percent <= 0 || percent > 100) {
      found.errors.push(
        new ParseError("SCHEMA", `serial: ${step.trim()} is not a percentage between 1% and 100%`, {
          location: locOf(play, "serial"),
          hint: 'use a count of hosts (serial: 2) or a percentage such as "30%"',
        }),
      );
    }
  }
};

const identifiers: NodeRule = (node, found) => {
  if (node.kind === "task" && node.register !== undefined && !IDENTIFIER.test(node.register)) {
    found.errors.push(
      new ParseError("SCHEMA", `register: "${node.register}" is not a valid variable name`, {
        location: locOf(node, "register"),
        hint: "use letters, digits and underscores, starting with a letter, e.g. register: result",
      }),
    );
  }
  if (node.kind === "block") return;
  for (const [key, name] of [
    ["loop_var", node.loopVar],
    ["index_var", node.indexVar],
  ] as const) {
    if (name === undefined || IDENTIFIER.test(name)) continue;
    found.errors.push(
      new ParseError("SCHEMA", `${key}: "${name}" is not a valid variable name`, {
        location: locOf(node, "loop_control"),
        hint: `use letters, digits and underscores, starting with a letter, e.g. ${key}: pkg`,
      }),
    );
  }
};

const loopTwice: NodeRule = (node, found) => {
  if (node.kind === "block" || !("loop" in node.locs)) return;
  const withKey = Object.keys(node.locs).find((k) => k.startsWith("with_"));
  if (withKey) found.warnings.push(`${where(node.loc)}: both loop and ${withKey} are set; loop is used`);
};

const expressions: NodeRule = (node, found) => {
  const check = (exprs: readonly string[] | undefined, field: string) => {
    (exprs ?? []).forEach((e, i) => {
      attempt(found, () => checkExpression(e, node.locs[`${field}.${i}`] ?? locOf(node, field)));
    });
  };
  check(node.when, "when");
  if (typeof node.ignoreErrors === "string") check([node.ignoreErrors], "ignore_errors");
  if (node.kind !== "task") return;
  check(node.changedWhen, "changed_when");
  check(node.failedWhen, "failed_when");
  check(node.until === undefined ? [] : [node.until], "until");
  check(node.verify?.that, "verify.that");
};

const templates: NodeRule = (node, found) => {
  const check = (value: unknown, field: string) => {
    for (const s of templateStrings(value)) checkTemplate(s, locOf(node, field), report(found));
  };
  check(node.name, "name");
  check(node.vars, "vars");
  check(node.environment, "environment");
  if (node.kind === "include") check(node.file, "include_tasks");
  if (node.kind === "block") return;
  check(node.loop, loopKey(node));
  if (node.kind !== "task") return;
  for (const [k, v] of Object.entries(node.args)) check(v, `args.${k}`);
  check(node.verify?.command, "verify.command");
};

const playTemplates: PlayRule = (play, found) => {
  const check = (value: unknown, field: string) => {
    for (const s of templateStrings(value)) checkTemplate(s, locOf(play, field), report(found));
  };
  check(play.hosts, "hosts");
  check(play.vars, "vars");
  check(play.varsFiles, "vars_files");
  check(play.environment, "environment");
};

/** Strings holding `{{` anywhere inside a value (lists and mappings included). */
function templateStrings(value: unknown): string[] {
  if (typeof value === "string") return hasTemplate(value) ? [value] : [];
  if (value instanceof UnsafeText) return []; // never templated
  if (Array.isArray(value)) return value.flatMap(templateStrings);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(templateStrings);
  return [];
}

function where(loc: SourceLocation): string {
  return `${loc.file}:${loc.line ?? 0}:${loc.column ?? 0}`;
}

const PLAY_RULES: PlayRule[] = [
  handlersExist,
  handlersNotified,
  handlerNamesUnique,
  serialSane,
  playTemplates,
];
const templateFiles: NodeRule = (node, found) => checkTemplateFile(node, found.errors);

const NODE_RULES: NodeRule[] = [identifiers, loopTwice, expressions, templates, templateFiles];

/** Rules over task nodes only (a task file loaded by include_tasks). */
export function checkTaskNodes(nodes: readonly TaskNode[]): RuleFindings {
  const found: RuleFindings = { errors: [], warnings: [] };
  for (const node of walkNodes(nodes)) for (const rule of NODE_RULES) rule(node, found);
  return found;
}

/** Every rule over a resolved playbook. */
export function checkPlaybook(playbook: Playbook): RuleFindings {
  const found: RuleFindings = { errors: [], warnings: [] };
  for (const play of playbook.plays) {
    for (const rule of PLAY_RULES) rule(play, found);
    for (const node of playNodes(play)) for (const rule of NODE_RULES) rule(node, found);
  }
  return found;
}
