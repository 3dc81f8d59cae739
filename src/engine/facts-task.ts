/** The implicit "Gathering Facts" task: one round trip per host, counted and reported like a task. */
import { ConnectionError, formatError } from "../errors.js";
import { gatherFacts } from "../facts/index.js";
import { inventoryVars } from "../inventory/index.js";
import type { PlayContext } from "./context.js";
import type { TaskResult } from "./events.js";
import { mapLimit } from "./fork-pool.js";
import { isActive } from "./host-state.js";
import { statusOf } from "./recap-counts.js";

const TASK = "Gathering Facts";

/** The host's `ansible_python_interpreter` (extra vars, then the inventory), when it is a plain path. */
function pythonInterpreter(run: PlayContext["run"], host: string): string | undefined {
  const value =
    run.extraVars.ansible_python_interpreter ?? inventoryVars(run.inventory, host).ansible_python_interpreter;
  return typeof value === "string" && value !== "" && !value.includes("{{") ? value : undefined;
}

export async function gatherBatchFacts(pc: PlayContext): Promise<void> {
  const run = pc.run;
  const hosts = pc.batch.filter((h) => isActive(run.hosts.get(h)!));
  if (hosts.length === 0) return;
  run.emit({ type: "task_start", play: pc.play.name, task: TASK, path: "", hosts });
  await mapLimit(hosts, run.forks, async (host) => {
    const state = run.hosts.get(host)!;
    let result: TaskResult;
    try {
      state.facts = await gatherFacts(await run.connect(host), pythonInterpreter(run, host));
      result = { changed: false, failed: false, skipped: false };
    } catch (err) {
      const unreachable = err instanceof ConnectionError;
      result = {
        changed: false,
        failed: true,
        skipped: false,
        msg: formatError(err),
        ...(unreachable ? { unreachable } : {}),
      };
      if (unreachable) state.unreachable = true;
      else state.failed = true;
    }
    const status = statusOf(result);
    run.stats.record(host, status, result, false);
    run.emit({ type: "host_result", play: pc.play.name, task: TASK, host, status, result, diff: false });
  });
  run.emit({ type: "task_end", play: pc.play.name, task: TASK });
}
