/** The implicit "Gathering Facts" task: one round trip per host, counted and reported like a task. */
import { ConnectionError, formatError } from "../errors.js";
import { gatherFacts } from "../facts/index.js";
import { inventoryVars } from "../inventory/index.js";
import { evaluateCondition } from "../template/index.js";
import { type PlayContext, rootScope } from "./context.js";
import type { TaskResult } from "./events.js";
import { mapLimit } from "./fork-pool.js";
import { isActive } from "./host-state.js";
import { statusOf } from "./recap-counts.js";
import { loginUser } from "./remote-user.js";
import { hostVars } from "./vars.js";

const TASK = "Gathering Facts";

/** The host's `ansible_python_interpreter` (extra vars, then the inventory), when it is a plain path. */
function pythonInterpreter(run: PlayContext["run"], host: string): string | undefined {
  const value =
    run.extraVars.ansible_python_interpreter ?? inventoryVars(run.inventory, host).ansible_python_interpreter;
  return typeof value === "string" && value !== "" && !value.includes("{{") ? value : undefined;
}

/** The when of the import_playbook that brought the play in (ansible-core puts it on the setup task). */
async function importWhenHolds(pc: PlayContext, host: string): Promise<boolean> {
  const conditions = pc.play.importWhen ?? [];
  if (conditions.length === 0) return true;
  const vars = await hostVars(pc, pc.run.hosts.get(host)!, rootScope(pc.play));
  for (const c of conditions)
    if (!(await evaluateCondition(c, vars, pc.play.locs.when ?? pc.play.loc))) return false;
  return true;
}

/** The play's `remote_user` for this host (facts are gathered over the play's connection). */
async function playUser(pc: PlayContext, host: string): Promise<string | undefined> {
  if (pc.play.remoteUser === undefined) return undefined;
  const vars = await hostVars(pc, pc.run.hosts.get(host)!, rootScope(pc.play));
  return loginUser(pc.play.remoteUser, vars, pc.play.locs.remote_user ?? pc.play.loc);
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
      if (!(await importWhenHolds(pc, host))) {
        result = {
          changed: false,
          failed: false,
          skipped: true,
          skip_reason: "Conditional result was False",
        };
      } else {
        state.facts = await gatherFacts(
          await run.connect(host, await playUser(pc, host)),
          pythonInterpreter(run, host),
        );
        result = { changed: false, failed: false, skipped: false };
      }
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
