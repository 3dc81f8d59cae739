/**
 * `dnf`: RPM packages present, at their latest version or absent, as Ansible's dnf module, driven
 * through the host's dnf command line: the same decisions (dnf-plan.ts), Ansible's result fields
 * (`msg`, `results`, `rc`, `changed`, `failures`) and words ("Nothing to do", "No package X
 * available.", "Check mode: No changes made, but would have if not in check mode"). The probe reads
 * `rpm -qa` and asks dnf for each transaction with `--assumeno` (resolved, nothing done); nothing to
 * do is `ok`; check mode reports the transaction; apply runs it. Needs root: `become: true`.
 */
import type { HostReader, HostWriter, RunResult } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { type Change, defineModule, type ModuleResult } from "../types.js";
import { DNF_SCHEMA, type DnfArgs, normalizeDnf } from "./dnf-args.js";
import {
  type DnfStep,
  dnfErrors,
  makecacheCommand,
  parseRpms,
  parseTransaction,
  planSteps,
  type Rpm,
  releaseCommand,
  releaseverWarning,
  resultLines,
  rpmQuery,
  stepCommand,
  type TxPackage,
  unmatched,
} from "./dnf-plan.js";

/** What the module found, and the transactions dnf would run. */
export interface DnfProbe {
  rpms: Rpm[];
  steps: DnfStep[];
  tx: TxPackage[];
  /** Ansible's results besides the transaction's ("x* is not installed"). */
  notes: string[];
  warnings: string[];
  /** `update_cache` with nothing named: the cache was fetched, nothing else is done. */
  cacheOnly: boolean;
}

/** dnf in the C locale, whose words the module reads. */
export function runDnf(host: HostReader, command: string): Promise<RunResult> {
  return host.run(`LC_ALL=C LANG=C ${command}`);
}

function failure(msg: string, fields: Record<string, unknown>): TicklessError {
  return new TicklessError("TASK", msg, { fields: { results: [], rc: 1, ...fields } });
}

async function requireDnf(host: HostReader): Promise<void> {
  const r = await host.run("command -v dnf");
  if (r.rc !== 0)
    throw new TicklessError("TASK", "dnf not found on the host", {
      hint: "tickless's dnf, yum and package (on a dnf or yum host) drive the dnf command: install dnf",
    });
}

/** Reads the host and asks dnf, without acting, what each transaction would be. */
export async function probeDnf(host: HostReader, args: DnfArgs): Promise<DnfProbe> {
  await requireDnf(host);
  const release = await host.run(releaseCommand(args));
  const warnings = releaseverWarning(release.stdout);
  const s: DnfProbe = { rpms: [], steps: [], tx: [], notes: [], warnings, cacheOnly: false };
  if (args.name.length === 0 && !args.autoremove) {
    if (!args.update_cache) return s;
    const r = await runDnf(host, makecacheCommand(args));
    if (r.rc !== 0)
      throw failure(`Failed to update the cache: ${dnfErrors(r.stderr) || r.stderr.trim()}`, {});
    s.cacheOnly = true;
    return s;
  }
  const q = await host.run(rpmQuery(args));
  if (q.rc !== 0) throw failure(`rpm --root ${args.installroot} -qa failed: ${q.stderr.trim()}`, {});
  s.rpms = parseRpms(q.stdout);
  s.steps = planSteps(args, s.rpms);
  const failures: string[] = [];
  for (const step of s.steps) {
    const r = await runDnf(host, stepCommand(args, step, true));
    const output = `${r.stdout}\n${r.stderr}`;
    // no repository left enabled (disablerepo): dnf stops, where Ansible finds no package to install
    const noRepo = step.verb !== "remove" && output.includes("There are no enabled repositories");
    const missing = noRepo ? (step.verb === "install" ? step.specs : []) : unmatched(output);
    if (step.verb === "remove") s.notes.push(...missing.map((m) => `${m} is not installed`));
    else failures.push(...missing.map((m) => `No package ${m} available.`));
    if (r.rc !== 0 && !noRepo && !output.includes("Operation aborted.") && missing.length === 0)
      throw failure(`Unknown Error occurred: ${dnfErrors(output) || r.stderr.trim()}`, {
        failures: [],
        warnings: s.warnings,
      });
    s.tx.push(...parseTransaction(r.stdout));
  }
  if (failures.length > 0)
    throw failure("Failed to install some of the specified packages", { failures, warnings: s.warnings });
  return s;
}

/** One change a package of the transaction (pure). */
export function planDnf(_args: DnfArgs, s: DnfProbe): Change[] {
  return s.tx.map((p) =>
    p.action === "remove"
      ? { target: `package:${p.name}`, summary: "remove", before: p.nevra }
      : { target: `package:${p.name}`, summary: p.action, after: p.nevra },
  );
}

function warned(s: DnfProbe): ModuleResult {
  return s.warnings.length > 0 ? { warnings: s.warnings } : {};
}

/** Nothing to do: Ansible's `ok` result. */
export function reportDnf(_args: DnfArgs, s: DnfProbe): ModuleResult {
  const msg = s.cacheOnly ? "Cache updated" : "Nothing to do";
  return { msg, results: s.notes, rc: 0, ...warned(s) };
}

/** Check mode: the transaction dnf resolved, nothing done. */
export function checkDnf(_args: DnfArgs, s: DnfProbe): ModuleResult {
  return {
    msg: "Check mode: No changes made, but would have if not in check mode",
    changed: true,
    results: [...s.notes, ...resultLines(s.tx, s.rpms)],
    rc: 0,
    ...warned(s),
  };
}

/** Runs the transactions the probe resolved. */
export async function applyDnf(host: HostWriter, args: DnfArgs): Promise<ModuleResult> {
  const s = await probeDnf(host, args);
  for (const step of s.steps) {
    const r = await runDnf(host, stepCommand(args, step, false));
    if (r.rc !== 0) {
      const errors = dnfErrors(`${r.stdout}\n${r.stderr}`) || r.stderr.trim();
      return {
        failed: true,
        msg: "Failed to install some of the specified packages",
        failures: [errors],
        results: [],
        rc: 1,
        ...warned(s),
      };
    }
  }
  return { msg: "", changed: true, results: [...s.notes, ...resultLines(s.tx, s.rpms)], rc: 0, ...warned(s) };
}

export const dnfModule = defineModule<DnfArgs, DnfProbe>({
  name: "dnf",
  kind: "command",
  description: "Install, upgrade or remove RPM packages (the dnf command), as Ansible's dnf module.",
  args: DNF_SCHEMA,
  normalize: (written) => normalizeDnf(written as unknown as Record<string, unknown>),
  probe: (host, args) => probeDnf(host, args),
  plan: planDnf,
  report: reportDnf,
  checkReport: checkDnf,
  apply: (host, args) => applyDnf(host, args),
});
