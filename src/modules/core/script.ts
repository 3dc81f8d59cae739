/**
 * `script`: copies a controller-side script (found as `files/NAME`, beside the task, then the
 * playbook's) into a temp directory on the host, runs it there with its arguments (through
 * `executable` when given, from `chdir`), and removes the directory. As ansible-core's action
 * plugin: `creates` / `removes` skip it ("… exists, matching creates option"), the output is
 * returned as the host printed it (not stripped), a non-zero rc fails it ("non-zero return code");
 * in check mode it is skipped, or changed when `creates` / `removes` let it run.
 */
import path from "node:path";
import { quote } from "shell-quote";
import type { HostReader, HostWriter } from "../../connection/types.js";
import type { ModuleContext, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { normalizeGuards, splitCommand } from "./command.js";

export interface ScriptArgs {
  /** The script's name and its arguments, as written (free form). */
  cmd: string;
  creates?: string;
  removes?: string;
  chdir?: string;
  executable?: string;
}

export interface ScriptState {
  createsExists?: boolean;
  removesExists?: boolean;
}

/** Why the script will not run, in Ansible's words, or undefined when it will. */
export function scriptSkip(args: ScriptArgs, state: ScriptState): string | undefined {
  if (args.creates && state.createsExists) return `${args.creates} exists, matching creates option`;
  if (args.removes && state.removesExists === false) {
    return `${args.removes} does not exist, matching removes option`;
  }
  return undefined;
}

/** `test -e` of `creates` / `removes` (no globbing, as the action plugin's remote file check), one round trip. */
async function probeScript(host: HostReader, args: ScriptArgs): Promise<ScriptState> {
  const paths = [args.creates, args.removes].filter((p): p is string => Boolean(p));
  if (paths.length === 0) return {};
  const res = await host.run(paths.map((p) => `test -e ${quote([p])} && echo 1 || echo 0`).join("\n"));
  const answers = res.stdout.trim().split("\n");
  let i = 0;
  const state: ScriptState = {};
  if (args.creates) state.createsExists = answers[i++] === "1";
  if (args.removes) state.removesExists = answers[i++] === "1";
  return state;
}

/** The command line the host runs: the script's name replaced by its uploaded path, as written otherwise. */
export function scriptLine(args: ScriptArgs, uploaded: string): string {
  const written = args.cmd.trim();
  const source = splitCommand(written)[0] ?? "";
  const target = written.split(source).join(uploaded);
  const line = args.executable ? `${args.executable} ${target}` : target;
  return args.chdir ? `cd ${quote([args.chdir])} && ${line}` : line;
}

async function runScript(host: HostWriter, args: ScriptArgs, ctx: ModuleContext): Promise<ModuleResult> {
  if (args.chdir && !args.chdir.startsWith("/")) {
    return { failed: true, msg: `chdir ${args.chdir} must be an absolute path for a Unix-aware remote node` };
  }
  const source = splitCommand(args.cmd.trim())[0] ?? "";
  const content = await ctx.readControllerFile(source);
  const made = await host.run(`mktemp -d "\${TMPDIR:-/tmp}/tickless-script.XXXXXX"`);
  const dir = made.stdout.trim();
  if (made.rc !== 0 || dir === "") {
    return { failed: true, msg: `could not make a temp directory on the host: ${made.stderr.trim()}` };
  }
  const uploaded = `${dir}/${path.basename(source)}`;
  try {
    await host.writeFile(uploaded, content, { mode: "0700" });
    const res = await host.run(scriptLine(args, uploaded));
    const result: ModuleResult = { rc: res.rc, stdout: res.stdout, stderr: res.stderr };
    if (res.rc !== 0) return { ...result, failed: true, msg: "non-zero return code" };
    return result;
  } finally {
    await host.run(`rm -rf ${quote([dir])}`);
  }
}

export const scriptModule = defineModule<ScriptArgs, ScriptState>({
  name: "script",
  aliases: ["ansible.builtin.script"],
  kind: "command",
  description: "Copy a controller-side script to the host and run it there.",
  freeForm: "cmd",
  args: {
    type: "object",
    properties: {
      cmd: { type: "string", minLength: 1 },
      creates: { type: ["string", "boolean", "number"] },
      removes: { type: ["string", "boolean", "number"] },
      chdir: { type: "string" },
      executable: { type: "string" },
    },
    required: ["cmd"],
    additionalProperties: false,
  },
  normalize: normalizeGuards,
  probe: (host, args) => probeScript(host, args),
  plan: (args, state) =>
    scriptSkip(args, state) === undefined ? [{ target: args.cmd, summary: `run script: ${args.cmd}` }] : [],
  apply: (host, args, ctx) => runScript(host, args, ctx),
  report: (args, state) => ({ skipped: true, msg: scriptSkip(args, state) }),
  checkReport: (args) =>
    args.creates || args.removes
      ? { changed: true }
      : { changed: false, skipped: true, msg: "Check mode is not supported for this task." },
});
