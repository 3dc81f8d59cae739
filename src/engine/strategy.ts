/**
 * Strategies. linear: every task runs on all active hosts of the batch before the next task.
 * free: each host walks the play on its own; at most `forks` hosts at once.
 */
import type { PlayContext } from "./context.js";
import { rootScope } from "./context.js";
import { mapLimit } from "./fork-pool.js";
import { flushHandlers } from "./handlers.js";
import { walk } from "./walk.js";

/** pre_tasks → handlers → tasks → handlers → post_tasks → handlers, for one serial batch. */
export async function runPlayBatch(pc: PlayContext): Promise<void> {
  if (pc.play.strategy === "free") {
    await mapLimit(pc.batch, pc.run.forks, (host) => runSections(pc, [host]));
  } else {
    await runSections(pc, pc.batch);
  }
}

async function runSections(pc: PlayContext, hosts: string[]): Promise<void> {
  const scope = rootScope(pc.play);
  // import_playbook's when: on every task of the play, not on its handlers
  const tasksScope = { ...scope, when: [...(pc.play.importWhen ?? []), ...scope.when] };
  for (const section of [pc.play.preTasks, pc.play.tasks, pc.play.postTasks]) {
    if (pc.aborted || pc.batchEnded || pc.run.signal?.aborted) return;
    await walk(pc, section, hosts, tasksScope);
    if (pc.aborted || pc.run.signal?.aborted) return;
    await flushHandlers(pc, hosts, scope);
  }
}
