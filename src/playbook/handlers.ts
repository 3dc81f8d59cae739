/** A play's or role's handlers: tasks, and include_tasks whose file runs when they are notified. */
import { ParseError } from "../errors.js";
import { type NormalizeContext, normalizeTaskList } from "./normalize.js";
import type { Handler } from "./types.js";
import type { YamlPath, YamlSource } from "./yaml.js";

export async function normalizeHandlers(
  value: unknown,
  path: YamlPath,
  source: YamlSource,
  ctx: NormalizeContext,
) {
  const nodes = await normalizeTaskList(value, path, source, ctx);
  const handlers: Handler[] = [];
  for (const node of nodes) {
    if (node.kind === "task" || (node.kind === "include" && !node.includeRole)) handlers.push(node);
    else
      ctx.errors.push(
        new ParseError(
          "SCHEMA",
          `a handler must be a task or an include_tasks, not ${node.kind === "block" ? "a block" : "an include_role"}`,
          {
            location: node.loc,
            hint: "write each handler as one task with a name",
          },
        ),
      );
  }
  return handlers;
}
