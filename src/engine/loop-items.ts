/** The items a task (or include) loops over: `loop` as written, a `with_<lookup>` as that lookup gives them. */
import { dirname } from "node:path";
import { TicklessError } from "../errors.js";
import type { Include, Task } from "../playbook/types.js";
import { withLoopItems } from "./with-loops.js";

export function loopItems(node: Task | Include, rendered: unknown, playbookDir: string): unknown[] {
  if (node.loopWith !== undefined) {
    const searchDirs = [...new Set([dirname(node.loc.file), playbookDir])];
    return withLoopItems(node.loopWith, rendered, searchDirs);
  }
  if (!Array.isArray(rendered)) {
    throw new TicklessError("TASK", `loop must be a list, got ${typeof rendered}`, {
      location: node.locs.loop ?? node.loc,
      hint: 'write a YAML list or a template that renders to one ("{{ my_list }}")',
    });
  }
  return rendered;
}
