/** The items a task (or include) loops over: `loop` as written, `with_items` flattened one level (as Ansible). */
import { TicklessError } from "../errors.js";
import type { Include, Task } from "../playbook/types.js";

/** `with_items` was written (and no `loop`, which wins over it). */
function fromWithItems(node: Task | Include): boolean {
  return !("loop" in node.locs) && "with_items" in node.locs;
}

export function loopItems(node: Task | Include, rendered: unknown): unknown[] {
  if (fromWithItems(node)) {
    const list = Array.isArray(rendered) ? rendered : [rendered];
    return list.flatMap((item) => (Array.isArray(item) ? item : [item]));
  }
  if (!Array.isArray(rendered)) {
    throw new TicklessError("TASK", `loop must be a list, got ${typeof rendered}`, {
      location: node.locs.loop ?? node.loc,
      hint: 'write a YAML list or a template that renders to one ("{{ my_list }}")',
    });
  }
  return rendered;
}
