/**
 * A command or shell task under `async:` as Ansible runs it: the command becomes a background job
 * (async-job.ts); `poll: 0` returns at once with the job's id, any other poll reads the job every
 * `poll` seconds until it finishes (its result, with the job's fields, and its files removed) or
 * `async` seconds have gone ("async task did not complete within the requested time").
 */
import type { HostWriter } from "../../connection/types.js";
import type { ModuleContext, ModuleResult } from "../types.js";
import {
  DEFAULT_ASYNC_DIR,
  type JobState,
  launchJob,
  newJobId,
  readJob,
  removeJob,
  unfinished,
} from "./async-job.js";
import { commandResult } from "./command.js";

/** The host's async_dir: the task's `ansible_async_dir` (rendered), else Ansible's default. */
export async function asyncDir(ctx: ModuleContext): Promise<string> {
  if (ctx.vars.ansible_async_dir === undefined) return DEFAULT_ASYNC_DIR;
  const dir = await ctx.evaluate("ansible_async_dir");
  return typeof dir === "string" && dir !== "" ? dir : DEFAULT_ASYNC_DIR;
}

/** A job read back as async_status reports it. */
export function jobResult(jid: string, job: JobState): ModuleResult {
  if (job.state === "missing")
    return { ...unfinished(jid, job.path, 1), failed: true, msg: "could not find job" };
  if (job.state === "running") return unfinished(jid, job.path);
  const fields = { ansible_job_id: jid, started: 1, finished: 1, results_file: job.path };
  if (job.state === "timeout") {
    return {
      ...unfinished(jid, job.path, 1),
      failed: true,
      msg: "Timeout exceeded",
      child_pid: job.childPid,
    };
  }
  const micros = Number((job.endNs - job.startNs) / 1000n);
  const startMs = Number(job.startNs / 1_000_000n);
  const res = commandResult(job, job.meta.strip, job.meta.cmd, startMs, micros);
  return { ...fields, ...res, changed: true };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    signal?.addEventListener("abort", stop, { once: true });
  });
}

/** Runs `line` (its `cd` to chdir included) as a job under the context's `async` and `poll`. */
export async function runAsync(
  host: HostWriter,
  line: string,
  args: { strip_empty_ends?: boolean },
  cmd: string | string[],
  ctx: ModuleContext,
  stdin?: string,
): Promise<ModuleResult> {
  const { seconds, poll } = ctx.async ?? { seconds: 0, poll: 0 };
  const dir = await asyncDir(ctx);
  const jid = newJobId();
  const meta = { cmd, strip: args.strip_empty_ends !== false };
  const path = await launchJob(host, dir, jid, seconds, line, meta, stdin);
  if (poll === 0) return { ansible_job_id: jid, started: 1, finished: 0, results_file: path, changed: true };
  let last: ModuleResult = unfinished(jid, path);
  // as ansible-core: sleep poll, read, count poll off the time left, until done or none is left
  for (let left = seconds; left > 0; left -= poll) {
    await sleep(poll * 1000, ctx.signal);
    if (ctx.signal?.aborted) break;
    const job = await readJob(host, dir, jid);
    last = jobResult(jid, job);
    if (job.state === "done" || job.state === "timeout") {
      await removeJob(host, path);
      return last;
    }
    if (job.state === "missing") return last;
  }
  const msg = `async task did not complete within the requested time - ${seconds}s`;
  return { failed: true, changed: false, msg, async_result: last };
}
