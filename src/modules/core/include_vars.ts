/**
 * `include_vars`: loads variables from YAML/JSON files on the controller, as Ansible's action does.
 * `file` (or the free form) is found like Ansible's other controller files (`vars/<file>`, then
 * `<file>`, from the task's directory then the playbook's); `dir` loads every file of a directory
 * (its sub-directories too, unless `depth`), in name order, the later file winning. `name` puts
 * everything under one variable. The values are the host's "include_vars" variables: above task
 * vars, below set_fact and registered results (the engine's precedence, engine/vars.ts). A file
 * that does not parse fails the task naming its line and column.
 */
import type { Dirent } from "node:fs";
import { access, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { readYamlFile } from "../../playbook/read-source.js";
import { compilePython, type PythonRegex } from "../files/python-regex.js";
import { defineModule, type ModuleContext, type ModuleResult } from "../types.js";

export interface IncludeVarsArgs {
  file?: string;
  dir?: string;
  name?: string;
  depth?: number;
  files_matching?: string;
  ignore_files?: string[] | string;
  extensions?: string[];
  ignore_unknown_extensions?: boolean;
}

const DIR_ARGS = [
  "dir",
  "depth",
  "files_matching",
  "ignore_files",
  "extensions",
  "ignore_unknown_extensions",
];
const DEFAULT_EXTENSIONS = ["yaml", "yml", "json"];

/** What loading found: the variables, the files read, and Ansible's failure message if any. */
interface Loaded {
  vars: Record<string, unknown>;
  files: string[];
  message?: string;
}

export const includeVarsModule = defineModule<IncludeVarsArgs>({
  name: "include_vars",
  kind: "action",
  factsLayer: "include_vars",
  freeForm: "file",
  description: "Load variables from YAML or JSON files (or a directory of them) on the controller.",
  args: {
    type: "object",
    properties: {
      file: { type: "string", minLength: 1 },
      dir: { type: "string", minLength: 1 },
      name: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
      depth: { type: "integer", minimum: 0 },
      files_matching: { type: "string" },
      ignore_files: { anyOf: [{ type: "array", items: { type: "string" } }, { type: "string" }] },
      extensions: { type: "array", items: { type: "string" } },
      ignore_unknown_extensions: { type: "boolean" },
    },
    additionalProperties: false,
    allOf: [
      { anyOf: [{ required: ["file"] }, { required: ["dir"] }], description: "a file or a dir to load" },
      ...DIR_ARGS.map((a) => ({
        not: { required: ["file", a] },
        description: `file or ${a}: file only and dir only arguments do not mix, as in Ansible`,
      })),
    ],
  },
  async run(args, ctx): Promise<ModuleResult> {
    const loaded = args.dir === undefined ? await loadFile(args.file!, ctx) : await loadDir(args, ctx);
    const vars = args.name === undefined ? loaded.vars : { [args.name]: loaded.vars };
    // as Ansible, a failed load still shows what it had (the engine sets no variable from it)
    const result: ModuleResult = { ansible_included_var_files: loaded.files, facts: vars };
    return loaded.message === undefined ? result : { ...result, failed: true, message: loaded.message };
  },
});

/** Ansible's search for a file the task names: `<dir>/vars/<file>` then `<dir>/<file>`, task's dir then playbook's. */
function searchedIn(file: string, ctx: ModuleContext): string[] {
  if (path.isAbsolute(file)) return [file];
  const dirs = [ctx.taskDir, ctx.vars.playbook_dir].filter((d): d is string => typeof d === "string");
  return dirs.flatMap((d) => [path.join(d, "vars", file), path.join(d, file)]);
}

async function loadFile(file: string, ctx: ModuleContext): Promise<Loaded> {
  const candidates = searchedIn(file, ctx);
  for (const candidate of candidates) {
    if (await exists(candidate)) return loadOne(candidate, false, DEFAULT_EXTENSIONS);
  }
  const message =
    `Could not find or access '${file}'\nSearched in:\n\t${candidates.join("\n\t")} on the Ansible Controller.\n` +
    "If you are using a module and expect the file to exist on the remote, see the remote_src option";
  return { vars: {}, files: [], message };
}

/** One file: a mapping (an empty file is {}), or Ansible's failure message. */
async function loadOne(file: string, checkExtension: boolean, extensions: string[]): Promise<Loaded> {
  if (checkExtension && !validExtension(file, extensions)) {
    return {
      vars: {},
      files: [],
      message: `${file} does not have a valid extension: ${extensions.join(", ")}`,
    };
  }
  const value = (await readYamlFile(file, "vars file")).value;
  if (value === null || value === undefined) return { vars: {}, files: [file] };
  if (typeof value !== "object" || Array.isArray(value)) {
    return { vars: {}, files: [], message: `${file} must be stored as a dictionary/hash` };
  }
  return { vars: value as Record<string, unknown>, files: [file] };
}

/** Python's os.path.splitext: the extension after the last dot that is not at the name's start. */
function validExtension(file: string, extensions: string[]): boolean {
  const base = path.basename(file);
  const dot = base.lastIndexOf(".");
  if (dot <= 0 || /^\.+$/.test(base.slice(0, dot + 1))) return false;
  return extensions.includes(base.slice(dot + 1));
}

async function loadDir(args: IncludeVarsArgs, ctx: ModuleContext): Promise<Loaded> {
  const dir = path.resolve(ctx.taskDir ?? ".", args.dir!);
  const st = await stat(dir).catch(() => undefined);
  if (!st) return { vars: {}, files: [], message: `${dir} directory does not exist` };
  if (!st.isDirectory()) return { vars: {}, files: [], message: `${dir} is not a directory` };
  const matching =
    args.files_matching === undefined ? undefined : compilePython(args.files_matching, "files_matching");
  const ignores = (
    typeof args.ignore_files === "string" ? args.ignore_files.split(/\s+/) : (args.ignore_files ?? [])
  )
    .filter((p) => p !== "")
    .map((p) => compilePython(`${p}$`, "ignore_files"));
  const extensions = args.extensions ?? DEFAULT_EXTENSIONS;
  const out: Loaded = { vars: {}, files: [] };
  // os.walk's directories sorted by path; `depth` counts them in that order, as Ansible does
  const roots = (await walk(dir)).sort((a, b) => (a.root < b.root ? -1 : a.root > b.root ? 1 : 0));
  const taken = args.depth ? roots.slice(0, args.depth) : roots;
  for (const { root, files } of taken) {
    const inDir: Loaded = { vars: {}, files: [] };
    for (const name of files.sort()) {
      if (matching && !matching.regex.test(name)) continue;
      if (ignores.some((re: PythonRegex) => re.regex.test(name))) continue;
      const file = path.join(root, name);
      if (!(await exists(file))) continue;
      if (args.ignore_unknown_extensions && !validExtension(name, extensions)) continue;
      const one = await loadOne(file, true, extensions);
      if (one.message !== undefined) {
        return { vars: out.vars, files: [...out.files, ...inDir.files], message: one.message };
      }
      Object.assign(inDir.vars, one.vars);
      inDir.files.push(...one.files);
    }
    Object.assign(out.vars, inDir.vars);
    out.files.push(...inDir.files);
  }
  return out;
}

/**
 * Every directory under `dir` (itself first) with the names of what is not a directory in it, as
 * Python's os.walk: a link to a directory is neither walked nor a file; an unreadable one is left out.
 */
async function walk(dir: string): Promise<{ root: string; files: string[] }[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const files: string[] = [];
  const dirs: string[] = [];
  for (const e of entries) {
    if (e.isDirectory()) dirs.push(e.name);
    else if (
      !(e.isSymbolicLink() && (await stat(path.join(dir, e.name)).catch(() => undefined))?.isDirectory())
    )
      files.push(e.name);
  }
  const below = await Promise.all(dirs.map((d) => walk(path.join(dir, d))));
  return [{ root: dir, files }, ...below.flat()];
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}
