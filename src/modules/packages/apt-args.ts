/**
 * The `apt` module's arguments: Ansible's names and aliases (`pkg`, `package`, `update-cache` …),
 * the schema checked when the playbook is loaded, and the normalized form the module runs on.
 * Options tickless does not implement (`upgrade`, `default_release`, `policy_rc_d` …) and the
 * states `build-dep` and `fixed` are refused at load time, with a hint.
 */
import { mutuallyExclusive, resolveAliases } from "../util/args.js";

export type AptState = "present" | "absent" | "latest";

/** What the module runs on: aliases resolved, `name` a list of trimmed specs. */
export interface AptArgs {
  name: string[];
  state: AptState;
  update_cache: boolean;
  cache_valid_time: number;
  purge: boolean;
  install_recommends?: boolean;
  deb?: string;
  force: boolean;
  allow_downgrade: boolean;
  autoremove: boolean;
  lock_timeout: number;
}

const ALIASES: Record<string, string> = {
  pkg: "name",
  package: "name",
  "update-cache": "update_cache",
  "install-recommends": "install_recommends",
  "allow-downgrade": "allow_downgrade",
  allow_downgrades: "allow_downgrade",
  "allow-downgrades": "allow_downgrade",
};

/** A package spec: `name`, `name=version` (fnmatch wildcards allowed in both parts). */
const SPEC = {
  type: "string",
  minLength: 1,
  not: { pattern: ">=" },
  description: "a package name or name=version (tickless's apt does not take name>=version)",
};

const NAME = {
  anyOf: [SPEC, { type: "array", items: SPEC }],
  description:
    "a package name, a comma-separated list or a list of names (name=version pins one; name>=version is not taken)",
};

const PACKAGE_NAMES = ["name", "pkg", "package"];

/** The properties apt and package share (package adds `use`). */
export const APT_PROPERTIES: Record<string, unknown> = {
  ...Object.fromEntries(PACKAGE_NAMES.map((n) => [n, NAME])),
  state: {
    enum: ["present", "absent", "latest", "build-dep", "fixed"],
    not: { enum: ["build-dep", "fixed"] },
    description: "present, absent or latest (tickless's apt does not run build-dep or fixed)",
  },
  update_cache: { type: "boolean" },
  "update-cache": { type: "boolean" },
  cache_valid_time: { type: "integer", minimum: 0 },
  purge: { type: "boolean" },
  install_recommends: { type: "boolean" },
  "install-recommends": { type: "boolean" },
  deb: {
    type: "string",
    minLength: 1,
    not: { pattern: "://" },
    description: "the path of a .deb file on the host (tickless does not download one from a URL)",
  },
  force: { type: "boolean" },
  allow_downgrade: { type: "boolean" },
  "allow-downgrade": { type: "boolean" },
  allow_downgrades: { type: "boolean" },
  "allow-downgrades": { type: "boolean" },
  autoremove: { type: "boolean" },
  lock_timeout: { type: "integer", minimum: 0 },
};

/** Ansible's rules: one of the names, deb or update_cache; deb never with a name. */
export const APT_RULES: Record<string, unknown>[] = [
  ...mutuallyExclusive(["deb", "name"]),
  ...mutuallyExclusive(["deb", "pkg"]),
  ...mutuallyExclusive(["deb", "package"]),
];

/** Ansible's required_one_of, described as one rule. */
export const APT_ONE_OF = {
  anyOf: ["autoremove", "deb", ...PACKAGE_NAMES, "update_cache", "update-cache"].map((n) => ({
    required: [n],
  })),
  description: "one of name (pkg, package), deb, update_cache or autoremove",
};

export const APT_SCHEMA: Record<string, unknown> = {
  type: "object",
  properties: APT_PROPERTIES,
  additionalProperties: false,
  allOf: [...APT_RULES, APT_ONE_OF],
};

/** Ansible's `list` of `str`: a string is split on commas, every spec trimmed, `*` dropped. */
export function packageSpecs(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value.map(String) : String(value).split(",");
  return items.map((s) => s.trim()).filter((s) => s !== "" && s !== "*");
}

/** The written arguments with aliases resolved and Ansible's defaults filled in (pure). */
export function normalizeApt(written: Record<string, unknown>): AptArgs {
  const a = resolveAliases(written, ALIASES);
  return {
    name: packageSpecs(a.name),
    state: (a.state as AptState | undefined) ?? "present",
    update_cache: a.update_cache === true,
    cache_valid_time: (a.cache_valid_time as number | undefined) ?? 0,
    purge: a.purge === true,
    install_recommends: a.install_recommends as boolean | undefined,
    deb: a.deb as string | undefined,
    force: a.force === true,
    allow_downgrade: a.allow_downgrade === true,
    autoremove: a.autoremove === true,
    lock_timeout: (a.lock_timeout as number | undefined) ?? 60,
  };
}
