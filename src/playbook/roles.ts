/**
 * Roles as Ansible finds and reads them: where a role is looked for, its files
 * (tasks/handlers/defaults/vars/meta `main.yml`, or the `*_from` file), and what a `roles:` entry,
 * a dependency or an include_role/import_role holds. Turning a role into tasks is role-blocks.ts.
 */
import { access, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { ParseError, type SourceLocation } from "../errors.js";
import { describe, isRecord, optionalBoolean, type Raw, toVars } from "./fields.js";
import { readYamlFile } from "./read-source.js";
import type { IncludeRoleSpec } from "./types.js";
import { loadVarsFile } from "./vars-file.js";
import type { YamlPath, YamlSource } from "./yaml.js";

/** Ansible's default roles_path, used when neither ansible.cfg nor ANSIBLE_ROLES_PATH sets one. */
export function defaultRolesPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = env.ANSIBLE_ROLES_PATH;
  if (fromEnv !== undefined && fromEnv !== "") return splitPathList(fromEnv, process.cwd());
  return [join(homedir(), ".ansible", "roles"), "/usr/share/ansible/roles", "/etc/ansible/roles"];
}

/** A `:`-separated list of directories (`~` expanded), relative ones against `base`. */
export function splitPathList(value: string, base: string): string[] {
  return value
    .split(delimiter)
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((p) => (p === "~" || p.startsWith("~/") ? join(homedir(), p.slice(1)) : resolve(base, p)));
}

/**
 * Where a role is looked for, in Ansible's order: `roles/` beside the playbook, the roles path,
 * the directory of the role that depends on it (for a dependency), the playbook's directory.
 */
export function roleSearchPath(playDir: string, rolesPath: string[], parentRoleDir?: string): string[] {
  const dirs = [join(playDir, "roles"), ...rolesPath];
  if (parentRoleDir !== undefined) dirs.push(dirname(parentRoleDir));
  dirs.push(playDir);
  return [...new Set(dirs)];
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** The role's directory and the name it shows under (a path's last part); a located error when none. */
export async function findRole(
  name: string,
  searchPath: string[],
  from: SourceLocation,
): Promise<{ dir: string; name: string }> {
  for (const d of searchPath) {
    const dir = resolve(d, name);
    if (await exists(dir)) return { dir, name };
  }
  if (isAbsolute(name) && (await exists(name))) return { dir: name, name: basename(name) };
  if (name.includes("/")) {
    const dir = resolve(searchPath.at(-1) ?? ".", name);
    if (await exists(dir)) return { dir, name: basename(name) };
  }
  throw new ParseError("FILE_NOT_FOUND", `role "${name}" not found`, {
    location: from,
    hint: `looked in ${searchPath.join(", ")} (set roles_path in ansible.cfg or ANSIBLE_ROLES_PATH for another place)`,
  });
}

