/**
 * The files of a repository the run reads beside its playbooks: every Jinja template under a
 * role's (or the playbook directory's) templates/, the variables of group_vars/, host_vars/ and a
 * role's defaults/ and vars/ (each `{{ … }}` in them), each checked by the loader's own checks.
 */
import type { Dirent } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { varsFiles } from "../inventory/vars-dirs.js";
import { parseYaml, type YamlPath } from "../playbook/index.js";
import { roleFile } from "../playbook/roles.js";
import { decodeSource } from "../playbook/yaml-checks.js";
import { checkTemplate } from "../template/index.js";
import { fileEngine, hasTemplate } from "../template/jinja/classify.js";
import { fileLoader } from "../template/jinja/loader.js";
import { checkJinja } from "../template/jinja/render.js";
import { UnsafeText } from "../template/unsafe.js";
import { type Findings, findingOf } from "./finding.js";

/** Every Jinja file under `<dir>/templates/`, checked as the template module would load it. */
export async function lintTemplatesDir(dir: string, findings: Findings): Promise<void> {
  for (const file of await filesUnder(path.join(dir, "templates"))) {
    let text: string;
    try {
      text = (await readFile(file, "utf8")).replace(/^\uFEFF/, "");
    } catch {
      continue;
    }
    if (fileEngine(file, text) !== "jinja") continue;
    const loader = fileLoader([dir, path.dirname(file)]);
    checkJinja(text, { file }, undefined, loader, (err) => findings.add(findingOf(err)));
  }
}

/** `group_vars/` and `host_vars/` beside `dir`: every file Ansible would read there. */
export async function lintVarsDirs(dir: string, findings: Findings): Promise<void> {
  for (const kind of ["group_vars", "host_vars"]) {
    for (const files of (await varsFiles(path.join(dir, kind))).values()) {
      for (const file of files) await lintVarsFile(file, findings);
    }
  }
}

/** A role's `defaults/main` and `vars/main`. */
export async function lintRoleVars(roleDir: string, findings: Findings): Promise<void> {
  for (const kind of ["defaults", "vars"]) {
    const file = await roleFile(roleDir, kind);
    if (file) await lintVarsFile(file, findings);
  }
}

/** A vars file: its YAML, then each string holding a template, at the line it is written. */
async function lintVarsFile(file: string, findings: Findings): Promise<void> {
  try {
    const source = parseYaml(decodeSource(await readFile(file), file), file);
    for (const [at, text] of templateStrings(source.value, []))
      checkTemplate(text, source.locate(at, "value"), (err) => findings.error(err));
  } catch (err) {
    findings.error(err);
  }
}

/** The strings holding `{{` (or `{%`) in a value, each with its path. */
function templateStrings(value: unknown, at: YamlPath): [YamlPath, string][] {
  if (typeof value === "string") return hasTemplate(value) ? [[at, value]] : [];
  if (value instanceof UnsafeText) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => templateStrings(v, [...at, i]));
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => templateStrings(v, [...at, k]));
  return [];
}

/** Files under a directory, recursively, in name order; none when it does not exist. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const entry of entries) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}
