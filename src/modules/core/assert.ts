/** `assert`: evaluates conditions (Python truthiness) against the host's variables; fails on the first false one. */
import { truthy } from "../../template/helpers.js";
import type { ModuleResult } from "../types.js";
import { defineModule } from "../types.js";

export interface AssertArgs {
  that: Condition | Condition[];
  fail_msg?: string;
  msg?: string;
  success_msg?: string;
  quiet?: boolean;
}

/** An empty item (`-` alone, or "") holds, as in Ansible's evaluate_conditional. */
type Condition = string | boolean | null;

const CONDITION = { anyOf: [{ type: "string" }, { type: "boolean" }, { type: "null" }] } as const;

export const assertModule = defineModule<AssertArgs>({
  name: "assert",
  kind: "action",
  conditionListArg: "that",
  description: "Check that conditions hold; fail with the first one that does not.",
  args: {
    type: "object",
    properties: {
      that: { anyOf: [CONDITION, { type: "array", items: CONDITION, minItems: 1 }] },
      fail_msg: { type: "string" },
      msg: { type: "string" },
      success_msg: { type: "string" },
      quiet: { type: "boolean" },
    },
    required: ["that"],
    additionalProperties: false,
  },
  async run(args, ctx) {
    const conditions = Array.isArray(args.that) ? args.that : [args.that];
    // shown even without -v unless quiet, failed or not, as Ansible's assert action sets it
    const shown = args.quiet ? {} : { _ansible_verbose_always: true };
    for (const condition of conditions) {
      if (condition === null || condition === "") continue;
      const value = typeof condition === "boolean" ? condition : await ctx.evaluate(condition);
      if (!truthy(value)) {
        const result: ModuleResult = {
          failed: true,
          msg: args.fail_msg ?? args.msg ?? "Assertion failed",
          assertion: condition,
          evaluated_to: value,
          ...shown,
        };
        return result;
      }
    }
    return { msg: args.success_msg ?? "All assertions passed", ...shown };
  },
});
