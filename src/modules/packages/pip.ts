/**
 * `pip`: Python distributions installed, upgraded, reinstalled or removed with the host's pip, as
 * Ansible's pip module does it: the same pip (`executable`, the virtualenv's, else the Python
 * interpreter's), the virtualenv made first when missing, the same command line (requirements
 * rebuilt from `name` and `version`, `extra_args`, `-r requirements`), `changed` read from pip's
 * words ("Successfully installed", "Successfully uninstalled") or from `pip freeze` before and after,
 * the same result fields and failure words. Like Ansible's module it acts rather than converges, so
 * it is a command-kind module: outside check mode pip always runs; in check mode the probe decides
 * from `pip list --format=freeze` without installing (changed whenever `extra_args`, `requirements`,
 * `state: latest` or a virtualenv still to make leave it unsure), as Ansible's check mode does.
 */

import type { HostReader, HostWriter } from "../../connection/types.js";
import { type Change, defineModule, type ModuleContext, type ModuleResult } from "../types.js";
import { isVcsUrl, normalizePip, PIP_SCHEMA, type PipArgs, recoverNames, requirementOf } from "./pip-args.js";
import {
  expandPaths,
  findPip,
  interpreterOf,
  listPackages,
  makeVirtualenv,
  needsVirtualenv,
  PipExit,
  type PipRun,
  pipFailure,
  runArgv,
  satisfied,
  shlexSplit,
} from "./pip-host.js";

/** What a check-mode probe found: the result Ansible's check mode gives. */
interface PipState {
  result?: ModuleResult;
}

const STATE_ARGS: Record<PipArgs["state"], string[]> = {
  present: ["install"],
  absent: ["uninstall", "-y"],
  latest: ["install", "-U"],
  forcereinstall: ["install", "-U", "--force-reinstall"],
};

/** The steps both modes share, up to the pip command line; a PipExit where the module ends early. */
async function prepare(host: HostReader, written: PipArgs, ctx: ModuleContext, check: boolean) {
  const python = await interpreterOf(host, ctx.vars);
  const args = await expandPaths(host, written, python);
  let umask: number | undefined;
  if (args.umask) {
    if (!/^[0-7]+$/.test(args.umask.trim()))
      throw new PipExit({
        failed: true,
        msg: "umask must be an octal integer",
        details: `invalid literal for int() with base 8: '${args.umask}'`,
      });
    umask = Number.parseInt(args.umask.trim(), 8);
  }
  if (args.state === "latest" && args.version !== undefined)
    throw new PipExit({ failed: true, msg: "version is incompatible with state=latest" });
  const chdir = args.chdir ?? "/tmp";
  let env = args.virtualenv;
  if (env !== undefined && args.chdir !== undefined && !env.startsWith("/"))
    env = `${args.chdir.replace(/\/?$/, "/")}${env}`;
  const run: PipRun = { chdir, umask, pathPrefix: env === undefined ? undefined : `${env}/bin` };
  let out = "";
  let err = "";
  const venvCreated = env !== undefined && (await needsVirtualenv(host, env));
  if (venvCreated) {
    if (check) throw new PipExit({ changed: true });
    ({ out, err } = await makeVirtualenv(host, args, env as string, run, python));
  }
  const pip = await findPip(host, args, env, python);
  const cmd = [...pip, ...STATE_ARGS[args.state]];
  const name = args.name;
  let specs: string[] = [];
  if (name && name.length > 0) {
    const packages = recoverNames(name).map((n) => requirementOf(n));
    if (args.version !== undefined) {
      if (packages.length > 1)
        throw new PipExit({
          failed: true,
          msg:
            "'version' argument is ambiguous when installing multiple package distributions. " +
            "Please specify version restrictions next to each package in 'name' argument.",
        });
      if (packages[0].hasSpecifier)
        throw new PipExit({
          failed: true,
          msg:
            "The 'version' argument conflicts with any version specifier provided along with a package name. " +
            "Please keep the version specifier, but remove the 'version' argument.",
        });
      packages[0] = requirementOf(packages[0].text, args.version);
    }
    specs = packages.map((p) => p.text);
  }
  let extra = args.extra_args;
  if (args.editable) {
    const list = extra ? extra.split(" ") : [];
    if (!list.includes("-e")) extra = [...list, "-e"].join(" ");
  }
  if (extra) cmd.push(...shlexSplit(extra));
  if (specs.length > 0) cmd.push(...specs);
  else if (args.requirements !== undefined) cmd.push("-r", args.requirements);
  else throw new PipExit({ changed: false, warnings: ["No valid name or requirements file found."] });
  const hasVcs = (name ?? []).some((n) => n !== "" && isVcsUrl(n));
  return { cmd, pip, specs, run, python, env, out, err, extra, venvCreated, hasVcs };
}

/** Ansible's check mode: changed when unsure, else decided from `pip list` without installing. */
async function checkPip(host: HostReader, args: PipArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const p = await prepare(host, args, ctx, true);
  if (p.extra || args.requirements !== undefined || args.state === "latest" || p.specs.length === 0)
    return { changed: true };
  const listed = await listPackages(host, p.pip, p.run);
  const out = p.out + listed.out;
  const installed = out
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("You are using") && !l.startsWith("You should consider"));
  const present = await satisfied(host, p.python, p.specs, installed);
  const changed = present.some((is) => (args.state === "present" && !is) || (args.state === "absent" && is));
  return { changed, cmd: listed.cmd, stdout: out, stderr: p.err + listed.err };
}

async function applyPip(host: HostWriter, args: PipArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const p = await prepare(host, args, ctx, false);
  const before =
    args.requirements !== undefined || p.hasVcs ? (await listPackages(host, p.pip, p.run)).out : undefined;
  const r = await runArgv(host, p.cmd, p.run);
  const out = p.out + r.stdout;
  const err = p.err + r.stderr;
  const notInstalled = r.stdout.includes("not installed") || r.stderr.includes("not installed");
  if (r.rc !== 0 && !(r.rc === 1 && args.state === "absent" && notInstalled))
    throw pipFailure(p.cmd, out, err);
  let changed: boolean;
  if (args.state === "absent") changed = r.stdout.includes("Successfully uninstalled");
  else if (before === undefined) changed = r.stdout.includes("Successfully installed");
  else changed = before !== (await listPackages(host, p.pip, p.run)).out;
  return {
    changed: changed || p.venvCreated,
    cmd: p.cmd,
    name: args.name ?? null,
    version: args.version ?? null,
    state: args.state,
    requirements: args.requirements ?? null,
    virtualenv: p.env ?? null,
    stdout: out,
    stderr: err,
  };
}

/** A PipExit is the module's result (unchanged unless it says otherwise); anything else is thrown on. */
async function failing(work: () => Promise<ModuleResult>): Promise<ModuleResult> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof PipExit) return { changed: false, ...e.result };
    throw e;
  }
}

export const pipModule = defineModule<PipArgs, PipState>({
  name: "pip",
  kind: "command",
  description:
    "Install, upgrade or remove Python distributions with pip (virtualenvs too), as Ansible's pip module.",
  args: PIP_SCHEMA,
  normalize: (written) => normalizePip(written as unknown as Record<string, unknown>),
  probe: async (host, args, ctx, check) =>
    check ? { result: await failing(() => checkPip(host, args, ctx)) } : {},
  plan: (): Change[] => [{ target: "pip", summary: "run pip" }],
  checkReport: (_args, s) => s.result ?? { changed: true },
  apply: (host, args, ctx) => failing(() => applyPip(host, args, ctx)),
});