/** `<role>/<kind>/<base>` with Ansible's extensions ('', .yml, .yaml, .json); undefined when none exists. */
export async function roleFile(dir: string, kind: string, base = "main"): Promise<string | undefined> {
  for (const ext of ["", ".yml", ".yaml", ".json"]) {
    const file = join(dir, kind, `${base}${ext}`);
    if (base !== "" && (await exists(file)) && !(await isDir(file))) return file;
  }
  return undefined;
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/**
 * A role's defaults/ or vars/ file as a mapping: `main` may be absent ({}); a file named with
 * `*_from` must exist.
 */
export async function roleVarsFile(
  dir: string,
  kind: "defaults" | "vars",
  from: SourceLocation,
  base?: string,
): Promise<Record<string, unknown>> {
  const file = await roleFile(dir, kind, base ?? "main");
  if (file === undefined) {
    if (base === undefined) return {};
    throw missingFromFile(dir, kind, base, from);
  }
  return loadVarsFile(file, from);
}

export function missingFromFile(dir: string, kind: string, base: string, from: SourceLocation): ParseError {
  return new ParseError("FILE_NOT_FOUND", `role file not found: ${join(dir, kind, base)}(.yml|.yaml)`, {
    location: from,
    hint: `${kind}_from names a file in the role's ${kind}/ directory`,
  });
}

/** meta/main.yml: its dependencies (as written, with where) and allow_duplicates. */
export interface RoleMeta {
  dependencies: { value: unknown; path: YamlPath }[];
  allowDuplicates: boolean;
  source?: YamlSource;
}

export async function roleMeta(dir: string, from: SourceLocation): Promise<RoleMeta> {
  const file = await roleFile(dir, "meta");
  if (file === undefined) return { dependencies: [], allowDuplicates: false };
  const source = await readYamlFile(file, "role meta file", from);
  const value = source.value;
  if (value === null || value === undefined) return { dependencies: [], allowDuplicates: false, source };
  if (!isRecord(value))
    throw new ParseError("SCHEMA", `role meta file must hold a mapping, got ${describe(value)}`, {
      location: source.locate([], "value"),
      hint: "write dependencies: [a list of roles] and/or allow_duplicates: true",
    });
  const deps = value.dependencies;
  if (deps !== undefined && deps !== null && !Array.isArray(deps))
    throw new ParseError("SCHEMA", `dependencies: expected a list of roles, got ${describe(deps)}`, {
      location: source.locate(["dependencies"], "value"),
      hint: "dependencies:\n  - role: common",
    });
  return {
    dependencies: (deps ?? []).map((d: unknown, i: number) => ({ value: d, path: ["dependencies", i] })),
    allowDuplicates: optionalBoolean(value.allow_duplicates) ?? false,
    source,
  };
}

/** Keys of a `roles:` entry (or dependency) that are keywords; any other key is a role param. */
const ROLE_ENTRY_KEYWORDS = new Set([
  "role",
  "name",
  "vars",
  "when",
  "tags",
  "become",
  "become_user",
  "environment",
  "no_log",
  "check_mode",
  "diff",
  "ignore_errors",
  "any_errors_fatal",
  "run_once",
]);

/** Ansible keywords a role entry may hold that tickless does not run, with what to write instead. */
const ROLE_ENTRY_REFUSED: Record<string, string> = {
  delegate_to: "delegate_to goes on each task of the role",
  connection: "set ansible_connection in the inventory",
  remote_user: "set ansible_user in the inventory (or remote_user in ansible.cfg)",
  become_method: "tickless becomes with sudo; leave become_method out",
  collections: "tickless has no collections; write module names plainly",
  public:
    "roles: and import_role are always public; include_role is not (use import_role to share its variables)",
};

/** A role entry as written: its name, its keywords (kept as written) and its params. */
export interface RoleEntry {
  name: string;
  /** The keyword part of the entry (when, tags, become, …) in the written shape. */
  keywords: Raw;
  vars: Raw;
  params: Raw;
}

/** Reads a `roles:` entry or a dependency: a name, or a mapping with role: (or name:). */
export function roleEntry(value: unknown, path: YamlPath, source: YamlSource): RoleEntry {
  const at = source.locate(path, "value");
  if (typeof value === "string" && value.trim() !== "")
    return { name: value.trim(), keywords: {}, vars: {}, params: {} };
  if (!isRecord(value))
    throw new ParseError("SCHEMA", `a role entry must be a role name or a mapping, got ${describe(value)}`, {
      location: at,
      hint: "write - common or - { role: common, vars: { port: 80 } }",
    });
  const name = value.role ?? value.name;
  if (typeof name !== "string" || name.trim() === "")
    throw new ParseError("SCHEMA", "a role entry must name its role", {
      location: at,
      hint: "add role: NAME",
    });
  const keywords: Raw = {};
  const params: Raw = {};
  for (const [k, v] of Object.entries(value)) {
    if (k in ROLE_ENTRY_REFUSED)
      throw new ParseError("UNKNOWN_KEY", `"${k}" on a role is not supported`, {
        location: source.locate([...path, k], "key"),
        hint: ROLE_ENTRY_REFUSED[k],
      });
    if (ROLE_ENTRY_KEYWORDS.has(k)) {
      if (k !== "role" && !(k === "name" && value.role === undefined)) keywords[k] = v;
    } else params[k] = v;
  }
  const vars = value.vars;
  if (
    vars !== undefined &&
    vars !== null &&
    !isRecord(vars) &&
    !(Array.isArray(vars) && vars.every(isRecord))
  )
    throw new ParseError("SCHEMA", `vars of a role: expected a mapping, got ${describe(vars)}`, {
      location: source.locate([...path, "vars"], "value"),
      hint: "vars:\n  name: value",
    });
  delete keywords.vars;
  return { name: name.trim(), keywords, vars: toVars(vars), params };
}

/** include_role / import_role arguments tickless reads; `role` is the alias of `name`. */
const ROLE_INCLUDE_ARGS = [
  "name",
  "role",
  "tasks_from",
  "vars_from",
  "defaults_from",
  "handlers_from",
  "allow_duplicates",
];

/** Arguments include_role takes and import_role does not. */
const INCLUDE_ONLY = ["apply", "public"];

export type RoleIncludeArgs = Pick<
  IncludeRoleSpec,
  "name" | "tasksFrom" | "varsFrom" | "defaultsFrom" | "handlersFrom" | "allowDuplicates" | "apply" | "public"
>;

/** The arguments of include_role/import_role (a mapping, or `name=x tasks_from=y`). */
export function roleIncludeArgs(
  action: "include_role" | "import_role",
  value: unknown,
  at: SourceLocation,
  parsedKv: (text: string) => Raw,
): RoleIncludeArgs {
  const args = typeof value === "string" ? parsedKv(value) : value;
  if (!isRecord(args))
    throw new ParseError("SCHEMA", `${action}: expected a mapping with name, got ${describe(value)}`, {
      location: at,
      hint: `${action}:\n  name: ROLE`,
    });
  for (const k of Object.keys(args)) {
    if (ROLE_INCLUDE_ARGS.includes(k) || (INCLUDE_ONLY.includes(k) && action === "include_role")) continue;
    const hint =
      k === "public"
        ? "import_role's variables are always the play's (ansible-core: Invalid options for import_role: public)"
        : k === "apply"
          ? "import_role's own keywords (when, tags, become …) already apply to the role's tasks"
          : `valid: ${ROLE_INCLUDE_ARGS.join(", ")}${action === "include_role" ? `, ${INCLUDE_ONLY.join(", ")}` : ""}`;
    throw new ParseError("MODULE_ARGS", `${action} does not take "${k}"`, { location: at, hint });
  }
  const apply = applyKeywords(args.apply, at, action);
  const name = args.name ?? args.role;
  if (typeof name !== "string" || name.trim() === "")
    throw new ParseError("MODULE_ARGS", `${action} needs name: the role`, {
      location: at,
      hint: "add name: ROLE",
    });
  const from = (k: string) => {
    const v = args[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string")
      throw new ParseError("MODULE_ARGS", `${action}: ${k} must be a file name, got ${describe(v)}`, {
        location: at,
        hint: `${k}: setup.yml`,
      });
    return v;
  };
  return {
    name: name.trim(),
    tasksFrom: from("tasks_from"),
    varsFrom: from("vars_from"),
    defaultsFrom: from("defaults_from"),
    handlersFrom: from("handlers_from"),
    allowDuplicates: optionalBoolean(args.allow_duplicates) ?? true,
    ...(apply ? { apply } : {}),
    ...(publicOf(args.public, at) ? { public: true } : {}),
  };
}

/** include_role's `public`: a boolean (or yes/no); a template is refused (it is read before the role runs). */
function publicOf(value: unknown, at: SourceLocation): boolean {
  if (value === undefined || value === null) return false;
  const b = optionalBoolean(value);
  if (b === undefined)
    throw new ParseError("MODULE_ARGS", `include_role: public must be a boolean, got ${describe(value)}`, {
      location: at,
      hint: "public: true",
    });
  return b;
}

/** Keywords `apply:` may set on an included role's tasks. */
const APPLY_KEYWORDS = [...ROLE_ENTRY_KEYWORDS].filter((k) => k !== "name" && k !== "role" && k !== "vars");

/** `apply:` of include_role or include_tasks: keywords put on every included task, as a block around them. */
export function applyKeywords(value: unknown, at: SourceLocation, action = "include_role"): Raw | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value))
    throw new ParseError(
      "MODULE_ARGS",
      `${action}: apply must be a mapping of keywords, got ${describe(value)}`,
      {
        location: at,
        hint: "apply:\n  tags: [setup]\n  become: true",
      },
    );
  for (const k of Object.keys(value)) {
    if (!APPLY_KEYWORDS.includes(k))
      throw new ParseError("MODULE_ARGS", `${action}: apply does not take "${k}"`, {
        location: at,
        hint:
          k in ROLE_ENTRY_REFUSED
            ? ROLE_ENTRY_REFUSED[k]
            : k === "vars"
              ? `put vars: on the ${action} task itself`
              : `apply takes ${APPLY_KEYWORDS.join(", ")}`,
      });
  }
  return value;
}

/** A `*_from` value as Ansible reads it: the file's base name (found with or without an extension). */
export function fromBase(value: string | undefined): string | undefined {
  return value === undefined ? undefined : basename(value);
}
