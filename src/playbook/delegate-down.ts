/**
 * `delegate_to` (and `delegate_facts`) written on a block or an `import_tasks`: as in Ansible, each
 * task inside that does not set its own inherits it. They are put on the tasks when the playbook
 * loads; an `include_tasks` or `include_role` inside, whose tasks are read when it runs, is refused.
 */
import { ParseError } from "../errors.js";
import { optionalBoolean, optionalString } from "./fields.js";
import type { TaskNode } from "./types.js";
import type { YamlPath, YamlSource } from "./yaml.js";

/** The nodes with the delegation of `raw` (a block or an import) put on each task that has none. */
export function delegateDown(
  nodes: TaskNode[],
  raw: Record<string, unknown>,
  path: YamlPath,
  source: YamlSource,
  errors: ParseError[],
): TaskNode[] {
  const to = optionalString(raw.delegate_to);
  const facts = optionalBoolean(raw.delegate_facts);
  if (to === undefined && facts === undefined) return nodes;
  const key = to === undefined ? "delegate_facts" : "delegate_to";
  const visit = (node: TaskNode): void => {
    if (node.kind === "task") {
      if (node.delegateTo === undefined && to !== undefined) node.delegateTo = to;
      if (node.delegateFacts === undefined && facts !== undefined) node.delegateFacts = facts;
    } else if (node.kind === "block") {
      for (const n of [...node.block, ...node.rescue, ...node.always]) visit(n);
    } else {
      errors.push(
        new ParseError("SCHEMA", `${key} on a block or import_tasks that holds an include`, {
          location: source.locate([...path, key], "key"),
          hint: `the included tasks are read when they run: write ${key} on the tasks of the included file`,
        }),
      );
    }
  };
  for (const n of nodes) visit(n);
  return nodes;
}
