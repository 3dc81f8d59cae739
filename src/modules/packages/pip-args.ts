/**
 * The `pip` module's arguments: Ansible's names and defaults, the schema checked when the playbook is
 * loaded (one of `name` or `requirements`, never both; `executable` never with `virtualenv`), and the
 * requirement strings pip is given, rebuilt from `name` as Ansible's module rebuilds them
 * (`django>1.11,<2` split by the list conversion and joined again; `version` appended).
 */
import { mutuallyExclusive } from "../util/args.js";

export type PipState = "present" | "absent" | "latest" | "forcereinstall";

/** What the module runs on: Ansible's defaults filled in, `name` a list as its list conversion makes it. */
export interface PipArgs {
  name?: string[];
  version?: string;
  requirements?: string;
  virtualenv?: string;
  virtualenv_site_packages: boolean;
  virtualenv_command: string;
  virtualenv_python?: string;
  state: PipState;
  extra_args?: string;
  editable: boolean;
  chdir?: string;
  executable?: string;
  umask?: string;
}

const TEXT = { type: "string" };
const PATH = { type: "string", minLength: 1 };

export const PIP_SCHEMA: Record<string, unknown> = {
  type: "object",
  properties: {
    name: {
      anyOf: [TEXT, { type: "array", items: { type: ["string", "number"] } }],
      description:
        "a requirement (psutil, psutil==5.8.0, pkg>=1.0), a comma-separated list or a list of them",
    },
    version: { type: ["string", "number"] },
    requirements: PATH,
    virtualenv: PATH,
    virtualenv_site_packages: { type: "boolean" },
    virtualenv_command: PATH,
    virtualenv_python: TEXT,
    state: { enum: ["present", "absent", "latest", "forcereinstall"] },
    extra_args: TEXT,
    editable: { type: "boolean" },
    chdir: PATH,
    executable: PATH,
    umask: {
      type: ["string", "integer"],
      description: "an octal string such as '0022'",
    },
  },
  additionalProperties: false,
  allOf: [
    {
      anyOf: [{ required: ["name"] }, { required: ["requirements"] }],
      description: "one of name or requirements",
    },
    ...mutuallyExclusive(["name", "requirements"]),
    ...mutuallyExclusive(["executable", "virtualenv"]),
  ],
};

/** Ansible's `list` of `str`: a string is split on commas, nothing trimmed. */
function listOf(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  return Array.isArray(value) ? value.map(String) : String(value).split(",");
}

/** The written arguments with Ansible's defaults filled in (pure). */
export function normalizePip(written: Record<string, unknown>): PipArgs {
  const text = (k: string) =>
    written[k] === undefined || written[k] === null ? undefined : String(written[k]);
  return {
    name: listOf(written.name),
    version: text("version"),
    requirements: text("requirements"),
    virtualenv: text("virtualenv"),
    virtualenv_site_packages: written.virtualenv_site_packages === true,
    virtualenv_command: text("virtualenv_command") ?? "virtualenv",
    virtualenv_python: text("virtualenv_python"),
    state: (written.state as PipState | undefined) ?? "present",
    extra_args: text("extra_args"),
    editable: written.editable === true,
    chdir: text("chdir"),
    executable: text("executable"),
    umask: text("umask"),
  };
}

const OPERATORS = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"];

/** A version specifier rather than a name (`<2.0` after a comma). */
function isSpecifier(part: string): boolean {
  const s = part.trimStart();
  return OPERATORS.some((op) => s.startsWith(op));
}

/** Ansible's `_recover_package_name`: the comma-split parts joined again into requirements. */
export function recoverNames(names: readonly string[]): string[] {
  const parts = names.flatMap((n) => n.split(","));
  const out: string[] = [];
  let current: string[] = [];
  let inBrackets = false;
  for (const part of parts) {
    if (!isSpecifier(part) && !inBrackets) {
      if (current.length > 0) out.push(current.join(","));
      current = [];
    }
    if (part.includes("[")) inBrackets = true;
    if (inBrackets && part.includes("]")) inBrackets = false;
    current.push(part);
  }
  out.push(current.join(","));
  return out;
}

const REQUIREMENT =
  /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*(\(?\s*(?:(?:===|~=|==|!=|<=|>=|<|>)\s*[A-Za-z0-9_.*+!-]+\s*,?\s*)*\)?)\s*(?:;\s*(.*))?$/;

/** A requirement as pip is given it: `str(Requirement)` when it parses, else the text as written. */
export interface Requirement {
  text: string;
  /** It parsed as a requirement (a URL or a path does not). */
  plain: boolean;
  hasSpecifier: boolean;
}

/** PEP 503's name normalization, as Ansible's module applies it. */
export function canonicalName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

/** Ansible's `Package(name, version)`: the requirement parsed and written back as pkg_resources writes it. */
export function requirementOf(spec: string, version?: string): Requirement {
  let text = spec;
  if (version) {
    const v = version.trimStart();
    text = [spec, v].join(/^[0-9]/.test(v) ? "==" : " ");
  }
  const m = REQUIREMENT.exec(text);
  if (!m) return { text: spec, plain: false, hasSpecifier: false };
  const specs = [...m[3].replace(/[()\s]/g, "").matchAll(/(===|~=|==|!=|<=|>=|<|>)([^,]+)/g)].map(
    (s) => `${s[1]}${s[2]}`,
  );
  const extras = m[2]
    ?.split(",")
    .map((e) => e.trim())
    .filter(Boolean)
    .sort();
  const marker = m[4] ? `; ${m[4].trim()}` : "";
  const written = `${m[1]}${extras?.length ? `[${extras.join(",")}]` : ""}${specs.sort().join(",")}${marker}`;
  return { text: written, plain: true, hasSpecifier: specs.length > 0 };
}

/** Ansible's `_is_vcs_url`. */
export function isVcsUrl(name: string): boolean {
  return /^(svn|git|hg|bzr)\+/.test(name);
}
