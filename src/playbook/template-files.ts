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
  checkJinja(text, { file }, undefined, fileLoader([...dirs, path.dirname(file)]), (err) => errors.push(err));
}
