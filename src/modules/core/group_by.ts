/**
 * `group_by`: puts the host into a group of the run's in-memory inventory (created if missing),
 * a child of `parents` (default `all`), as ansible-core's group_by action and add_dynamic_group:
 * spaces in the names become `-`; changed when the host joins the group or a parent is new.
 */
import { TicklessError } from "../../errors.js";
import { defineModule, type ModuleResult } from "../types.js";

export interface GroupByArgs {
  key: string;
  parents?: string | string[];
}

export const groupByModule = defineModule<GroupByArgs>({
  name: "group_by",
  kind: "action",
  description: "Add the host to a group of the run's inventory, for later plays.",
  args: {
    type: "object",
    properties: {
      key: { type: "string" },
      parents: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
    },
    required: ["key"],
    additionalProperties: false,
  },
  async run(args, ctx): Promise<ModuleResult> {
    if (!ctx.inventory) throw new TicklessError("TASK", "group_by needs the run's inventory");
    const group = args.key.replaceAll(" ", "-");
    const parents = [args.parents ?? ["all"]].flat().map((p) => p.replaceAll(" ", "-"));
    const changed = ctx.inventory.addToGroup(group, parents);
    return { changed, add_group: group, parent_groups: parents };
  },
});
