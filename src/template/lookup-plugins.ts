/**
 * The lookup plugins tickless runs, each as ansible-core's plugin of that name: on the controller,
 * with the terms (the positional arguments) and the options (the keyword arguments) it was given.
 * The `with_<lookup>` loops share their plugins (engine/with-loops.ts).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { WITH_LOOKUP_PLUGINS } from "../engine/with-loops.js";
import { TicklessError } from "../errors.js";
import { decodeSource } from "../playbook/yaml-checks.js";
import { openVaultFile } from "../vault/keyring.js";
import { ansibleManaged, ManagedFormatError, managedSetting } from "./ansible-managed.js";
import { truthy } from "./helpers.js";
import { fileLoader } from "./jinja/loader.js";
import { renderJinja } from "./jinja/render.js";
import { PyDateTime } from "./py-datetime.js";
import { literalValue, pyStr } from "./python.js";
import { renderNested } from "./render.js";
import { Scope } from "./scope.js";

/** What a plugin sees: its options, the vars, and where the calling task's files are looked for. */
export interface LookupContext {
  options: Record<string, unknown>;
  scope: Scope;
  /** ansible_search_path: the role's directory, the task's, then the playbook's. */
  searchDirs: string[];
  playbookDir: string;
  /** Where first_found looks in each directory: `templates` for a template task's loop, `vars` for include_vars, else `files`. */
  subdir?: string;
}

type Plugin = (terms: unknown[], ctx: LookupContext) => unknown[];

/**
 * An error a plugin raises itself: ansible-core's AnsibleError (reported as an unhandled
 * exception of the plugin), or its AnsibleLookupError when `handled` (reported as it is).
 */
export class LookupError extends Error {
  constructor(
    message: string,
    readonly handled = false,
  ) {
    super(message);
  }
}

const PLUGINS: Record<string, Plugin> = {
  env: (terms, ctx) =>
    terms.map((term) => {
      const name = String(term).trim().split(/\s+/)[0];
      return process.env[name] ?? ("default" in ctx.options ? ctx.options.default : "");
    }),
  file: (terms, ctx) =>
    terms.map((term) => {
      const found = findFile(ctx, "files", String(term));
      if (found === undefined) throw new LookupError(`could not locate file in lookup: ${pyStr(term)}`);
      let text = decodeSource(openVaultFile(readFileSync(found), found), found, "TEMPLATE");
      if (truthy(ctx.options.lstrip ?? false)) text = text.trimStart();
      if (truthy(ctx.options.rstrip ?? true)) text = text.trimEnd();
      return text;
    }),
  pipe: (terms, ctx) => terms.map((term) => shell("pipe", String(term), ctx).trimEnd()),
  lines: (terms, ctx) => terms.flatMap((term) => splitLines(shell("lines", String(term), ctx))),
  template: (terms, ctx) => terms.map((term) => template(String(term), ctx)),
  vars: (terms, ctx) =>
    terms.map((term) => {
      if (typeof term !== "string")
        throw new LookupError(
          `Invalid setting identifier, "${pyStr(term)}" is not a string, its a ${pyType(term)}`,
        );
      if (Object.hasOwn(ctx.scope.raw, term)) return ctx.scope.root[term];
      if (ctx.options.default !== undefined && ctx.options.default !== null) return ctx.options.default;
      throw new TicklessError("UNDEFINED_VARIABLE", `No variable found with this name: ${term}`);
    }),
  first_found: firstFound,
};

/** Every plugin name tickless runs: `lookup(name, …)` with another name is refused at load time. */
export const LOOKUP_PLUGINS = new Set([...Object.keys(PLUGINS), ...Object.keys(WITH_LOOKUP_PLUGINS)]);

/** Runs one plugin; throws LookupError (or a TicklessError) as ansible-core's plugin raises. */
export function runPlugin(name: string, terms: unknown[], ctx: LookupContext): unknown[] {
  const own = PLUGINS[name];
  if (own) return own(terms, ctx);
  const shared = WITH_LOOKUP_PLUGINS[name as keyof typeof WITH_LOOKUP_PLUGINS];
  try {
    return shared(terms, ctx.searchDirs);
  } catch (err) {
    if (err instanceof TicklessError) throw new LookupError(err.message);
    throw err;
  }
}

/**
 * Ansible's find_file_in_search_path: for each directory of the search path `<dir>/<subdir>/NAME`
 * then `<dir>/NAME` (subdir left out when NAME starts with it), the playbook's last; an absolute
 * NAME (or `~/…`) only as it is.
 */
