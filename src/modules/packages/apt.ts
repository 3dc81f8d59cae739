/**
 * `apt`: Debian packages present, at their latest version or absent (with `purge`), a local `.deb`
 * installed, the cache updated (`update_cache`, `cache_valid_time`), as Ansible's apt module does
 * it: the same decisions (apt-plan.ts), apt-get and dpkg with Ansible's options and environment,
 * the same result fields (`cache_updated`, `cache_update_time`, `stdout`, `stderr`) and failure
 * words ("No package matching 'x' is available"). Like Ansible's module it acts rather than
 * converges (with `update_cache` and no `cache_valid_time` the cache is updated on every run), so
 * it is a command-kind module whose probe decides: nothing to do is `ok`; in check mode apt-get
 * `--simulate` (dpkg `--simulate` for a .deb) runs instead and its output is the result's. apt-get
 * waits up to `lock_timeout` seconds for the dpkg lock. Needs root: `become: true`.
 */
import { quote } from "shell-quote";
import type { HostWriter } from "../../connection/types.js";
import { type Change, defineModule, type ModuleResult } from "../types.js";
import { APT_SCHEMA, type AptArgs, normalizeApt } from "./apt-args.js";
import {
  AUTOREMOVE_CHANGED,
  autoremoveCommand,
  debCommand,
  installCommand,
  removeCommand,
} from "./apt-plan.js";
import { type AptState, probeApt, quoted, runApt } from "./apt-probe.js";
import { parseStatus, statusScript } from "./apt-status.js";

/** The changes the probe found (pure): cache update, installs, removals, the .deb. */
export function planApt(args: AptArgs, s: AptState): Change[] {
  const changes: Change[] = [];
  if (s.cacheDue) changes.push({ target: "apt:cache", summary: "update the package cache" });
  if (s.pending) changes.push({ target: "apt:packages", summary: "decide after the cache update" });
  for (const spec of s.install) changes.push({ target: `package:${spec}`, summary: "install", after: spec });
  for (const spec of s.remove)
    changes.push({ target: `package:${spec}`, summary: args.purge ? "purge" : "remove", before: spec });
  if (s.deb && s.deb.installed !== s.deb.version)
    changes.push({ target: `package:${s.deb.name}`, summary: `install ${args.deb}`, after: s.deb.version });
  if (s.autoremove) changes.push({ target: "apt:autoremove", summary: "remove unneeded packages" });
  return changes;
}

/** The cache fields Ansible puts on an install's result (not on a removal's or a .deb's). */
function cacheFields(args: AptArgs, s: AptState, updated: boolean): ModuleResult {
  return args.state === "absent" || s.deb || s.autoremove
    ? {}
    : { cache_updated: updated, cache_update_time: Math.floor(s.cache.mtime) };
}

/** Nothing to do: Ansible's `ok` result. */
function reportApt(args: AptArgs, s: AptState): ModuleResult {
  if (s.deb) return { msg: undefined, stdout: "", stderr: "" };
  if (args.state === "absent" && args.name.length > 0) return { msg: undefined };
  return { msg: undefined, ...cacheFields(args, s, false) };
}

/** Check mode: what apt-get (or dpkg) said it would do. */
function checkApt(args: AptArgs, s: AptState): ModuleResult {
  const out = s.simulated ? { stdout: s.simulated.stdout, stderr: s.simulated.stderr } : {};
  const debTodo = s.deb !== undefined && s.deb.installed !== s.deb.version;
  const changed = s.install.length + s.remove.length > 0 || debTodo || s.autoremove;
  const onlyCache = args.name.length === 0 && !s.deb && !args.autoremove;
  return { ...out, changed: changed || (onlyCache && s.cacheDue), ...cacheFields(args, s, s.cacheDue) };
}

/** `apt-get update`; the new cache time, or the failure Ansible reports. */
async function updateCache(host: HostWriter, s: AptState): Promise<{ mtime: number } | ModuleResult> {
  const r = await runApt(host, `${s.cache.aptGet} update -q`);
  if (r.rc !== 0)
    return { failed: true, msg: `Failed to update apt cache: ${r.stderr.trim() || "unknown reason"}` };
  const after = parseStatus((await host.run(statusScript([]))).stdout);
  return { mtime: after.cache.mtime };
}

async function applyApt(host: HostWriter, args: AptArgs): Promise<ModuleResult> {
  let s = await probeApt(host, args, false);
  let updated = false;
  if (s.cacheDue) {
    const u = await updateCache(host, s);
    if (typeof u.mtime !== "number") return u;
    // Ansible compares the whole seconds
    updated = Math.floor(u.mtime) !== Math.floor(s.cache.mtime);
    s = await probeApt(host, args, false, true);
    s.cache.mtime = u.mtime;
  }
  const cache = cacheFields(args, s, updated);
  if (s.deb) {
    if (s.deb.installed === s.deb.version) return { changed: false, stdout: "", stderr: "" };
    const cmd = debCommand(args, false);
    const r = await runApt(host, cmd);
    if (r.rc !== 0) return { failed: true, msg: `${cmd} failed`, stdout: r.stdout, stderr: r.stderr };
    return { changed: true, stdout: r.stdout, stderr: r.stderr };
  }
  if (args.name.length === 0 && !args.autoremove) return { changed: updated, ...cache };
  if (args.name.length === 0) {
    const cmd = autoremoveCommand(s.cache.aptGet, args, false);
    const r = await runApt(host, cmd);
    if (r.rc !== 0)
      return {
        failed: true,
        msg: `'apt-get autoremove' failed: ${r.stderr}`,
        stdout: r.stdout,
        stderr: r.stderr,
        rc: r.rc,
      };
    return { changed: r.stdout.includes(AUTOREMOVE_CHANGED), stdout: r.stdout, stderr: r.stderr };
  }
  if (args.state === "absent") {
    if (s.remove.length === 0) return { changed: false };
    const r = await runApt(host, removeCommand(s.cache.aptGet, args, s.remove, false));
    if (r.rc !== 0)
      return {
        failed: true,
        msg: `'apt-get remove ${quoted(s.remove)}' failed: ${r.stderr}`,
        stdout: r.stdout,
        stderr: r.stderr,
        rc: r.rc,
      };
    return { changed: true, stdout: r.stdout, stderr: r.stderr };
  }
  if (s.install.length === 0) return { changed: false, ...cache };
  const cmd = installCommand(s.cache.aptGet, args, s.install, false);
  const r = await runApt(host, cmd);
  if (r.rc !== 0)
    return {
      failed: true,
      msg: `'${cmd}' failed: ${r.stderr}`,
      stdout: r.stdout,
      stderr: r.stderr,
      rc: r.rc,
      ...cache,
    };
  await runApt(host, quote(["apt-mark", "manual", ...s.names]));
  return { changed: true, stdout: r.stdout, stderr: r.stderr, ...cache };
}

export const aptModule = defineModule<AptArgs, AptState>({
  name: "apt",
  kind: "command",
  description: "Install, upgrade or remove Debian packages (apt-get, dpkg), as Ansible's apt module.",
  args: APT_SCHEMA,
  normalize: (written) => normalizeApt(written as unknown as Record<string, unknown>),
  probe: (host, args, _ctx, check) => probeApt(host, args, check === true),
  plan: planApt,
  report: reportApt,
  checkReport: checkApt,
  apply: (host, args) => applyApt(host, args),
});
