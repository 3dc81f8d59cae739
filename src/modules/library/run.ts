/**
 * A user's own Ansible module as a task runs it, the way ansible-playbook does: ansible-core on the
 * controller builds the AnsiballZ payload (python/ansible_payload.py, arguments on its stdin), the
 * payload goes into a private temp directory on the host (mktemp -d: 0700, as the task's become
 * user), the host's Python runs it, the directory is removed, and the JSON it prints is the result
 * (ansible-core's action base: junk around the JSON dropped; none: "MODULE FAILURE").
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { quote } from "shell-quote";
import type { HostWriter } from "../../connection/types.js";
import { packageRoot } from "../../package-root.js";
import type { ModuleContext, ModuleResult, RemoteModule } from "../types.js";

/** Interpreters tried in order when the host sets no `ansible_python_interpreter` (Ansible's discovery on Debian). */
const PYTHONS = ["/usr/bin/python3", "python3", "/usr/bin/python", "python"];

export interface PayloadRequest {
  name: string;
  path: string;
  args: Record<string, unknown>;
  check: boolean;
  diff: boolean;
  no_log: boolean;
  tmpdir: string;
  interpreter: string;
}

/** The payload's bytes from ansible-core; an error names the module, never its arguments. */
export async function buildPayload(python: string, request: PayloadRequest): Promise<Buffer> {
  const script = path.join(packageRoot(), "python", "ansible_payload.py");
  const child = spawn(python, [script], { stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.on("data", (b: Buffer) => err.push(b));
  const done = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
  child.stdin.end(JSON.stringify(request));
  const code = await done;
  if (code !== 0) {
    const why = Buffer.concat(err).toString("utf8").trim().split("\n").pop() ?? "";
    throw new Error(`ansible-core could not build the payload of ${request.name} (${request.path}): ${why}`);
  }
  return Buffer.concat(out);
}

/** ansible-core's _filter_non_json_lines (objects only): from the first line that starts with `{` to the last that ends with `}`. */
export function jsonPart(stdout: string): string | undefined {
  const lines = stdout.split("\n");
  const start = lines.findIndex((l) => l.startsWith("{"));
  if (start < 0) return undefined;
  let end = lines.length - 1;
  while (end > start && !lines[end].trimEnd().endsWith("}")) end--;
  return lines.slice(start, end + 1).join("\n");
}

/** The module's output as ansible-core's _parse_returned_data reads it. */
export function parseModuleOutput(stdout: string, stderr: string, rc: number): ModuleResult {
  const text = jsonPart(stdout);
  let data: unknown;
  try {
    data = text === undefined ? undefined : JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    const result: ModuleResult = { failed: true, module_stdout: stdout, module_stderr: stderr };
    if (stderr.startsWith("Traceback")) result.exception = stderr;
    else if (stdout.startsWith("Traceback")) result.exception = stdout;
    result.msg = "MODULE FAILURE\nSee stdout/stderr for the exact error";
    result.rc = rc;
    return result;
  }
  const { ansible_facts, ...rest } = data as Record<string, unknown>;
  // TaskExecutor: a result without `failed` fails on a non-zero `rc`
  if (!("failed" in rest) && "rc" in rest && rest.rc !== 0 && rest.rc !== "0") rest.failed = true;
  for (const key of Object.keys(rest)) if (key.startsWith("_ansible_")) delete rest[key];
  const result: ModuleResult = { ...rest };
  if (ansible_facts !== null && typeof ansible_facts === "object") {
    result.facts = ansible_facts as Record<string, unknown>;
  }
  return result;
}

/** The command that runs the payload with the host's `ansible_python_interpreter`, else the first Python found. */
function runLine(file: string, interpreter: string | undefined): string {
  if (interpreter !== undefined) return `${quote([interpreter])} ${quote([file])}`;
  const loop = `for p in ${quote(PYTHONS)}; do if command -v "$p" >/dev/null 2>&1; then exec "$p" ${quote([file])}; fi; done`;
  return `${loop}; echo "/usr/bin/python3: not found" >&2; exit 127`;
}

/** A module found in a library directory, run by ansible-core's payload on the host. */
export function libraryModule(name: string, file: string, python: string): RemoteModule {
  return {
    name,
    kind: "remote",
    description: `user module ${file}`,
    args: { type: "object" },
    library: file,
    run: (host, args, ctx, mode) => runOnHost(host, { name, file, python }, args, ctx, mode),
  };
}

async function runOnHost(
  host: HostWriter,
  module: { name: string; file: string; python: string },
  args: Record<string, unknown>,
  ctx: ModuleContext,
  mode: { check: boolean; noLog: boolean },
): Promise<ModuleResult> {
  const written = ctx.vars.ansible_python_interpreter;
  const interpreter = typeof written === "string" && written !== "" ? written : undefined;
  const made = await host.run(`umask 077 && mktemp -d "\${TMPDIR:-/tmp}/tickless-module.XXXXXX"`);
  const dir = made.stdout.trim();
  if (made.rc !== 0 || dir === "") {
    return { failed: true, msg: `could not make a temp directory on the host: ${made.stderr.trim()}` };
  }
  try {
    const payload = await buildPayload(module.python, {
      name: module.name,
      path: module.file,
      args,
      check: mode.check,
      diff: ctx.diff,
      no_log: mode.noLog,
      tmpdir: dir,
      interpreter: interpreter ?? "/usr/bin/python3",
    });
    const file = `${dir}/AnsiballZ_${module.name}.py`;
    await host.writeFile(file, payload, { mode: "0700" });
    const res = await host.run(runLine(file, interpreter));
    return parseModuleOutput(res.stdout, res.stderr, res.rc);
  } finally {
    await host.run(`rm -rf ${quote([dir])}`);
  }
}
