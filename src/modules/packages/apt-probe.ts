/**
 * The `apt` module's reading of the host (read-only): the cache's age, each package's status and,
 * from them, what apt-get would do (apt-plan.ts). In check mode it also asks apt-get or dpkg to
 * simulate that, as Ansible's check mode does, for the output the result carries.
 */
import type { HostReader, RunResult } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { AptArgs } from "./apt-args.js";
import {
  AUTOREMOVE_CHANGED,
  autoremoveCommand,
  cacheDue,
  debCommand,
  debInstalled,
  expandSpecs,
  installCommand,
  isWildcard,
  NoCandidate,
  NoPackage,
  planInstall,
  planRemove,
  removeCommand,
  splitSpec,
} from "./apt-plan.js";
import {
  type CacheStatus,
  type DebStatus,
  debScript,
  PKGNAMES_COMMAND,
  parseDeb,
  parseStatus,
  statusScript,
} from "./apt-status.js";

/** What the module found, and what it would have apt-get or dpkg do. */
export interface AptState {
  cache: CacheStatus;
  /** The cache is to be updated first (update_cache / cache_valid_time). */
  cacheDue: boolean;
  /** `name=version` specs apt-get installs. */
  install: string[];
  /** Specs apt-get removes. */
  remove: string[];
  /** The names given (after wildcards), which apt-mark marks as manually installed. */
  names: string[];
  /** The .deb's status, for `deb:`. */
  deb?: DebStatus;
  /** `autoremove` with no package named would remove something. */
  autoremove: boolean;
  /** A package not known before the cache update: decided again after it. */
  pending?: string;
  /** The simulated run (check mode only). */
  simulated?: RunResult;
}

/** Ansible's apt environment: no questions, a parsable locale. */
export const APT_ENV =
  "DEBIAN_FRONTEND=noninteractive DEBIAN_PRIORITY=critical LANG=C.UTF-8 LC_ALL=C.UTF-8 LC_MESSAGES=C.UTF-8 LC_CTYPE=C.UTF-8";

/** Runs an apt command with Ansible's environment. */
export function runApt(host: HostReader, command: string): Promise<RunResult> {
  return host.run(`${APT_ENV} ${command}`);
}

function taskError(message: string, fields?: Record<string, unknown>): TicklessError {
  return new TicklessError("TASK", message, fields ? { fields } : {});
}

async function checked(host: HostReader, command: string, what: string): Promise<string> {
  const r = await host.run(command);
  if (r.rc !== 0) throw taskError(`${what} failed (rc ${r.rc}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** The package names behind the specs (wildcards expanded against apt's names). */
async function specsOf(host: HostReader, args: AptArgs): Promise<string[]> {
  if (!args.name.some(isWildcard)) return args.name;
  const known = (await checked(host, PKGNAMES_COMMAND, "apt-cache pkgnames")).split("\n").filter(Boolean);
  const specs = expandSpecs(args.name, known);
  if (!Array.isArray(specs)) throw taskError(`No package(s) matching '${specs.missing}' available`);
  return specs;
}

async function probeDeb(host: HostReader, args: AptArgs, check: boolean): Promise<AptState> {
  const r = await host.run(debScript(args.deb as string));
  if (r.rc !== 0) throw taskError(`Unable to install package: ${r.stderr.trim() || `rc ${r.rc}`}`);
  const deb = parseDeb(r.stdout);
  const todo = !debInstalled(deb);
  if (todo && deb.later && !args.force && !args.allow_downgrade)
    throw taskError("A later version is already installed");
  const state: AptState = {
    cache: deb.cache,
    cacheDue: cacheDue(args, deb.cache),
    install: [],
    remove: [],
    names: [],
    deb,
    autoremove: false,
  };
  if (check && todo) state.simulated = await host.run(debCommand(args, true));
  return state;
}

/**
 * Reads the host and decides. A package apt does not know fails the task as in Ansible, except
 * outside check mode when the cache is updated first: then it is decided again after the update.
 */
export async function probeApt(
  host: HostReader,
  args: AptArgs,
  check: boolean,
  afterUpdate = false,
): Promise<AptState> {
  if (args.deb !== undefined) return probeDeb(host, args, check);
  const specs = await specsOf(host, args);
  const names = specs.map((s) => splitSpec(s).name);
  const r = await host.run(statusScript(names));
  if (r.rc !== 0) throw taskError(`reading the package status failed (rc ${r.rc}): ${r.stderr.trim()}`);
  const { cache, packages } = parseStatus(r.stdout);
  const due = !afterUpdate && cacheDue(args, cache);
  const state: AptState = { cache, cacheDue: due, install: [], remove: [], names, autoremove: false };
  const fields = { cache_updated: due, cache_update_time: Math.floor(cache.mtime) };
  try {
    if (args.state === "absent") state.remove = planRemove(specs, packages, args.purge);
    else if (specs.length > 0) state.install = planInstall(specs, packages, args.state === "latest");
  } catch (e) {
    if (!(e instanceof NoPackage || e instanceof NoCandidate)) throw e;
    if (due && !check) state.pending = e.message;
    else throw taskError(e.message, e instanceof NoCandidate ? fields : undefined);
  }
  if (args.autoremove && specs.length === 0) {
    const sim = await runApt(host, autoremoveCommand(cache.aptGet, args, true));
    state.autoremove = sim.stdout.includes(AUTOREMOVE_CHANGED);
  }
  if (check) state.simulated = await simulate(host, args, state);
  return state;
}

async function simulate(host: HostReader, args: AptArgs, s: AptState): Promise<RunResult | undefined> {
  const command =
    s.install.length > 0
      ? installCommand(s.cache.aptGet, args, s.install, true)
      : s.remove.length > 0
        ? removeCommand(s.cache.aptGet, args, s.remove, true)
        : undefined;
  if (command === undefined) return undefined;
  const r = await runApt(host, command);
  if (r.rc !== 0) {
    const msg =
      s.remove.length > 0
        ? `'apt-get remove ${quoted(s.remove)}' failed: ${r.stderr}`
        : `'${command}' failed: ${r.stderr}`;
    throw new TicklessError("TASK", msg, { output: { rc: r.rc, stdout: r.stdout, stderr: r.stderr } });
  }
  return r;
}

/** Specs as Ansible writes them in its messages: `'a' 'b'`. */
export function quoted(specs: readonly string[]): string {
  return specs.map((s) => `'${s}'`).join(" ");
}