export function findFile(ctx: LookupContext, subdir: string, name: string): string | undefined {
  if (name.startsWith("~")) name = join(process.env.HOME ?? "~", name.slice(1));
  if (isAbsolute(name)) return isFile(name) ? name : undefined;
  const candidates: string[] = [];
  for (const dir of [...ctx.searchDirs, ctx.playbookDir]) {
    if (name.split("/")[0] !== subdir) candidates.push(join(dir, subdir, name));
    candidates.push(join(dir, name));
  }
  return candidates.find(isFile);
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** The pipe and lines plugins: `/bin/sh -c` in the playbook's directory; a non-zero exit is an error. */
function shell(plugin: string, command: string, ctx: LookupContext): string {
  const r = spawnSync("/bin/sh", ["-c", command], {
    cwd: ctx.playbookDir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw new LookupError(`lookup_plugin.${plugin}(${command}) failed: ${r.error.message}`);
  if (r.status !== 0) throw new LookupError(`lookup_plugin.${plugin}(${command}) returned ${r.status ?? -1}`);
  return r.stdout;
}

/** Python's str.splitlines for the line breaks a command prints. */
function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The template plugin: the file rendered with the task's vars, template_vars over them. */
function template(name: string, ctx: LookupContext): unknown {
  const found = findFile(ctx, "templates", name);
  if (found === undefined)
    throw new LookupError(`the template file ${name} could not be found for the lookup`);
  const text = decodeSource(openVaultFile(readFileSync(found), found), found, "TEMPLATE");
  const own = ctx.options.template_vars ?? {};
  if (typeof own !== "object" || own === null || Array.isArray(own))
    throw new LookupError(`Invalid type for configuration option template_vars: ${pyStr(own)}`);
  const vars = { ...ctx.scope.raw, ...managedVars(name, found, ctx), ...own };
  const loader = fileLoader([...ctx.searchDirs, ctx.playbookDir, dirname(found)]);
  const rendered = renderJinja(text, new Scope(vars, renderNested, { file: found }), undefined, loader);
  return truthy(ctx.options.convert_data ?? true) ? literalValue(rendered) : rendered;
}

/** templateFileVars; ansible_managed's str.format error as Ansible's lookup reports a Python exception. */
function managedVars(name: string, found: string, ctx: LookupContext): Record<string, unknown> {
  try {
    return templateFileVars(name, found, managedSetting(ctx.scope.raw));
  } catch (err) {
    if (!(err instanceof ManagedFormatError)) throw err;
    const { pyClass, pyMessage, note } = err;
    throw new LookupError(
      `An unhandled exception occurred while running the lookup plugin 'template'. Error was a <class '${pyClass}'>, original message: ${pyMessage}. ${pyMessage} (${note})`,
      true,
    );
  }
}

/** generate_ansible_template_vars for a template the lookup renders. */
function templateFileVars(name: string, path: string, managed: string): Record<string, unknown> {
  const st = statSync(path, { bigint: true });
  const mtime = Number(st.mtimeNs / 1_000_000_000n) + Number(st.mtimeNs % 1_000_000_000n) * 1e-9;
  const host = hostname();
  const uid = userName(Number(st.uid));
  return {
    ansible_managed: ansibleManaged(managed, { host, uid, file: name }, mtime),
    template_host: host,
    template_path: name,
    template_fullpath: resolve(path),
    template_uid: uid,
    template_mtime: new PyDateTime(mtime),
    template_run_date: new PyDateTime(Date.now() / 1000),
    template_destpath: null,
  };
}

function userName(uid: number): string {
  let passwd = "";
  try {
    passwd = readFileSync("/etc/passwd", "utf8");
  } catch {}
  const line = passwd.split("\n").find((l) => l.split(":")[2] === String(uid));
  return line ? line.split(":")[0] : String(uid);
}

function pyType(value: unknown): string {
  if (Array.isArray(value)) return "<class 'list'>";
  if (value === null || value === undefined) return "<class 'NoneType'>";
  if (typeof value === "number") return Number.isInteger(value) ? "<class 'int'>" : "<class 'float'>";
  if (typeof value === "boolean") return "<class 'bool'>";
  return "<class 'dict'>";
}

/**
 * first_found: the first file that exists, looked for through the search path's files/. Each term
 * is a file name (with the `files`/`paths` options), a mapping of `files`, `paths` and `skip`, or
 * a list of those; `files` split on `,` and `;`, `paths` on `,`, `:` and `;`, each path joined to
 * each file.
 */
function firstFound(terms: unknown[], ctx: LookupContext): unknown[] {
  const { search, skip } = firstFoundSearch(terms, ctx.options);
  for (const name of search) {
    const found = findFile(ctx, ctx.subdir ?? "files", name);
    if (found !== undefined) return [found];
  }
  if (skip) return [];
  throw new LookupError("No file was found when using first_found.", true);
}

function firstFoundSearch(
  terms: unknown[],
  options: Record<string, unknown>,
): { search: string[]; skip: boolean } {
  const search: string[] = [];
  let skip = false;
  const split = (value: unknown, seps: RegExp) =>
    (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value])
      .flatMap((v) => String(v).split(seps))
      .filter((v) => v !== "");
  for (const term of terms) {
    let direct: Record<string, unknown>;
    if (Array.isArray(term)) {
      const inner = firstFoundSearch(term, options);
      search.push(...inner.search);
      skip = inner.skip;
      continue;
    }
    if (typeof term === "string") direct = options;
    else if (term !== null && typeof term === "object") direct = term as Record<string, unknown>;
    else
      throw new LookupError(
        `Invalid term supplied, can handle string, mapping or list of strings but got: ${pyType(term)} for ${pyStr(term)}`,
        true,
      );
    const files = split(direct.files, /[,;]/);
    const paths = split(direct.paths, /[,:;]/);
    skip = truthy(direct.skip ?? false);
    if (paths.length > 0) for (const p of paths) for (const f of files) search.push(join(p, f));
    else if (files.length > 0) search.push(...files);
    else if (typeof term === "string") search.push(term);
  }
  return { search, skip };
}
