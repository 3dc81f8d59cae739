/**
 * The `dnf` module's arguments (and `yum`'s, which runs dnf as Ansible's yum action does on a dnf
 * host): Ansible's names and aliases (`pkg`, `expire-cache`), the schema checked when the playbook
 * is loaded, and the normalized form the module runs on. Ansible's options tickless does not
 * implement (`list`, `exclude`, `download_only`, `releasever` …) are refused at load time, with a hint.
 */
import { resolveAliases } from "../util/args.js";

export type DnfState = "present" | "absent" | "latest";

/** What the module runs on: aliases resolved, `name` a list of trimmed specs. */
export interface DnfArgs {
  name: string[];
  state: DnfState;
  update_cache: boolean;
  disable_gpg_check: boolean;
  enablerepo: string[];
  disablerepo: string[];
  installroot: string;
  conf_file?: string;
  autoremove: boolean;
}

const ALIASES: Record<string, string> = { pkg: "name", "expire-cache": "update_cache" };

/** A package spec; groups and modules (`@x`), .rpm files, URLs and file paths are not taken. */
const SPEC = {
  type: "string",
  not: { pattern: "^[@/]|\\.rpm$|://" },
  description:
    "a package spec as dnf takes it: name, name-version, name.arch, a wildcard (tickless's dnf installs no @group or @module, .rpm file, URL or file path)",
};
const LIST = { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] };

const NAME = {
  anyOf: [SPEC, { type: "array", items: SPEC }],
  description:
    "a package spec, a comma-separated list or a list of them (tickless's dnf installs no @group or @module, .rpm file, URL or file path)",
};

/** Ansible's dnf options tickless does not run, each refused with what to do instead. */
const NOT_BUILT: Record<string, string> = {
  list: "tickless's dnf does not list packages: use command: dnf list",
  exclude: "tickless's dnf does not take exclude: name the packages to install",
  allow_downgrade: "tickless's dnf does not downgrade: remove the package, then install the version",
  allowerasing: "tickless's dnf does not take allowerasing",
  bugfix: "tickless's dnf does not take bugfix",
  security: "tickless's dnf does not take security",
  cacheonly: "tickless's dnf does not take cacheonly",
  disable_excludes: "tickless's dnf does not take disable_excludes",
  disable_plugin: "tickless's dnf does not take disable_plugin: set it in conf_file",
  enable_plugin: "tickless's dnf does not take enable_plugin: set it in conf_file",
  download_only: "tickless's dnf does not take download_only",
  download_dir: "tickless's dnf does not take download_dir",
  install_repoquery: "tickless's dnf does not take install_repoquery",
  install_weak_deps: "tickless's dnf does not take install_weak_deps: set install_weak_deps in conf_file",
  lock_timeout: "tickless's dnf does not take lock_timeout (dnf waits for its own lock)",
  nobest: "tickless's dnf does not take nobest: set best in conf_file",
  releasever: "tickless's dnf does not take releasever",
  skip_broken: "tickless's dnf does not take skip_broken",
  sslverify: "tickless's dnf does not take sslverify: set sslverify in conf_file",
  validate_certs: "tickless's dnf does not take validate_certs: set sslverify in conf_file",
  update_only: "tickless's dnf does not take update_only",
};

/** The properties dnf, yum and package share (yum adds `use_backend`, package `use`). */
export const DNF_PROPERTIES: Record<string, unknown> = {
  name: NAME,
  pkg: NAME,
  state: { enum: ["present", "installed", "latest", "absent", "removed"] },
  update_cache: { type: "boolean" },
  "expire-cache": { type: "boolean" },
  disable_gpg_check: { type: "boolean" },
  enablerepo: LIST,
  disablerepo: LIST,
  installroot: { type: "string", minLength: 1 },
  conf_file: { type: "string", minLength: 1 },
  autoremove: { type: "boolean" },
  ...Object.fromEntries(Object.entries(NOT_BUILT).map(([k, description]) => [k, { not: {}, description }])),
};

/** Ansible's rule: autoremove alone or with state absent. */
export const DNF_RULES: Record<string, unknown>[] = [
  {
    if: { required: ["autoremove", "state"], properties: { autoremove: { const: true } } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then
    then: { properties: { state: { enum: ["absent", "removed"] } } },
    description: "autoremove should be used alone or with state=absent",
  },
  { not: { required: ["name", "pkg"] }, description: "name and pkg are one option: give one" },
];

export const DNF_SCHEMA: Record<string, unknown> = {
  type: "object",
  properties: DNF_PROPERTIES,
  additionalProperties: false,
  allOf: DNF_RULES,
};

/** Ansible's `list` of `str`: a string split on commas, every item trimmed, empty ones dropped. */
function listOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value.map(String) : String(value).split(",");
  return items.map((s) => s.trim()).filter((s) => s !== "");
}

/** The written arguments with aliases resolved and Ansible's defaults filled in (pure). */
export function normalizeDnf(written: Record<string, unknown>): DnfArgs {
  const a = resolveAliases(written, ALIASES);
  const autoremove = a.autoremove === true;
  const state = a.state as string | undefined;
  const normal: DnfState =
    state === undefined
      ? autoremove
        ? "absent"
        : "present"
      : state === "installed"
        ? "present"
        : state === "removed"
          ? "absent"
          : (state as DnfState);
  return {
    name: listOf(a.name),
    state: normal,
    update_cache: a.update_cache === true,
    disable_gpg_check: a.disable_gpg_check === true,
    enablerepo: listOf(a.enablerepo),
    disablerepo: listOf(a.disablerepo),
    installroot: (a.installroot as string | undefined) ?? "/",
    conf_file: a.conf_file as string | undefined,
    autoremove,
  };
}
