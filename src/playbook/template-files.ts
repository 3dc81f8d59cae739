/**
 * A template task's Jinja file, checked when the playbook loads: syntax, expressions, filter
 * names and refused statements (macro, include …) are reported at their line in the file, before
 * any host is touched, and so are the templates it includes or imports by a literal name where they
 * are found; every problem of an expression is reported, not only the first. Only a literal `src`
 * found in the task's role or beside the task (`templates/<src>`, `<src>`) is checked here; others
 * are found, and checked, when the task runs.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { TicklessError } from "../errors.js";
import { fileEngine } from "../template/jinja/classify.js";
import type { Delimiters, JinjaOptions } from "../template/jinja/lex.js";
import { fileLoader, searchPath } from "../template/jinja/loader.js";
import { checkJinja } from "../template/jinja/render.js";
import type { TaskNode } from "./types.js";

/** Modules whose `src` (or `template`) names a controller-side template file. */
const TEMPLATE_ARGS: Record<string, string> = { template: "src", systemd_dropin: "template" };

export function checkTemplateFile(node: TaskNode, errors: TicklessError[]): void {
  if (node.kind !== "task" || !Object.hasOwn(TEMPLATE_ARGS, node.module)) return;
  const src = node.args[TEMPLATE_ARGS[node.module]];
  if (typeof src !== "string" || src.includes("{{") || src.includes("{%")) return;
  // as the template module looks: the task's role first, then the task's directory
  const dirs = [...(node.role ? [node.role.dir] : []), path.dirname(node.loc.file)];
  const candidates = path.isAbsolute(src) ? [src] : searchPath(dirs).map((d) => path.join(d, src));
  const file = candidates.find((c) => existsSync(c));
  if (!file) return;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return;
  }
  if (fileEngine(file, text) !== "jinja") return;
  const options = literalOptions(node.args);
  if (!options) return;
  checkJinja(text, { file }, options, fileLoader([...dirs, path.dirname(file)]), (err) => errors.push(err));
}

const DELIMITERS: Record<string, keyof Delimiters> = {
  variable_start_string: "variableStart",
  variable_end_string: "variableEnd",
  block_start_string: "blockStart",
  block_end_string: "blockEnd",
  comment_start_string: "commentStart",
  comment_end_string: "commentEnd",
};

/** The task's delimiters and trim/lstrip settings; none when one is a template (known at run time). */
function literalOptions(args: Record<string, unknown>): Partial<JinjaOptions> | undefined {
  const options: Partial<JinjaOptions> = {};
  for (const [arg, key] of Object.entries(DELIMITERS)) {
    const value = args[arg];
    if (value === undefined) continue;
    if (typeof value !== "string" || value.includes("{{")) return undefined;
    options.delimiters = { ...options.delimiters, [key]: value };
  }
  for (const [arg, key] of [
    ["trim_blocks", "trimBlocks"],
    ["lstrip_blocks", "lstripBlocks"],
  ] as const) {
    const value = args[arg];
    if (value === undefined) continue;
    if (typeof value !== "boolean") return undefined;
    options[key] = value;
  }
  return options;
}
