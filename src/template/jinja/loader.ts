/**
 * Where `{% include %}`, `{% import %}` and `{% from %}` find a template, as Ansible's template
 * module sets Jinja's search path: for each of the task's role, the task's directory, the
 * playbook's directory and the template's own directory, `<dir>/templates/<name>` then
 * `<dir>/<name>`.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** A template found by name: its file and text. */
export interface LoadedTemplate {
  file: string;
  text: string;
}

export type TemplateLoader = (name: string) => LoadedTemplate | undefined;

/** The directories looked in, in order, for the given base directories. */
export function searchPath(dirs: string[]): string[] {
  const out: string[] = [];
  for (const dir of dirs) {
    for (const d of [path.join(dir, "templates"), dir]) if (!out.includes(d)) out.push(d);
  }
  return out;
}

/** A loader over base directories (see searchPath). */
export function fileLoader(dirs: string[]): TemplateLoader & { searched: string[] } {
  const searched = searchPath(dirs);
  const load = (name: string): LoadedTemplate | undefined => {
    for (const dir of searched) {
      const file = path.resolve(dir, name);
      if (existsSync(file)) return { file, text: readFileSync(file, "utf8").replace(/^\uFEFF/, "") };
    }
    return undefined;
  };
  return Object.assign(load, { searched });
}
