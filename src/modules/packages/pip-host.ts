/**
 * What the `pip` module asks of the host, as Ansible's module asks it: which pip to run (`executable`,
 * the virtualenv's pip3 or pip, else the Python interpreter's `-m pip.__main__`), the virtualenv made
 * when `<virtualenv>/bin/activate` is missing, `pip list --format=freeze` (or `pip freeze`), and
 * whether installed distributions satisfy requirements (decided on the host by pkg_resources, or
 * pip's own packaging, as the module decides with pkg_resources).
 */
import { quote } from "shell-quote";
import type { HostReader, RunResult } from "../../connection/types.js";
import type { ModuleResult } from "../types.js";
import type { PipArgs } from "./pip-args.js";

/** Where and how every pip command runs: the directory, the umask, the virtualenv's bin first on PATH. */
export interface PipRun {
  chdir: string;
  umask?: number;
  pathPrefix?: string;
}

/** The module's result before its end (a failure in Ansible's words, or its early exit_json), carried out of its steps. */
export class PipExit extends Error {
  constructor(readonly result: ModuleResult) {
    super(String(result.msg));
  }
}

/** Runs argv (quoted, no shell expansion of its words) where `run` says. */
export function runArgv(
  host: HostReader,
  argv: readonly string[],
  run: PipRun,
  env = "",
): Promise<RunResult> {
  const prefix = [
    run.umask === undefined ? "" : `umask ${run.umask.toString(8).padStart(4, "0")} && `,
    `cd ${quote([run.chdir])} && `,
    run.pathPrefix === undefined ? "" : `PATH=${quote([run.pathPrefix])}:"$PATH" `,
    env,
  ].join("");
  return host.run(`${prefix}${quote([...argv])}`);
}

/** Ansible's `_fail`: the output in the message, the command beside it. */
export function pipFailure(cmd: unknown, out: string, err: string): PipExit {
  let msg = "";
  if (out) msg += `stdout: ${out}`;
  if (err) msg += `\n:stderr: ${err}`;
  return new PipExit({ failed: true, cmd, msg });
}

/** The absolute path of `name` on the host's PATH, or undefined. */
async function binPath(host: HostReader, name: string): Promise<string | undefined> {
  const r = await host.run(`command -v ${quote([name])}`);
  const found = r.stdout.trim();
  return r.rc === 0 && found.startsWith("/") ? found : undefined;
}

/** The Python the module would run under: `ansible_python_interpreter`, else /usr/bin/python3 or python3. */
export async function interpreterOf(
  host: HostReader,
  vars: Readonly<Record<string, unknown>>,
): Promise<string> {
  const set = vars.ansible_python_interpreter;
  const candidates = typeof set === "string" && set !== "" ? [set] : ["/usr/bin/python3", "python3"];
  for (const c of candidates) {
    const found = await binPath(host, c);
    if (found) return found;
  }
  return candidates[0];
}

/** Ansible's `_get_pip`: the pip command as argv. */
export async function findPip(host: HostReader, args: PipArgs, env: string | undefined, python: string) {
  if (args.executable?.startsWith("/")) return [args.executable];
  const names = args.executable !== undefined ? [args.executable] : ["pip3"];
  if (args.executable === undefined && env === undefined) {
    const hasPip = await host.run(
      `${quote([python])} -c 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("pip") else 1)'`,
    );
    if (hasPip.rc === 0) return [python, "-m", "pip.__main__"];
  }
  if (env === undefined) {
    for (const n of names) {
      const found = await binPath(host, n);
      if (found) return [found];
    }
    throw new PipExit({
      failed: true,
      msg: `Unable to find any of ${names.join(", ")} to use.  pip needs to be installed.`,
    });
  }
  const inVenv = [names[0], "pip"];
  for (const n of inVenv) {
    const candidate = `${env}/bin/${n}`;
    if ((await host.run(`test -f ${quote([candidate])} && test -x ${quote([candidate])}`)).rc === 0)
      return [candidate];
  }
  throw new PipExit({
    failed: true,
    msg:
      `Unable to find pip in the virtualenv, ${env}, under any of these names: ${inVenv.join(", ")}. ` +
      "Make sure pip is present in the virtualenv.",
  });
}

/** `<env>/bin/activate` is missing: the module makes the virtualenv. */
export async function needsVirtualenv(host: HostReader, env: string): Promise<boolean> {
  return (await host.run(`test -e ${quote([`${env}/bin/activate`])}`)).rc !== 0;
}

