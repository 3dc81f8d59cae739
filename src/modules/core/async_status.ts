/**
 * `async_status`: reads a job an `async:` task started (`jid`), as Ansible's: not finished yet
 * (`finished: 0`), its command's result (`finished: 1`), or "could not find job"; `mode: cleanup`
 * removes its files.
 */
import { defineModule } from "../types.js";
import { readJob, removeJob } from "./async-job.js";
import { asyncDir, jobResult } from "./async-run.js";

export interface AsyncStatusArgs {
  jid: string;
  mode?: "status" | "cleanup";
}

export const asyncStatusModule = defineModule<AsyncStatusArgs>({
  name: "async_status",
  kind: "action",
  description: "Read (or clean up) the job of an async task.",
  args: {
    type: "object",
    properties: { jid: { type: "string", minLength: 1 }, mode: { enum: ["status", "cleanup"] } },
    required: ["jid"],
    additionalProperties: false,
  },
  async run(args, ctx, host) {
    const job = await readJob(host, await asyncDir(ctx), args.jid);
    if (args.mode !== "cleanup" || job.state === "missing")
      return { changed: false, ...jobResult(args.jid, job) };
    await removeJob(host, job.path);
    const erased = { ansible_job_id: args.jid, erased: job.path, started: 0, finished: 0 };
    return { ...erased, stdout: "", stderr: "", stdout_lines: [], stderr_lines: [], changed: false };
  },
});
