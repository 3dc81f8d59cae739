/**
 * The `apt` module's decisions, pure: which specs apt-get installs or removes, from each package's
 * status, as Ansible's apt module decides them (its package_status / install / remove), and the
 * apt-get and dpkg command lines it runs, with Ansible's options.
 */
import { quote } from "shell-quote";
import { fnmatch } from "../util/fnmatch.js";
import type { AptArgs } from "./apt-args.js";
import type { CacheStatus, DebStatus, PackageStatus } from "./apt-status.js";

/** A spec's package name and, for `name=version`, the version pattern. */
export function splitSpec(spec: string): { name: string; version?: string } {
  const i = spec.indexOf("=");
  return i < 0 ? { name: spec } : { name: spec.slice(0, i), version: spec.slice(i + 1) };
}

/** A spec names several packages when its name holds a wildcard. */
export function isWildcard(spec: string): boolean {
  return /[*?[\]!]/.test(splitSpec(spec).name);
}

/**
 * Wildcard specs → the matching names (native ones only unless the pattern names an architecture),
 * as Ansible's expand_pkgspec_from_fnmatches; a wildcard that matches nothing is its error.
 */
export function expandSpecs(
  specs: readonly string[],
  known: readonly string[],
): string[] | { missing: string } {
  const out: string[] = [];
  for (const spec of specs) {
    if (!isWildcard(spec)) {
      out.push(spec);
      continue;
    }
    const pattern = splitSpec(spec).name;
    const pool = pattern.includes(":") ? known : known.filter((n) => !n.includes(":"));
    const matches = pool.filter((n) => fnmatch(n, pattern));
    if (matches.length === 0) return { missing: pattern };
    out.push(...matches);
  }
  return out;
}

/** Ansible's package_status: installed, the asked version installed, and the version to install. */
export function packageStatus(p: PackageStatus, version: string | undefined) {
  const installed = p.installed !== undefined;
  // the version apt would pick: with `=pattern`, the highest that matches (Ansible pins it at 1001)
  const best = version === undefined ? p.candidate : p.versions.find((v) => fnmatch(v, version));
  if (!installed) return { installed, versionInstalled: false, installable: best };
  const current = p.installed as string;
  const versionInstalled = version === undefined || fnmatch(current, version);
  const installable =
    best !== undefined && best !== current && (version === undefined || fnmatch(best, version))
      ? best
      : undefined;
  return { installed, versionInstalled, installable };
}

/**
 * Ansible's install(): the `name=version` specs apt-get is given (empty: nothing to do); throws
 * NoPackage or NoCandidate where Ansible fails.
 */
export function planInstall(
  specs: readonly string[],
  statuses: readonly PackageStatus[],
  latest: boolean,
): string[] {
  const out: string[] = [];
  specs.forEach((spec, i) => {
    const { name, version } = splitSpec(spec);
    const p = statuses[i];
    if (p.versions.length === 0 && p.installed === undefined) {
      // not a real package: apt-get resolves a provided (virtual) one by itself
      if (!p.provided) throw new NoPackage(name);
      out.push(version === undefined ? name : `${name}=${version}`);
      return;
    }
    const s = packageStatus(p, version);
    if (!s.versionInstalled && s.installable === undefined) throw new NoCandidate(spec);
    if (s.installable !== undefined && (!s.installed || latest || !s.versionInstalled)) {
      out.push(`${name}=${s.installable}`);
    } else if (s.versionInstalled && s.installable !== undefined && version !== undefined) {
      out.push(`${name}=${version}`);
    }
  });
  return out;
}

/** Ansible's remove(): the specs installed (or, with purge, leaving files) that apt-get removes. */
export function planRemove(
  specs: readonly string[],
  statuses: readonly PackageStatus[],
  purge: boolean,
): string[] {
  return specs.filter((spec, i) => {
    const p = statuses[i];
    const { version } = splitSpec(spec);
    const versionInstalled =
      p.installed !== undefined && (version === undefined || fnmatch(p.installed, version));
    return versionInstalled || (purge && p.dpkg !== "" && p.dpkg !== "not-installed");
  });
}

/** The failure Ansible reports for a name apt does not know. */
export class NoPackage extends Error {
  constructor(readonly pkg: string) {
    super(`No package matching '${pkg}' is available`);
  }
}

/** The failure Ansible reports for a package with no version to install. */
export class NoCandidate extends Error {
  constructor(readonly spec: string) {
    super(`no available installation candidate for ${spec}`);
  }
}

/** Whether Ansible updates the cache: asked for, and older than cache_valid_time. */
export function cacheDue(args: AptArgs, cache: CacheStatus): boolean {
  if (!args.update_cache && args.cache_valid_time === 0) return false;
  return cache.mtime + args.cache_valid_time < cache.now;
}

/** Whether the .deb is installed already at its version. */
export function debInstalled(d: DebStatus): boolean {
  return d.installed === d.version;
}

const DPKG_OPTIONS = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"];

function lockOption(args: AptArgs): string[] {
  return ["-o", `DPkg::Lock::Timeout=${args.lock_timeout}`];
}

/** apt-get install, with Ansible's options in Ansible's order; `simulate` for check mode. */
export function installCommand(
  aptGet: string,
  args: AptArgs,
  specs: readonly string[],
  simulate: boolean,
): string {
  const argv = [aptGet, "-y", ...DPKG_OPTIONS, ...lockOption(args)];
  if (args.force) argv.push("--force-yes");
  if (args.autoremove) argv.push("--auto-remove");
  if (simulate) argv.push("--simulate");
  argv.push("install", ...specs);
  if (args.install_recommends !== undefined)
    argv.push("-o", `APT::Install-Recommends=${args.install_recommends ? "yes" : "no"}`);
  if (args.allow_downgrade) argv.push("--allow-downgrades");
  return quote(argv);
}

/** apt-get remove (with --purge, --auto-remove as asked). */
export function removeCommand(
  aptGet: string,
  args: AptArgs,
  specs: readonly string[],
  simulate: boolean,
): string {
  const argv = [aptGet, "-q", "-y", ...DPKG_OPTIONS, ...lockOption(args)];
  if (args.purge) argv.push("--purge");
  if (args.force) argv.push("--force-yes");
  if (args.autoremove) argv.push("--auto-remove");
  if (simulate) argv.push("--simulate");
  argv.push("remove", ...specs);
  return quote(argv);
}

/** apt-get autoremove, for `autoremove: true` with no package named. */
export function autoremoveCommand(aptGet: string, args: AptArgs, simulate: boolean): string {
  const argv = [aptGet, "-y", ...DPKG_OPTIONS, ...lockOption(args)];
  if (args.purge) argv.push("--purge");
  if (args.force) argv.push("--force-yes");
  argv.push("autoremove", ...(simulate ? ["--simulate"] : []));
  return quote(argv);
}

/** dpkg -i of the file, with Ansible's dpkg options. */
export function debCommand(args: AptArgs, simulate: boolean): string {
  const argv = ["dpkg", "--force-confdef", "--force-confold"];
  if (simulate) argv.push("--simulate");
  if (args.force) argv.push("--force-all");
  argv.push("-i", args.deb as string);
  return quote(argv);
}

/** What apt-get prints when autoremove removes something (Ansible's test for `changed`). */
export const AUTOREMOVE_CHANGED = "The following packages will be REMOVED";