/** Ansible's `shlex.split` for the commands it is given (quotes and backslashes, no expansion). */
export function shlexSplit(text: string): string[] {
  const words: string[] = [];
  const re = /"((?:\\.|[^"\\])*)"|'([^']*)'|((?:\\.|[^\s"'\\])+)|(\s+)/g;
  let word: string | undefined;
  for (const m of text.matchAll(re)) {
    if (m[4] !== undefined) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    const piece =
      m[1] !== undefined ? m[1].replace(/\\(["\\$`])/g, "$1") : (m[2] ?? m[3].replace(/\\(.)/g, "$1"));
    word = (word ?? "") + piece;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Ansible's `setup_virtualenv`: the virtualenv command with its options, run; its output. */
export async function makeVirtualenv(
  host: HostReader,
  args: PipArgs,
  env: string,
  run: PipRun,
  python: string,
): Promise<{ out: string; err: string }> {
  const cmd = shlexSplit(args.virtualenv_command);
  if (cmd[0] !== undefined && !cmd[0].includes("/")) {
    const found = await binPath(host, cmd[0]);
    if (!found) {
      const paths = (await host.run('printf %s "$PATH"')).stdout
        .split(":")
        .concat("/sbin", "/usr/sbin", "/usr/local/sbin");
      throw new PipExit({
        failed: true,
        msg: `Failed to find required executable "${cmd[0]}" in paths: ${[...new Set(paths)].join(":")}`,
      });
    }
    cmd[0] = found;
  }
  if (args.virtualenv_site_packages) cmd.push("--system-site-packages");
  else {
    const help = await runArgv(host, [cmd[0], "--help"], { chdir: run.chdir });
    if (help.rc !== 0)
      throw new PipExit({
        failed: true,
        msg: `Could not get output from ${cmd[0]} --help: ${help.stdout}${help.stderr}`,
      });
    if (help.stdout.trim().split(/\s+/).includes("--no-site-packages")) cmd.push("--no-site-packages");
  }
  const isVenv = ["pyvenv", "-m venv"].some((ex) => args.virtualenv_command.includes(ex));
  if (!isVenv) cmd.push(`-p${args.virtualenv_python ?? python}`);
  else if (args.virtualenv_python)
    throw new PipExit({
      failed: true,
      msg: "virtualenv_python should not be used when using the venv module or pyvenv as virtualenv_command",
    });
  cmd.push(env);
  const r = await runArgv(host, cmd, { chdir: run.chdir, umask: run.umask });
  if (r.rc !== 0) throw pipFailure(cmd, r.stdout, r.stderr);
  return { out: r.stdout, err: r.stderr };
}

/** Ansible's `_get_packages`: `pip list --format=freeze`, else `pip freeze`; the command as one string. */
export async function listPackages(host: HostReader, pip: string[], run: PipRun) {
  const listCmd = [...pip, "list", "--format=freeze"];
  const locale = "LANG=C.UTF-8 LC_ALL=C.UTF-8 LC_MESSAGES=C.UTF-8 ";
  const r = await runArgv(host, listCmd, { chdir: run.chdir }, locale);
  if (r.rc === 0) return { cmd: listCmd.join(" "), out: r.stdout, err: r.stderr };
  const freezeCmd = [...pip, "freeze"];
  const f = await runArgv(host, freezeCmd, { chdir: run.chdir });
  if (f.rc !== 0) throw pipFailure(freezeCmd, f.stdout, f.stderr);
  return { cmd: freezeCmd.join(" "), out: f.stdout, err: f.stderr };
}

/** For each requirement: an installed `name==version` line satisfies it (Ansible's `_is_present`). */
const SATISFIED = [
  "import json, re, sys",
  "try:",
  "    from pkg_resources import Requirement",
  "    parse = Requirement.parse",
  "except ImportError:",
  "    from pip._vendor.packaging.requirements import Requirement as parse",
  "d = json.load(sys.stdin)",
  "canon = lambda n: re.sub(r'[-_.]+', '-', n).lower()",
  "def present(spec):",
  "    try:",
  "        r = parse(spec)",
  "    except Exception:",
  "        return False",
  "    name = canon(getattr(r, 'project_name', None) or r.name)",
  "    for line in d['installed']:",
  "        if '==' not in line:",
  "            continue",
  "        n, v = line.split('==', 1)",
  "        if canon(n) == name and r.specifier.contains(v, prereleases=True):",
  "            return True",
  "    return False",
  "print(json.dumps([present(s) for s in d['specs']]))",
].join("\n");

/** Which of `specs` the installed lines satisfy, decided by `python` on the host. */
export async function satisfied(
  host: HostReader,
  python: string,
  specs: string[],
  installed: string[],
): Promise<boolean[]> {
  const r = await host.run(`${quote([python])} -c ${quote([SATISFIED])}`, {
    stdin: JSON.stringify({ specs, installed }),
  });
  if (r.rc !== 0) throw pipFailure(`${python} -c ...`, r.stdout, r.stderr);
  return JSON.parse(r.stdout) as boolean[];
}

/** The options Ansible types `path`: `~` and `$VAR` expanded on the host, as the module's type conversion does. */
const PATH_OPTIONS = ["virtualenv", "virtualenv_command", "chdir", "executable"] as const;

const EXPAND =
  "import json, os, sys; print(json.dumps([os.path.expanduser(os.path.expandvars(a)) for a in sys.argv[1:]]))";

/** `args` with its path options expanded by `python` on the host (no round trip when none needs it). */
export async function expandPaths(host: HostReader, args: PipArgs, python: string): Promise<PipArgs> {
  const keys = PATH_OPTIONS.filter((k) => /[~$]/.test(args[k] ?? ""));
  if (keys.length === 0) return args;
  const r = await host.run(quote([python, "-c", EXPAND, ...keys.map((k) => args[k] as string)]));
  if (r.rc !== 0)
    throw new PipExit({ failed: true, msg: `expanding ${keys.join(", ")} failed: ${r.stderr.trim()}` });
  const values = JSON.parse(r.stdout) as string[];
  return { ...args, ...Object.fromEntries(keys.map((k, i) => [k, values[i]])) };
}
