/** The items a task (or include) loops over: `loop` as written, a `with_<lookup>` as that lookup gives them. */
import { dirname } from "node:path";
import { TicklessError } from "../errors.js";
import type { Include, Task } from "../playbook/types.js";
import { withLookupItems } from "../template/lookups.js";
import { WITH_LOOKUP_PLUGINS, withLoopItems } from "./with-loops.js";

export function loopItems(
  node: Task | Include,
  rendered: unknown,
  playbookDir: string,
  vars: Record<string, unknown>,
): unknown[] {
  const lookup = node.loopWith;
  if (lookup !== undefined && Object.hasOwn(WITH_LOOKUP_PLUGINS, lookup)) {
    const searchDirs = [...new Set([dirname(node.loc.file), playbookDir])];
    return withLoopItems(lookup as keyof typeof WITH_LOOKUP_PLUGINS, rendered, searchDirs);
  }
  if (lookup !== undefined) {
    const action = node.kind === "include" ? "include" : node.module;
    return withLookupItems(lookup, rendered, vars, node.loc, action);
  }
  if (!Array.isArray(rendered)) {
    throw new TicklessError("TASK", `loop must be a list, got ${typeof rendered}`, {
      location: node.locs.loop ?? node.loc,
      hint: 'write a YAML list or a template that renders to one ("{{ my_list }}")',
    });
  }
  return rendered;
}
