/**
 * `wait_for`: waits on the host for a TCP port to open, close or drain, or a path to appear
 * (optionally with content matching a Python `search_regex`) or go; or just for `timeout`
 * seconds. Its result and failures are ansible-core's: `state`, `port`, `path`, `search_regex`,
 * `match_groups`, `match_groupdict`, `elapsed` (whole seconds), and "Timeout when waiting for …".
 */
import { setTimeout as sleepMs } from "node:timers/promises";
import { quote } from "shell-quote";
import type { HostReader } from "../../connection/types.js";
import { pathInfo } from "../files/file-result.js";
import type { ModuleContext, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { lastProbeError } from "../util/last-error.js";
import {
  checkCommand,
  matchFields,
  procNetAddress,
  searchRegex,
  type WaitForArgs,
  waitScript,
  waitSettings,
} from "./wait-for-checks.js";

export { checkCommand, type WaitForArgs, waitScript, waitSettings } from "./wait-for-checks.js";

/** Ansible's words for a wait that ran out of time. */
function timeoutMessage(args: WaitForArgs): string {
  const s = waitSettings(args);
  const where = `${s.host}:${args.port}`;
  if (s.state === "drained") return `Timeout when waiting for ${where} to drain`;
  if (s.state === "absent" || s.state === "stopped") {
    return args.port !== undefined
      ? `Timeout when waiting for ${where} to stop.`
      : `Timeout when waiting for ${args.path} to be absent.`;
  }
  if (args.port !== undefined) return `Timeout when waiting for ${where}`;
  return args.search_regex !== undefined
    ? `Timeout when waiting for search string ${args.search_regex} in ${args.path}`
    : `Timeout when waiting for file ${args.path}`;
}

/** Arguments Ansible's module refuses when it runs (it accepts them when the playbook loads). */
function misuse(args: WaitForArgs): string | undefined {
  const s = waitSettings(args);
  if (args.path !== undefined && (s.state === "stopped" || s.state === "drained")) {
    return `state=${s.state} should only be used for checking a port in the wait_for module`;
  }
  if (s.state === "drained" && args.port !== undefined && procNetAddress(s.host) === undefined) {
    return `state=drained: host must be an IPv4 address or localhost in tickless, got ${s.host}`;
  }
  return undefined;
}

/** Whole seconds since `start`, as Python's timedelta.seconds. */
function secondsSince(start: number): number {
  return Math.floor((Date.now() - start) / 1000);
}

/** Reads the file every `sleep` seconds until its bytes match; the match, or undefined at the timeout. */
async function waitForMatch(
  host: HostReader,
  args: WaitForArgs,
  start: number,
  signal?: AbortSignal,
): Promise<RegExpExecArray | undefined> {
  const s = waitSettings(args);
  const regex = searchRegex(args.search_regex ?? "");
  if (s.delay > 0) await sleepMs(s.delay * 1000, undefined, { signal });
  const end = start + s.timeout * 1000;
  while (Date.now() < end) {
    const file = await host.readFile(args.path ?? "");
    const m = file.content === undefined ? null : regex.exec(file.content.toString("latin1"));
    if (m) return m;
    await sleepMs(s.sleep * 1000, undefined, { signal });
  }
  return undefined;
}

/** Runs the wait; undefined when the condition held, else the failure's fields. */
async function wait(
  host: HostReader,
  args: WaitForArgs,
  start: number,
  ctx: ModuleContext,
): Promise<{ match?: RegExpExecArray; failure?: ModuleResult; elapsed: number }> {
  const s = waitSettings(args);
  if (args.path !== undefined && args.search_regex !== undefined && s.state !== "absent") {
    const match = await waitForMatch(host, args, start, ctx.signal);
    const elapsed = secondsSince(start);
    return match ? { match, elapsed } : { failure: { last_error: "no match in the file" }, elapsed };
  }
  const bound = (s.timeout + s.delay + s.connectTimeout + 10) * 1000;
  const res = await host.run(waitScript(args), { timeoutMs: bound });
  const elapsed = secondsSince(start);
  if (res.rc === 0) return { elapsed };
  if (res.rc !== 124) return { failure: { last_error: lastProbeError(res) }, elapsed };
  if (s.state !== "started" && s.state !== "present") return { failure: {}, elapsed };
  // the loop's probe is quiet: run it once more, loud, for why it still fails
  const last = await host.run(`sh -c ${quote([checkCommand(args, true)])}`, { timeoutMs: bound });
  return { failure: { last_error: lastProbeError(last) }, elapsed };
}

export const waitForModule = defineModule<WaitForArgs>({
  name: "wait_for",
  kind: "action",
  description: "Wait on the host for a port or a file (or its content) to reach a state.",
  args: {
    type: "object",
    properties: {
      host: { type: "string", pattern: "^[A-Za-z0-9_.:-]+$" },
      port: { type: "integer", minimum: 1, maximum: 65535 },
      path: { type: "string", minLength: 1 },
      state: { enum: ["started", "stopped", "present", "absent", "drained"] },
      timeout: { type: "number", minimum: 0 },
      delay: { type: "number", minimum: 0 },
      sleep: { type: "number", exclusiveMinimum: 0 },
      connect_timeout: { type: "number", exclusiveMinimum: 0 },
      search_regex: { type: "string" },
      msg: { type: "string" },
    },
    not: { required: ["port", "path"] },
    dependencies: { search_regex: ["path"] },
    additionalProperties: false,
  },
  async run(args, ctx, host): Promise<ModuleResult> {
    const s = waitSettings(args);
    const wrong = misuse(args);
    if (wrong !== undefined) return { failed: true, msg: wrong, elapsed: 0 };
    const start = Date.now();
    const { match, failure, elapsed } = await wait(host, args, start, ctx);
    if (failure) return { ...failure, failed: true, msg: args.msg ?? timeoutMessage(args), elapsed };
    // as AnsibleModule's add_path_info: an existing path's owner, mode, size (and `state` of the path)
    const info = args.path === undefined ? {} : pathInfo(await host.stat(args.path));
    return {
      changed: false,
      state: s.state,
      port: args.port ?? null,
      search_regex: args.search_regex ?? null,
      ...(match ? matchFields(match) : { match_groups: [], match_groupdict: {} }),
      path: args.path ?? null,
      elapsed,
      ...info,
    };
  },
});
