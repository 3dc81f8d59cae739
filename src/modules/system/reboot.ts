/**
 * `reboot`: reboots the host and waits until it is back under a new boot id.
 *
 * The reboot command runs detached (`sh -c 'sleep 1; …' &`) so the SSH command returns before the
 * host goes down. Then, until `reboot_timeout`: the engine's connection is dropped and a new one
 * opened (ModuleContext.reconnect), and `/proc/sys/kernel/random/boot_id` is read; a host that
 * answers under its old boot id has not gone down yet (or never will: the timeout says so). After
 * `post_reboot_delay`, `test_command` must succeed (retried until the same deadline).
 *
 * A state module like any other: the probe reads the boot id, the plan is the reboot while the host
 * still runs the boot the task found, apply reboots and waits. So check mode is the engine's (it
 * reports the plan and runs nothing), and the engine's re-probe after apply, over the new
 * connection, proves the new boot. The boot the task found is remembered per ModuleContext, which
 * the engine makes once per task run (each `until` retry reboots again, as in Ansible).
 */
import { quote } from "shell-quote";
import type { HostReader, HostWriter } from "../../connection/types.js";
import { formatError } from "../../errors.js";
import type { Change, ModuleContext, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { lastProbeError } from "../util/last-error.js";

export interface RebootArgs {
  reboot_command?: string;
  /** Seconds from the reboot command until the host must be back and pass test_command. */
  reboot_timeout?: number;
  /** Seconds to wait after the host is back, before test_command. */
  post_reboot_delay?: number;
  test_command?: string;
  /** Where boot_id is read: `<proc_root>/sys/kernel/random/boot_id` (a fixture tree in tests). */
  proc_root?: string;
  msg?: string;
}

export const DEFAULT_REBOOT_COMMAND =
  "if command -v systemctl >/dev/null 2>&1; then systemctl reboot; else shutdown -r now; fi";

export function rebootSettings(args: RebootArgs) {
  return {
    command: args.reboot_command ?? DEFAULT_REBOOT_COMMAND,
    timeout: args.reboot_timeout ?? 600,
    postDelay: args.post_reboot_delay ?? 0,
    testCommand: args.test_command ?? "whoami",
    bootIdPath: `${(args.proc_root ?? "/proc").replace(/\/+$/, "")}/sys/kernel/random/boot_id`,
  };
}

/** The reboot command, detached so that the command that starts it returns at once. */
export function detachedCommand(command: string): string {
  return `nohup sh -c ${quote([`sleep 1; ${command}`])} >/dev/null 2>&1 &`;
}

/** How often to try while waiting: a twentieth of the timeout, between 0.5 and 5 s. */
function pollMs(timeoutS: number): number {
  return Math.min(5000, Math.max(500, (timeoutS * 1000) / 20));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readBootId(host: HostReader, path: string, timeoutMs: number): Promise<string> {
  const r = await host.run(`cat ${quote([path])}`, { timeoutMs });
  if (r.rc !== 0) throw new Error(`cannot read ${path} (rc ${r.rc}): ${r.stderr.trim()}`);
  const id = r.stdout.trim();
  if (id === "") throw new Error(`${path} is empty`);
  return id;
}

/** One line about an error, without a stack. */
function oneLine(err: unknown): string {
  return formatError(err).split("\n")[0];
}

/** What the probe finds: the boot id now, and the one the task found first. */
export interface RebootState {
  host: string;
  bootId: string;
  /** The boot id at the task's first probe: while it is the current one, the reboot is still wanted. */
  taskStartBoot: string;
}

/** The boot id each task run found first, keyed by its ModuleContext (one per task run). */
const firstBoot = new WeakMap<ModuleContext, string>();

export const rebootModule = defineModule<RebootArgs, RebootState>({
  name: "reboot",
  kind: "state",
  description: "Reboot the host, wait for SSH under a new boot id, then run a test command.",
  args: {
    type: "object",
    properties: {
      reboot_command: { type: "string", minLength: 1 },
      reboot_timeout: { type: "number", exclusiveMinimum: 0 },
      post_reboot_delay: { type: "number", minimum: 0 },
      test_command: { type: "string", minLength: 1 },
      proc_root: { type: "string", pattern: "^/" },
      msg: { type: "string" },
    },
    additionalProperties: false,
  },
  async probe(host, args, ctx) {
    const path = rebootSettings(args).bootIdPath;
    const first = firstBoot.get(ctx);
    const bootId = await readBootId(host, path, 60_000).catch((err) => {
      const when = first === undefined ? "before rebooting" : "after rebooting";
      throw new Error(`cannot read the boot id ${when} ${ctx.host}: ${oneLine(err)}`);
    });
    if (first === undefined) firstBoot.set(ctx, bootId);
    return { host: ctx.host, bootId, taskStartBoot: first ?? bootId };
  },
  plan(_args, s): Change[] {
    if (s.bootId !== s.taskStartBoot) return [];
    return [{ target: `${s.host}:boot`, summary: "reboot", before: `boot id ${s.bootId}` }];
  },
  apply: async (host, args, _changes, current, ctx) =>
    (await rebootAndWait(host, args, current.bootId, ctx)).result,
});

/**
 * Starts the reboot and waits for the new boot and test_command; a failure is a failed result.
 * `host` is the connection that answered under the new boot (absent when the reboot failed).
 */
export async function rebootAndWait(
  host: HostWriter,
  args: RebootArgs,
  before: string,
  ctx: ModuleContext,
): Promise<{ result: ModuleResult; host?: HostWriter }> {
  const s = rebootSettings(args);
  const start = Date.now();
  const deadline = start + s.timeout * 1000;
  const elapsed = () => Math.round((Date.now() - start) / 100) / 10;
  const fail = (msg: string): { result: ModuleResult } => ({
    result: {
      changed: true,
      failed: true,
      rebooted: false,
      elapsed: elapsed(),
      boot_id_before: before,
      msg: args.msg ? `${args.msg}: ${msg}` : msg,
    },
  });

  // The session may die with the host before the exit status arrives: only the boot id counts.
  const started = await host.run(detachedCommand(s.command), { timeoutMs: 30_000 }).catch((err) => ({
    rc: 0,
    stdout: "",
    stderr: oneLine(err),
  }));
  if (started.rc !== 0)
    return fail(`the reboot command could not be started (rc ${started.rc}): ${started.stderr.trim()}`);

  const back = await waitForNewBoot(ctx, host, s.bootIdPath, before, deadline, pollMs(s.timeout));
  if (!back.host) {
    return fail(
      back.sameBoot
        ? `${ctx.host} still answers under boot id ${before} after ${s.timeout} s: \`${s.command}\` did not reboot it`
        : `timed out after ${s.timeout} s waiting for ${ctx.host} to come back after the reboot (last error: ${lastProbeError(back.lastError)})`,
    );
  }
  if (s.postDelay > 0) await sleep(s.postDelay * 1000);
  const test = await runTestCommand(ctx, back.host, s.testCommand, deadline, pollMs(s.timeout));
  if (test)
    return fail(
      `${ctx.host} rebooted but \`${s.testCommand}\` did not succeed within ${s.timeout} s: ${lastProbeError(test)}`,
    );
  return {
    result: { changed: true, rebooted: true, elapsed: elapsed(), boot_id_before: before, boot_id: back.id },
    host: back.host,
  };
}

interface Back {
  host?: HostWriter;
  id?: string;
  /** The host answered, but always under the old boot id. */
  sameBoot: boolean;
  lastError: string;
}

/** Reconnects until the host answers under a boot id other than `before`, or the deadline passes. */
async function waitForNewBoot(
  ctx: ModuleContext,
  current: HostWriter,
  path: string,
  before: string,
  deadline: number,
  poll: number,
): Promise<Back> {
  let sameBoot = false;
  let lastError = "none";
  await sleep(Math.min(1500, Math.max(0, deadline - Date.now())));
  while (Date.now() < deadline) {
    try {
      const host = ctx.reconnect ? await ctx.reconnect() : current;
      const remaining = Math.max(1000, deadline - Date.now());
      const id = await readBootId(host, path, Math.min(30_000, remaining));
      if (id !== before) return { host, id, sameBoot: false, lastError };
      sameBoot = true;
      lastError = `boot id still ${before}`;
    } catch (err) {
      sameBoot = false;
      lastError = oneLine(err);
    }
    await sleep(Math.min(poll, Math.max(0, deadline - Date.now())));
  }
  return { sameBoot, lastError };
}

/** Runs test_command until it exits 0; returns why it did not by the deadline, or undefined. */
async function runTestCommand(
  ctx: ModuleContext,
  first: HostReader,
  command: string,
  deadline: number,
  poll: number,
): Promise<string | undefined> {
  let host = first;
  let why = "not run";
  do {
    try {
      const r = await host.run(command, {
        timeoutMs: Math.max(1000, Math.min(60_000, deadline - Date.now())),
      });
      if (r.rc === 0) return undefined;
      why = lastProbeError({ rc: r.rc, stderr: r.stderr });
    } catch (err) {
      why = oneLine(err);
      if (ctx.reconnect) host = await ctx.reconnect().catch(() => host);
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(poll, Math.max(0, deadline - Date.now())));
  } while (Date.now() < deadline);
  return why;
}
